package inject

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hotserve/hotserve/assets"
)

// testTag is the tag the table cases insert; "{TAG}" in a case's want
// stands for it.
var testTag = assets.Tag(7)

// An already injected page may carry any build.
const oldTag = `<script src="/__hotserve/client.js" data-build="1" async></script>`

// injectCases are the golden cases for Inject. They also seed FuzzInject.
var injectCases = []struct {
	name   string
	in     string
	want   string // with {TAG} standing for testTag
	reason Reason
}{
	{
		name: "upper-case tags are matched without regard to case",
		in:   "<!DOCTYPE HTML><HTML><HEAD><TITLE>x</TITLE></HEAD><BODY></BODY></HTML>",
		want: "<!DOCTYPE HTML><HTML><HEAD>{TAG}<TITLE>x</TITLE></HEAD><BODY></BODY></HTML>",
	},
	{
		name: "mixed-case head is still head",
		in:   "<Html><hEaD>\n<title>x</title>",
		want: "<Html><hEaD>{TAG}\n<title>x</title>",
	},
	{
		name: "a document without head gets the tag after html",
		in:   "<html><body><p>x</p></body></html>",
		want: "<html>{TAG}<body><p>x</p></body></html>",
	},
	{
		name: "a document without body gets the tag after head",
		in:   "<!doctype html><html><head><title>t</title></head></html>",
		want: "<!doctype html><html><head>{TAG}<title>t</title></head></html>",
	},
	{
		name: "a document without html gets the tag after the doctype and the newline",
		in:   "<!DOCTYPE html>\n<title>t</title>\n<p>x",
		want: "<!DOCTYPE html>\n{TAG}<title>t</title>\n<p>x",
	},
	{
		name: "comments that mention head and body are skipped",
		in:   "<!-- <head> --><!DOCTYPE html><!-- </body> -->\n<html><!-- <head> --><head><meta charset=utf-8>",
		want: "<!-- <head> --><!DOCTYPE html><!-- </body> -->\n<html><!-- <head> --><head>{TAG}<meta charset=utf-8>",
	},
	{
		name: "a comment before the first element stays before the tag",
		in:   "<!-- built by hugo -->\n<body><p>x",
		want: "<!-- built by hugo -->\n{TAG}<body><p>x",
	},
	{
		name: "a head in a script string does not count",
		in:   "<!DOCTYPE html><script>var s = '<head>';</script><p>x",
		want: "<!DOCTYPE html>{TAG}<script>var s = '<head>';</script><p>x",
	},
	{
		name: "a closing body tag in a script string is only text",
		in:   "<html><head><script>var s = \"</body>\";</script></head><body></body></html>",
		want: "<html><head>{TAG}<script>var s = \"</body>\";</script></head><body></body></html>",
	},
	{
		name:   "a body tag in a script string does not make a fragment whole",
		in:     "<script>document.write('<body>')</script><p>hi</p>",
		want:   "<script>document.write('<body>')</script><p>hi</p>",
		reason: Fragment,
	},
	{
		name:   "a body tag in a textarea does not count",
		in:     "<textarea><body></textarea>",
		want:   "<textarea><body></textarea>",
		reason: Fragment,
	},
	{
		name: "a UTF-8 byte order mark stays in front of the doctype",
		in:   "\xEF\xBB\xBF<!DOCTYPE html><body>",
		want: "\xEF\xBB\xBF<!DOCTYPE html>{TAG}<body>",
	},
	{
		name: "a UTF-8 byte order mark stays in front of the tag",
		in:   "\xEF\xBB\xBF<body>x",
		want: "\xEF\xBB\xBF{TAG}<body>x",
	},
	{
		name:   "a fragment is unchanged",
		in:     "<div>hi</div>",
		want:   "<div>hi</div>",
		reason: Fragment,
	},
	{
		name:   "a fragment with a header element is unchanged",
		in:     "<header><h1>x</h1></header>",
		want:   "<header><h1>x</h1></header>",
		reason: Fragment,
	},
	{
		name: "Latin-1 bytes are copied as they are",
		in:   "<html><head><title>caf\xE9</title></head><body>\xE9t\xE9</body>",
		want: "<html><head>{TAG}<title>caf\xE9</title></head><body>\xE9t\xE9</body>",
	},
	{
		name: "CRLF line endings are kept",
		in:   "<!DOCTYPE html>\r\n<html>\r\n<head>\r\n<title>x</title>\r\n</head>\r\n",
		want: "<!DOCTYPE html>\r\n<html>\r\n<head>{TAG}\r\n<title>x</title>\r\n</head>\r\n",
	},
	{
		name:   "a head inside a template does not count",
		in:     "<template><head></template><p>x</p>",
		want:   "<template><head></template><p>x</p>",
		reason: Fragment,
	},
	{
		name: "a body after a closed template counts",
		in:   "<p>x<template><body></template><body>",
		want: "{TAG}<p>x<template><body></template><body>",
	},
	{
		name: "header is not head",
		in:   "<!DOCTYPE html><header>nav</header><main>x</main>",
		want: "<!DOCTYPE html>{TAG}<header>nav</header><main>x</main>",
	},
	{
		name: "a header before head fixes the point before it",
		in:   "<html>\n<header>x</header><head>",
		want: "<html>\n{TAG}<header>x</header><head>",
	},
	{
		name:   "an already injected page is unchanged",
		in:     "<!DOCTYPE html><html><head>" + oldTag + "<title>x</title>",
		want:   "<!DOCTYPE html><html><head>" + oldTag + "<title>x</title>",
		reason: AlreadyInjected,
	},
	{
		name:   "an already injected page with whitespace after head is unchanged",
		in:     "<html><head>\n  <!-- c -->\n  " + oldTag + "\n<title>x</title>",
		want:   "<html><head>\n  <!-- c -->\n  " + oldTag + "\n<title>x</title>",
		reason: AlreadyInjected,
	},
	{
		name:   "an already injected page with a whitespace reference after head is unchanged",
		in:     "<html><head>&#9;&NewLine;" + oldTag + "<title>x</title>",
		want:   "<html><head>&#9;&NewLine;" + oldTag + "<title>x</title>",
		reason: AlreadyInjected,
	},
	{
		name:   "an already injected page without head is unchanged",
		in:     "<!DOCTYPE html>" + oldTag + "\n<body>",
		want:   "<!DOCTYPE html>" + oldTag + "\n<body>",
		reason: AlreadyInjected,
	},
	{
		name: "the client script further down does not count as injected",
		in:   "<html><head><title>x</title><script src=\"/__hotserve/client.js\"></script>",
		want: "<html><head>{TAG}<title>x</title><script src=\"/__hotserve/client.js\"></script>",
	},
	{
		name: "a script with another src is not the client",
		in:   "<html><head><script src=\"/app.js\"></script>",
		want: "<html><head>{TAG}<script src=\"/app.js\"></script>",
	},
	{
		name:   "UTF-16 little-endian is unchanged",
		in:     "\xFF\xFE<\x00h\x00t\x00m\x00l\x00>\x00",
		want:   "\xFF\xFE<\x00h\x00t\x00m\x00l\x00>\x00",
		reason: UTF16,
	},
	{
		name:   "UTF-16 big-endian is unchanged",
		in:     "\xFE\xFF\x00<\x00h\x00t\x00m\x00l\x00>",
		want:   "\xFE\xFF\x00<\x00h\x00t\x00m\x00l\x00>",
		reason: UTF16,
	},
	{
		name:   "binary is unchanged",
		in:     "<html><head>\x00\x01\x02",
		want:   "<html><head>\x00\x01\x02",
		reason: Binary,
	},
	{
		name:   "a GIF is unchanged",
		in:     "GIF89a\x01\x00\x01\x00<html>",
		want:   "GIF89a\x01\x00\x01\x00<html>",
		reason: Binary,
	},
	{
		name: "escape and form feed are not binary",
		in:   "<html>\x1B\x0C",
		want: "<html>{TAG}\x1B\x0C",
	},
	{
		name:   "empty input is unchanged",
		in:     "",
		want:   "",
		reason: Fragment,
	},
	{
		name:   "whitespace only is unchanged",
		in:     " \n\t",
		want:   " \n\t",
		reason: Fragment,
	},
	{
		name: "a body-only document gets the tag before body",
		in:   "<body><p>x",
		want: "{TAG}<body><p>x",
	},
	{
		name: "leading whitespace stays before the tag",
		in:   "\n\n<body><p>x",
		want: "\n\n{TAG}<body><p>x",
	},
	{
		name: "text before body gets the tag before it",
		in:   "hello <body>",
		want: "{TAG}hello <body>",
	},
	{
		name: "doctype then body gets the tag right before body",
		in:   "<!DOCTYPE html>\n<body>",
		want: "<!DOCTYPE html>\n{TAG}<body>",
	},
	{
		name: "html with attributes then body gets the tag before body",
		in:   "<html lang=en>\n<body>",
		want: "<html lang=en>\n{TAG}<body>",
	},
	{
		name: "head with attributes gets the tag after it",
		in:   "<html><head data-x=\"1\"><title>x</title>",
		want: "<html><head data-x=\"1\">{TAG}<title>x</title>",
	},
	{
		name: "a self-closing head counts as head",
		in:   "<html><head/><title>x</title>",
		want: "<html><head/>{TAG}<title>x</title>",
	},
	{
		name: "a head after body content does not move the tag",
		in:   "<p>x</p><head>",
		want: "{TAG}<p>x</p><head>",
	},
	{
		name: "a stray end tag first is ignored by the parser, so the tag goes after it",
		in:   "</p><body>",
		want: "</p>{TAG}<body>",
	},
	{
		name: "a half-typed tag at the end after a doctype",
		in:   "<!DOCTYPE html><a",
		want: "<!DOCTYPE html>{TAG}<a",
	},
	{
		name: "a doctype after content proves a whole page",
		in:   "<p>x</p><!DOCTYPE html>",
		want: "{TAG}<p>x</p><!DOCTYPE html>",
	},
	{
		name:   "a doctype inside a template does not count",
		in:     "<template><!DOCTYPE html></template>",
		want:   "<template><!DOCTYPE html></template>",
		reason: Fragment,
	},
	{
		name:   "a cut-off doctype is not a doctype",
		in:     "<!DOCTYPE html",
		want:   "<!DOCTYPE html",
		reason: Fragment,
	},
	{
		name: "a cut-off doctype after html leaves the tag after html",
		in:   "<html><!DOCTYPE",
		want: "<html>{TAG}<!DOCTYPE",
	},
	{
		name: "a lone html tag gets the tag after it",
		in:   "<html>",
		want: "<html>{TAG}",
	},
	{
		name:   "a half-typed html tag is not html",
		in:     "<html",
		want:   "<html",
		reason: Fragment,
	},
	{
		name: "a comment after the doctype stays a child of the document",
		in:   "<!DOCTYPE html>\n<!-- build 1 -->\n<title>x</title>",
		want: "<!DOCTYPE html>\n<!-- build 1 -->\n{TAG}<title>x</title>",
	},
	{
		name: "comments and whitespace after html stay children of html",
		in:   "<html>\n<!-- c -->\n<title>x</title>",
		want: "<html>\n<!-- c -->\n{TAG}<title>x</title>",
	},
	{
		name: "a doctype and comments only get the tag at the end",
		in:   "<!DOCTYPE html>\n<!-- a -->\n<!-- b -->\n",
		want: "<!DOCTYPE html>\n<!-- a -->\n<!-- b -->\n{TAG}",
	},
	{
		name:   "a comment-only file puts the fragment point at its end",
		in:     "<!-- a -->\n<!-- b -->",
		want:   "<!-- a -->\n<!-- b -->",
		reason: Fragment,
	},
	{
		name: "a comment cut off by the end gets the tag before it",
		in:   "<!DOCTYPE html>\n<!-- a -->\n<!-- not closed",
		want: "<!DOCTYPE html>\n<!-- a -->\n{TAG}<!-- not closed",
	},
	{
		name: "a comment that only looks closed gets the tag before it",
		in:   "<!DOCTYPE html><!--!>",
		want: "<!DOCTYPE html>{TAG}<!--!>",
	},
	{
		name: "abrupt comments are closed",
		in:   "<!DOCTYPE html><!--><!--->",
		want: "<!DOCTYPE html><!--><!--->{TAG}",
	},
	{
		name: "bogus comments are comments",
		in:   "<?xml version=\"1.0\"?>\n<!DOCTYPE html>\n<!x>\n</ x>\n<p>",
		want: "<?xml version=\"1.0\"?>\n<!DOCTYPE html>\n<!x>\n</ x>\n{TAG}<p>",
	},
	{
		name: "text after the doctype keeps its leading whitespace before the tag",
		in:   "<!DOCTYPE html>\n  hello <p>",
		want: "<!DOCTYPE html>\n  {TAG}hello <p>",
	},
	{
		name: "stray end tags before html are passed",
		in:   "<!DOCTYPE html>\n</div>\n<html lang=en>\n</p>\n<body>",
		want: "<!DOCTYPE html>\n</div>\n<html lang=en>\n</p>\n{TAG}<body>",
	},
	{
		name: "end tags that open the head are not passed",
		in:   "<!DOCTYPE html>\n</br>\n<p>",
		want: "<!DOCTYPE html>\n{TAG}</br>\n<p>",
	},
	{
		name: "a second html tag is passed",
		in:   "<html lang=en>\n<html class=x>\n<body>",
		want: "<html lang=en>\n<html class=x>\n{TAG}<body>",
	},
	{
		name: "a frameset document gets the tag before the frameset",
		in:   "<!DOCTYPE html>\n<frameset cols=\"50%,50%\"><frame src=a></frameset>",
		want: "<!DOCTYPE html>\n{TAG}<frameset cols=\"50%,50%\"><frame src=a></frameset>",
	},
	{
		name: "a NUL byte does not make a page binary",
		in:   "<!DOCTYPE html>\n<p>a\x00b",
		want: "<!DOCTYPE html>\n{TAG}<p>a\x00b",
	},
	{
		name: "a NUL before the doctype is content",
		in:   "\x00<!DOCTYPE html>",
		want: "{TAG}\x00<!DOCTYPE html>",
	},
	{
		name: "a BOM, whitespace and a comment before the doctype",
		in:   "\xEF\xBB\xBF\n<!-- c -->\n<!DOCTYPE html>\n<body>",
		want: "\xEF\xBB\xBF\n<!-- c -->\n<!DOCTYPE html>\n{TAG}<body>",
	},
	{
		name: "form feeds and CRs are whitespace",
		in:   "<!DOCTYPE html>\r\n\f\r<svg></svg>",
		want: "<!DOCTYPE html>\r\n\f\r{TAG}<svg></svg>",
	},
}

func TestInject(t *testing.T) {
	for _, tc := range injectCases {
		t.Run(tc.name, func(t *testing.T) {
			want := strings.ReplaceAll(tc.want, "{TAG}", string(testTag))
			var out bytes.Buffer
			injected, err := Inject(&out, strings.NewReader(tc.in), testTag)
			if err != nil {
				t.Fatalf("Inject: %v", err)
			}
			if got := out.String(); got != want {
				t.Errorf("Inject:\n got %q\nwant %q", got, want)
			}
			if wantInjected := tc.reason == None; injected != wantInjected {
				t.Errorf("Inject reported injected=%v, want %v", injected, wantInjected)
			}

			p, err := Find(strings.NewReader(tc.in), testTag)
			if err != nil {
				t.Fatalf("Find: %v", err)
			}
			if p.Reason != tc.reason || p.OK != (tc.reason == None) {
				t.Errorf("Find = %+v, want reason %q", p, tc.reason)
			}
			if p.OK {
				if got := tc.in[:p.Offset] + string(testTag) + tc.in[p.Offset:]; got != want {
					t.Errorf("splice at Find's offset %d:\n got %q\nwant %q", p.Offset, got, want)
				}
			}

			var again bytes.Buffer
			if _, err := Inject(&again, strings.NewReader(want), testTag); err != nil {
				t.Fatalf("Inject again: %v", err)
			}
			if again.String() != want {
				t.Errorf("Inject is not idempotent:\n got %q\nwant %q", again.String(), want)
			}
		})
	}
}

func TestReasonString(t *testing.T) {
	seen := map[string]Reason{}
	for r := None; r <= TooLarge; r++ {
		s := r.String()
		if s == "" || strings.HasPrefix(s, "Reason(") {
			t.Errorf("Reason %d has no phrase: %q", int(r), s)
		}
		if prev, ok := seen[s]; ok {
			t.Errorf("Reasons %d and %d share the phrase %q", int(prev), int(r), s)
		}
		seen[s] = r
	}
	if got, want := Fragment.String(), "no <html>, <head>, <body> or doctype"; got != want {
		t.Errorf("Fragment.String() = %q, want %q", got, want)
	}
	if got, want := Reason(99).String(), "Reason(99)"; got != want {
		t.Errorf("Reason(99).String() = %q, want %q", got, want)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// filler returns n bytes of body markup, so big pages are cheap to build.
func filler(n int) string {
	const line = "<p>Lorem ipsum dolor sit amet, <a href=\"#x\">consectetur</a>.</p>\n"
	return strings.Repeat(line, n/len(line)+1)[:n]
}

func TestFindReadsOnlyTheTop(t *testing.T) {
	const top = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	page := top + filler(10<<20)
	r := &countingReader{r: strings.NewReader(page)}
	p, err := Find(r, testTag)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(strings.Index(top, "<head>") + len("<head>")); !p.OK || p.Offset != want {
		t.Errorf("Find = %+v, want offset %d", p, want)
	}
	if r.n >= 64<<10 {
		t.Errorf("Find read %d bytes of a %d-byte page, want < 64 KiB", r.n, len(page))
	}
}

func TestFindStopsAtMaxScan(t *testing.T) {
	tests := []struct {
		name string
		page string
		want Point
	}{
		{
			name: "a fragment larger than MaxScan is too large",
			page: "<div>" + filler(2*MaxScan),
			want: Point{Reason: TooLarge},
		},
		{
			name: "a body just past MaxScan is not seen",
			page: "<p>x</p>" + filler(MaxScan) + "<body>",
			want: Point{Reason: TooLarge},
		},
		{
			name: "a fragment just under MaxScan is a fragment",
			page: "<div>" + filler(MaxScan-100),
			want: Point{Reason: Fragment},
		},
		{
			name: "a body near the end of the scan still proves the page",
			page: "<p>x</p>" + filler(MaxScan-100) + "<body>" + filler(MaxScan),
			want: Point{Offset: 0, OK: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &countingReader{r: strings.NewReader(tt.page)}
			p, err := Find(r, testTag)
			if err != nil {
				t.Fatal(err)
			}
			if p != tt.want {
				t.Errorf("Find = %+v, want %+v", p, tt.want)
			}
			if r.n > MaxScan {
				t.Errorf("Find read %d bytes, want at most MaxScan (%d)", r.n, MaxScan)
			}
		})
	}
}

func TestInjectStreams(t *testing.T) {
	// 4096 is the tokenizer's first buffer size; none of these sizes is a
	// multiple of it, and the body runs well past MaxScan.
	big := filler(3*MaxScan + 4096*7 + 13)
	tests := []struct {
		name   string
		page   string
		offset int // -1 when the page is served unchanged
	}{
		{
			name:   "a page decided at its head is copied around the tag",
			page:   "<!DOCTYPE html><html><head>" + big,
			offset: len("<!DOCTYPE html><html><head>"),
		},
		{
			name:   "a page proven late keeps the early point",
			page:   "<!-- x -->" + filler(MaxScan/2+1) + "<body>" + big,
			offset: len("<!-- x -->"),
		},
		{
			name:   "a large fragment is copied unchanged",
			page:   "<div>" + big,
			offset: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.page
			if tt.offset >= 0 {
				want = tt.page[:tt.offset] + string(testTag) + tt.page[tt.offset:]
			}
			// HalfReader makes reads end at odd places.
			var out bytes.Buffer
			injected, err := Inject(&out, iotest.HalfReader(strings.NewReader(tt.page)), testTag)
			if err != nil {
				t.Fatal(err)
			}
			if injected != (tt.offset >= 0) {
				t.Errorf("injected = %v, want %v", injected, tt.offset >= 0)
			}
			if got := out.String(); got != want {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Errorf("output differs from the splice at byte %d (got %d bytes, want %d)", i, len(got), len(want))
			}
		})
	}
}

var errRead = errors.New("disk on fire")

// failingReader returns data and then err.
func failingReader(data string, err error) io.Reader {
	return io.MultiReader(strings.NewReader(data), iotest.ErrReader(err))
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		data string // read before the error
		err  error
	}{
		{"an error before any byte is returned", "", errRead},
		{"an error within the sniffed prefix is returned", "<div>", errRead},
		{"an unexpected EOF within the sniffed prefix is returned", "<div>", io.ErrUnexpectedEOF},
		{"an error while looking for proof is returned", "<div>" + filler(5000), errRead},
		{"an error while looking past head is returned", "<html><head>\n" + strings.Repeat(" ", 1000), errRead},
		{"an error while skipping leading comments is returned", "<!-- " + filler(1000) + " -->\n", errRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Find(failingReader(tt.data, tt.err), testTag); !errors.Is(err, tt.err) {
				t.Errorf("Find error = %v, want %v", err, tt.err)
			}
			var out bytes.Buffer
			injected, err := Inject(&out, failingReader(tt.data, tt.err), testTag)
			if !errors.Is(err, tt.err) || injected {
				t.Errorf("Inject = %v, %v, want false, %v", injected, err, tt.err)
			}
			if out.Len() != 0 {
				t.Errorf("Inject wrote %d bytes before failing, want none", out.Len())
			}
		})
	}
}

func TestInjectReportsErrorsAfterTheDecision(t *testing.T) {
	head := "<html><head><title>x</title>" + filler(10000)
	var out bytes.Buffer
	injected, err := Inject(&out, failingReader(head, errRead), testTag)
	if !errors.Is(err, errRead) {
		t.Errorf("Inject error = %v, want %v", err, errRead)
	}
	if !injected {
		t.Error("Inject reported no insertion, but the tag was written")
	}
	if want := "<html><head>" + string(testTag) + head[len("<html><head>"):]; out.String() != want {
		t.Errorf("Inject wrote %d bytes, want all %d before the error", out.Len(), len(want))
	}
}

// failingWriter accepts n bytes, then fails.
type failingWriter struct{ n int }

var errWrite = errors.New("client went away")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errWrite
	}
	w.n -= len(p)
	return len(p), nil
}

func TestInjectReturnsWriteErrors(t *testing.T) {
	page := "<html><head>" + filler(100000)
	fragment := "<div>" + filler(100000)
	tests := []struct {
		name string
		page string
		n    int // bytes the writer accepts
	}{
		{"a writer failing at once", page, 0},
		{"a writer failing before the tag", page, 5},
		{"a writer failing in the tag", page, len("<html><head>") + 3},
		{"a writer failing after the tag", page, len("<html><head>") + len(testTag) + 100},
		{"a writer failing in the streamed rest", page, 50000},
		{"a writer failing on an unchanged page", fragment, 0},
		{"a writer failing in the streamed rest of an unchanged page", fragment, 50000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Inject(&failingWriter{n: tt.n}, strings.NewReader(tt.page), testTag); !errors.Is(err, errWrite) {
				t.Errorf("Inject error = %v, want %v", err, errWrite)
			}
		})
	}
}

func TestStreamLetsTheCallerDecide(t *testing.T) {
	const frag = "<li>a</li>"
	var b strings.Builder
	var seen Point
	injected, err := Stream(&b, strings.NewReader(frag), []byte("<T>"), func(p Point) bool { seen = p; return true })
	if err != nil || !injected {
		t.Fatalf("got %v, %v", injected, err)
	}
	if seen.Reason != Fragment || b.String() != "<T>"+frag {
		t.Errorf("got point %+v and %q", seen, b.String())
	}
}
