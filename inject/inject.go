package inject

import (
	"bytes"
	"io"
	"strconv"

	"golang.org/x/net/html"
)

// MaxScan bounds how much of a document Find reads while looking for proof
// that it is a whole document (1 MiB). A page that gives no such proof within
// it is served unchanged (Reason TooLarge), so a huge file that is not HTML
// after all is never buffered whole.
const MaxScan = 1 << 20

// sniffLen is how many leading bytes are checked for binary data; it is the
// length WHATWG MIME sniffing looks at.
const sniffLen = 512

// Point says where the tag goes in a document, or why it does not.
type Point struct {
	// Offset is the byte offset at which to insert the tag. It is
	// meaningful when OK is true, and for a Fragment, where it is the
	// earliest safe place for the tag should the caller know the fragment
	// will be shown as a page after all (a browser navigating to it
	// renders it as one). Otherwise it is zero.
	Offset int64
	// OK is true when the tag should be inserted at Offset.
	OK bool
	// Reason says why the tag should not be inserted; it is None when OK.
	Reason Reason
}

// Reason says why a document does not get the tag.
type Reason int

const (
	// None means the document gets the tag.
	None Reason = iota
	// Fragment means the document has no doctype and no <html>, <head>
	// or <body> start tag, so it is a partial meant to be inserted into
	// another page.
	Fragment
	// AlreadyInjected means the client script tag is already at the
	// insertion point.
	AlreadyInjected
	// UTF16 means the document starts with a UTF-16 byte order mark.
	UTF16
	// Binary means the first 512 bytes hold a control byte that never
	// occurs in text (NUL excepted, which the HTML parser handles).
	Binary
	// TooLarge means no proof of a whole document was found in the first
	// MaxScan bytes.
	TooLarge
)

// String returns a short phrase fit for a log line such as
// "page.html: reload script not injected: <phrase>".
func (r Reason) String() string {
	switch r {
	case None:
		return "insertion point found"
	case Fragment:
		return "no <html>, <head>, <body> or doctype"
	case AlreadyInjected:
		return "client script already present"
	case UTF16:
		return "UTF-16 encoded"
	case Binary:
		return "binary data in the first 512 bytes"
	case TooLarge:
		return "no <html>, <head>, <body> or doctype in the first 1 MiB"
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Find reads the document from r only as far as needed to decide, and
// returns the insertion point for tag. It never reads more than MaxScan
// bytes. The error is non-nil only when reading r fails with an error other
// than io.EOF; it is returned as r returned it.
//
// tag is the element that would be inserted, a <script> with a
// double-quoted src attribute; only its src is read: a <script> start tag
// with the same src right at the insertion point means the page already
// has it (AlreadyInjected).
func Find(r io.Reader, tag []byte) (Point, error) {
	return find(&source{r: r}, tag)
}

// Inject copies src to dst, inserting tag at the point Find would choose,
// and reports whether it inserted. It streams: the bytes Find had to read are
// held in memory (at most MaxScan plus one tokenizer buffer), and after the
// decision the rest of src is copied with io.Copy, never tokenized. If
// reading src fails before the decision, nothing is written to dst.
func Inject(dst io.Writer, src io.Reader, tag []byte) (injected bool, err error) {
	return Stream(dst, src, tag, func(p Point) bool { return p.OK })
}

// Stream is Inject with the decision left to the caller: once the insertion
// point is found, and before anything is written to dst, decide is called
// with it, and the tag is inserted at p.Offset if it returns true. A server
// uses it to place the tag in a fragment it knows the browser shows as a
// page, and to set response headers that depend on the outcome. decide is
// not called if reading src fails first.
func Stream(dst io.Writer, src io.Reader, tag []byte, decide func(p Point) bool) (injected bool, err error) {
	s := &source{r: src, keep: true}
	p, err := find(s, tag)
	if err != nil {
		return false, err
	}
	p.OK = decide(p)
	if p.OK {
		if _, err := dst.Write(s.kept[:p.Offset]); err != nil {
			return false, err
		}
		if _, err := dst.Write(tag); err != nil {
			return false, err
		}
		if _, err := dst.Write(s.kept[p.Offset:]); err != nil {
			return true, err
		}
	} else if _, err := dst.Write(s.kept); err != nil {
		return false, err
	}
	if s.eof {
		return p.OK, nil
	}
	_, err = io.Copy(dst, src)
	return p.OK, err
}

// source is the reader the tokenizer pulls from. It refuses to read past
// MaxScan, and remembers whether it had to, so that a page that ran out of
// budget is not mistaken for one that ended. When keep is set it also keeps
// every byte it read, for Inject to write out: Inject copies these, never the
// tokenizer's Raw bytes, which TagName lower-cases in place.
type source struct {
	r       io.Reader
	n       int64 // bytes read from r so far
	eof     bool  // r reported io.EOF
	limited bool  // a read was refused because n reached MaxScan
	keep    bool
	kept    []byte
}

func (s *source) Read(p []byte) (int, error) {
	if s.eof {
		return 0, io.EOF
	}
	rem := MaxScan - s.n
	if rem <= 0 {
		s.limited = true
		return 0, io.EOF
	}
	if int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.keep {
		s.kept = append(s.kept, p[:n]...)
	}
	if err == io.EOF {
		s.eof = true
	}
	return n, err
}

var (
	utf8BOM    = []byte{0xEF, 0xBB, 0xBF}
	utf16LEBOM = []byte{0xFF, 0xFE}
	utf16BEBOM = []byte{0xFE, 0xFF}
)

// find implements Find on a source, so that Inject can get at the bytes it
// read.
func find(s *source, tag []byte) (Point, error) {
	var head [sniffLen]byte
	n, err := io.ReadFull(s, head[:])
	if err != nil && !s.eof {
		// Not the end of a short page, which ReadFull also reports.
		return Point{}, err
	}
	prefix := head[:n]
	if bytes.HasPrefix(prefix, utf16LEBOM) || bytes.HasPrefix(prefix, utf16BEBOM) {
		return Point{Reason: UTF16}, nil
	}
	for _, c := range prefix {
		if isBinary(c) {
			return Point{Reason: Binary}, nil
		}
	}
	// Browsers drop a UTF-8 byte order mark before tokenizing, so the
	// tokenizer does not see it either; offsets start after it.
	start := 0
	if bytes.HasPrefix(prefix, utf8BOM) {
		start = len(utf8BOM)
	}
	var rest io.Reader = bytes.NewReader(prefix[start:])
	if !s.eof {
		rest = io.MultiReader(rest, s)
	}
	f := finder{z: html.NewTokenizer(rest), off: int64(start), base: int64(start), src: srcOf(tag)}
	p, err := f.run()
	if err != nil {
		return Point{}, err
	}
	if !p.OK && p.Reason == Fragment && s.limited {
		p.Reason = TooLarge
	}
	return p, nil
}

// finder walks the token stream once, in three phases: before the insertion
// point is known, just after it (looking for an earlier injection), and
// after it (looking for proof of a whole document, when none came yet).
type finder struct {
	z     *html.Tokenizer
	src   []byte // the src of the tag to insert; see isClient
	base  int64  // where the tokens start: after a UTF-8 byte order mark
	off   int64  // offset of the end of the current token
	start int64  // offset of the start of the current token
	whole bool   // a doctype, <html>, <head> or <body> was seen outside <template>
	depth int    // <template> nesting; its contents are not the document's

	// For a start, self-closing or end tag: its lower-case name, and
	// whether it has attributes left to read with TagAttr. The name is
	// only valid until the next token.
	name    []byte
	hasAttr bool
}

// next advances to the next token. At the end of the input it returns
// html.ErrorToken and a nil error; a failed read returns that error.
func (f *finder) next() (html.TokenType, error) {
	tt := f.z.Next()
	f.start = f.off
	f.off += int64(len(f.z.Raw()))
	f.name, f.hasAttr = nil, false
	switch tt {
	case html.DoctypeToken:
		// The tokenizer reports a doctype cut off by the end of the
		// input ("<!DOCTYPE html") as a doctype. A tag inserted after it
		// would become part of it, so it counts for nothing, like a
		// comment cut off by the end; nothing can follow it anyway.
		if !bytes.HasSuffix(f.z.Raw(), []byte(">")) {
			tt = html.CommentToken
		}
	case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
		f.name, f.hasAttr = f.z.TagName()
	case html.ErrorToken:
		if err := f.z.Err(); err != io.EOF {
			return tt, err
		}
	}
	return tt, nil
}

// before reports whether the current token may come before the tag, and
// so must: in the parser's first insertion modes ("initial", "before html"
// and "before head") it is dropped or attached where it would not be once
// the tag has opened a <head>. Whitespace is dropped there but would become
// a text node in <head>; comments are children of the document or of <html>
// but would move into <head>; a doctype, the attributes of a second <html>
// and end tags other than </head>, </body>, </html> and </br> are ignored
// the same way in both places, but what follows them would not be.
func (f *finder) before(tt html.TokenType) bool {
	switch tt {
	case html.CommentToken, html.DoctypeToken:
		return true
	case html.TextToken:
		return isSpace(f.z.Raw())
	case html.StartTagToken, html.SelfClosingTagToken:
		return string(f.name) == "html"
	case html.EndTagToken:
		switch string(f.name) {
		case "head", "body", "html", "br":
			return false
		}
		return true
	}
	return false
}

// run tokenizes until the point and the page's wholeness are both decided.
func (f *finder) run() (Point, error) {
	// Phase 1: pass what must come before the tag, until a token decides
	// where the tag goes. at is just after what was passed.
	at := f.base
	var tt html.TokenType
	for {
		var err error
		if tt, err = f.next(); err != nil {
			return Point{}, err
		}
		if tt == html.ErrorToken {
			// Nothing else: the tag goes at the end, or before a
			// comment cut off by it.
			if !f.whole {
				return Point{Offset: at, Reason: Fragment}, nil
			}
			return Point{Offset: at, OK: true}, nil
		}
		if isStart(tt) && string(f.name) == "head" {
			f.whole = true
			return f.afterHead()
		}
		if !f.before(tt) {
			break
		}
		if tt == html.DoctypeToken || isStart(tt) {
			f.whole = true // a doctype or <html>
		}
		if tt != html.CommentToken || closedComment(f.z.Raw()) {
			at = f.off
		}
	}
	// Any other token: the tag goes before it, or, for text, after its
	// leading whitespace, which the parser drops here too. Either way this
	// token is the first one after the insertion point.
	if tt == html.TextToken {
		at = f.start + int64(leadingSpace(f.z.Raw()))
	} else {
		at = f.start
	}
	if f.isClient(tt) {
		return Point{Reason: AlreadyInjected}, nil
	}
	// Phase 3: the point is fixed; read on only for proof.
	for {
		f.prove(tt)
		if f.whole {
			return Point{Offset: at, OK: true}, nil
		}
		var err error
		if tt, err = f.next(); err != nil {
			return Point{}, err
		}
		if tt == html.ErrorToken {
			return Point{Offset: at, Reason: Fragment}, nil
		}
	}
}

// closedComment reports whether raw, a comment token, ends the comment; one
// that runs into the end of the input does not, and a tag after it would be
// part of it. "<!-->" and "<!--->" are closed, "<!--!>" is not.
func closedComment(raw []byte) bool {
	if bytes.HasPrefix(raw, []byte("<!--")) {
		return len(raw) >= len("<!-->") && bytes.HasSuffix(raw, []byte("-->")) ||
			len(raw) >= len("<!----!>") && bytes.HasSuffix(raw, []byte("--!>"))
	}
	// A bogus comment ("<?php ...>", "<!x>", "</ x>") or a doctype cut
	// off by the end.
	return bytes.HasSuffix(raw, []byte(">"))
}

// afterHead is phase 2 for a document with a <head>: the tag goes right
// after it, unless the client script is already the next thing there.
func (f *finder) afterHead() (Point, error) {
	at := f.off
	for {
		tt, err := f.next()
		if err != nil {
			return Point{}, err
		}
		if tt == html.CommentToken || tt == html.TextToken && isSpace(f.z.Raw()) {
			continue // a page saved from a browser may have these
		}
		if f.isClient(tt) {
			return Point{Reason: AlreadyInjected}, nil
		}
		return Point{Offset: at, OK: true}, nil
	}
}

// prove records what the current token says about the document being
// whole. Tags inside <template> contents are tokenized like any other, but
// the browser keeps them out of the document, so they prove nothing.
func (f *finder) prove(tt html.TokenType) {
	switch {
	case tt == html.DoctypeToken:
		f.whole = f.whole || f.depth == 0
	case isStart(tt):
		// Browsers ignore a self-closing flag on these, so <template/>
		// still opens a template.
		switch string(f.name) {
		case "template":
			f.depth++
		case "html", "head", "body":
			f.whole = f.whole || f.depth == 0
		}
	case tt == html.EndTagToken:
		if string(f.name) == "template" && f.depth > 0 {
			f.depth--
		}
	}
}

// isClient reports whether the current token is a <script> start tag whose
// src is the src of the tag to insert. It reads the tag's attributes, so it can be called only
// once per token.
func (f *finder) isClient(tt html.TokenType) bool {
	if !isStart(tt) || string(f.name) != "script" {
		return false
	}
	for more := f.hasAttr; more; {
		var key, val []byte
		key, val, more = f.z.TagAttr()
		if string(key) == "src" && len(f.src) > 0 && bytes.Equal(val, f.src) {
			return true
		}
	}
	f.hasAttr = false
	return false
}

// srcOf returns the value of tag's double-quoted src attribute, or nil.
// The tag is the caller's own element, not a page's markup, so a plain scan
// does; it allocates nothing on the path every page takes.
func srcOf(tag []byte) []byte {
	const attr = ` src="`
	i := bytes.Index(tag, []byte(attr))
	if i < 0 {
		return nil
	}
	v := tag[i+len(attr):]
	end := bytes.IndexByte(v, '"')
	if end < 0 {
		return nil
	}
	return v[:end]
}

// isStart reports whether tt opens an element. Browsers treat <x/> as <x>
// for every element that is not void, so both kinds count.
func isStart(tt html.TokenType) bool {
	return tt == html.StartTagToken || tt == html.SelfClosingTagToken
}

// spaces is HTML whitespace.
const spaces = " \t\n\f\r"

// isSpace reports whether b, the raw bytes of a text token, is empty or
// all whitespace to the parser, character references included.
func isSpace(b []byte) bool { return leadingSpace(b) == len(b) }

// leadingSpace returns how many bytes at the start of raw, the raw bytes of
// a text token, the parser sees as whitespace. A character reference that
// stands for whitespace ("&#9;", "&#x20", "&Tab;", "&NewLine;") counts like
// the character itself: the tokenizer decodes it before the tree builder
// sees it, so "<html>&#9;" is dropped as whitespace too.
func leadingSpace(raw []byte) int {
	i := 0
	for i < len(raw) {
		if bytes.IndexByte([]byte(spaces), raw[i]) >= 0 {
			i++
			continue
		}
		n := spaceRef(raw[i:])
		if n == 0 {
			break
		}
		i += n
	}
	return i
}

// spaceRef returns the length of the character reference that b starts
// with if it decodes to HTML whitespace, else 0. A numeric reference ends at
// its first non-digit, its ';' optional, as the tokenizer reads it; its value
// is whitespace only when it is one of the five whitespace code points (no
// replacement the standard makes yields one).
func spaceRef(b []byte) int {
	for _, name := range []string{"&Tab;", "&NewLine;"} {
		if bytes.HasPrefix(b, []byte(name)) {
			return len(name)
		}
	}
	if !bytes.HasPrefix(b, []byte("&#")) {
		return 0
	}
	i, base := 2, 10
	if i < len(b) && (b[i] == 'x' || b[i] == 'X') {
		i, base = 3, 16
	}
	start, v := i, 0
	for ; i < len(b); i++ {
		d := digit(b[i], base)
		if d < 0 {
			break
		}
		if v < 0x110000 {
			v = v*base + d
		}
	}
	if i == start {
		return 0
	}
	if i < len(b) && b[i] == ';' {
		i++
	}
	switch v {
	case '\t', '\n', '\f', '\r', ' ':
		return i
	}
	return 0
}

// digit returns the value of c as a digit in base 10 or 16, or -1.
func digit(c byte, base int) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case base == 16 && 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case base == 16 && 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// isBinary reports whether c is a binary data byte in the sense of the
// WHATWG MIME Sniffing standard (a control character that plain text does
// not use: everything below 0x20 except TAB, LF, FF, CR and ESC), NUL
// excepted. A browser renders a page sent as text/html whatever bytes it
// holds, and its parser drops or replaces a NUL like any other stray
// character, so a page with a NUL typed into it is still a page; real
// binary formats (images, archives, fonts) hold other control bytes too.
func isBinary(c byte) bool {
	return (0x01 <= c && c <= 0x08) || c == 0x0B || (0x0E <= c && c <= 0x1A) || (0x1C <= c && c <= 0x1F)
}
