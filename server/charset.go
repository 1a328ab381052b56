package server

import (
	"bytes"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// prescanLen is how much of a page a browser searches for a <meta>
// declaring its encoding, by the HTML standard's prescan.
const prescanLen = 1024

// setPageType sets the Content-Type of a file that is served as text/html
// (by its name, as http.ServeContent would type it) to pageType's, unless
// one is set already by the user's headers. The answer comes from types,
// for the file name in the folder dir as fi describes it.
func setPageType(h http.Header, types *typeCache, dir, name string, r io.ReaderAt, fi fs.FileInfo) {
	if h.Get("Content-Type") != "" {
		return
	}
	if mt, _, _ := mime.ParseMediaType(mime.TypeByExtension(path.Ext(name))); mt == "text/html" {
		h.Set("Content-Type", types.pageType(dir, name, r, fi))
	}
}

// typeCache remembers pageType's answers for files by name, size and
// modification time in nanoseconds, which the ETag trusts as well: a page
// that declares no charset is read whole to see whether it is UTF-8, which
// would otherwise happen on every request, and finding a <meta charset>
// allocates a tokenizer.
type typeCache struct {
	mu sync.Mutex
	m  map[typeKey]string
}

type typeKey struct {
	dir, name string
	size, mod int64
}

// maxCachedTypes bounds the cache; it is emptied when full.
const maxCachedTypes = 1024

func (c *typeCache) pageType(dir, name string, r io.ReaderAt, fi fs.FileInfo) string {
	k := typeKey{dir, name, fi.Size(), fi.ModTime().UnixNano()}
	c.mu.Lock()
	t, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return t
	}
	t = pageType(r, fi.Size())
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedTypes {
		c.m = make(map[typeKey]string)
	}
	c.m[k] = t
	c.mu.Unlock()
	return t
}

// pageType returns the Content-Type for an HTML page of size bytes read
// from r. It names a charset only when that is known to be right: the
// page's byte order mark, the encoding the page declares in a <meta> within
// the first 1024 bytes (as a browser's prescan finds it), or UTF-8 when the
// page declares nothing and is valid UTF-8. Otherwise the browser is left
// to decide, as it would for the file: saying UTF-8 for a page written in
// Latin-1 or Shift_JIS turns its text into mojibake. A page's own
// declaration is sent along rather than left to the browser because the
// reload script, inserted before it, can push it out of the prescan window.
//
// This follows golang.org/x/net/html/charset's DetermineEncoding, except
// that it never guesses: a page that is not UTF-8 and declares nothing gets
// no charset instead of windows-1252.
func pageType(r io.ReaderAt, size int64) string {
	const typ = "text/html"
	var head [prescanLen]byte
	n, err := r.ReadAt(head[:min(size, prescanLen)], 0)
	if err != nil && err != io.EOF {
		return typ
	}
	if cs := declaredCharset(head[:n]); cs != "" {
		return typ + "; charset=" + cs
	}
	if validUTF8(r, size) {
		return typ + "; charset=utf-8"
	}
	return typ
}

// declaredCharset returns the name of the encoding that the start of a page
// declares with a byte order mark or a <meta> (charset, or http-equiv
// Content-Type with a content attribute), or "" if it declares none that
// browsers know. A <meta> naming UTF-16 means UTF-8 and x-user-defined means
// windows-1252, as the HTML standard says; the "replacement" encoding has no
// name a browser would take in a header, so the page is left to declare it.
func declaredCharset(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return "utf-8"
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return "utf-16le"
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return "utf-16be"
	}
	if indexFold(b, "<meta") < 0 {
		return "" // spares the tokenizer, which allocates, on most pages
	}
	z := html.NewTokenizer(bytes.NewReader(b))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			if name := metaCharset(z); name != "" {
				switch {
				case strings.HasPrefix(name, "utf-16"):
					return "utf-8"
				case name == "x-user-defined":
					return "windows-1252"
				case name == "replacement":
					return ""
				}
				return name
			}
		}
	}
}

// metaCharset returns the encoding a <meta> start tag declares, by its
// canonical name, or "" if the tag is not a <meta> or declares none that
// browsers know. It follows the HTML standard's prescan: only the first of
// repeated attributes counts, a charset attribute needs no http-equiv, and a
// content attribute needs http-equiv="Content-Type".
func metaCharset(z *html.Tokenizer) string {
	tag, more := z.TagName()
	if string(tag) != "meta" {
		return ""
	}
	const (
		unknown  = iota // no charset or content attribute yet
		pragma          // the charset came from content
		noPragma        // the charset came from charset
	)
	need, gotPragma := unknown, false
	var seen []string
	cs, failed := "", false
	for more {
		var key, val []byte
		key, val, more = z.TagAttr()
		k := string(key)
		if slices.Contains(seen, k) {
			continue
		}
		seen = append(seen, k)
		switch k {
		case "http-equiv":
			gotPragma = gotPragma || strings.EqualFold(string(val), "content-type")
		case "content":
			if cs == "" && !failed {
				if label := contentCharset(string(val)); label != "" {
					if _, name := charset.Lookup(label); name != "" {
						cs, need = name, pragma
					}
				}
			}
		case "charset":
			if cs == "" && !failed {
				_, cs = charset.Lookup(string(val))
				failed, need = cs == "", noPragma
			}
		}
	}
	if need == unknown || need == pragma && !gotPragma {
		return ""
	}
	return cs
}

// contentCharset extracts the label from a content attribute such as
// "text/html; charset=iso-8859-1", by the HTML standard's algorithm for
// extracting a character encoding from a meta element.
func contentCharset(s string) string {
	for {
		i := indexFold(s, "charset")
		if i < 0 {
			return ""
		}
		s = strings.TrimLeft(s[i+len("charset"):], "\t\n\f\r ")
		if !strings.HasPrefix(s, "=") {
			continue // "charset" not followed by "=": look further on
		}
		s = strings.TrimLeft(s[1:], "\t\n\f\r ")
		if s == "" {
			return ""
		}
		if q := s[0]; q == '"' || q == '\'' {
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				return ""
			}
			return s[1 : 1+end]
		}
		if end := strings.IndexAny(s, "\t\n\f\r ;"); end >= 0 {
			return s[:end]
		}
		return s
	}
}

// validUTF8 reports whether the size bytes of r are valid UTF-8, reading
// them in chunks of a pooled buffer.
func validUTF8(r io.ReaderAt, size int64) bool {
	buf := getPage(pooledPage)
	defer putPage(buf)
	carry := 0 // the start of a character cut by the previous chunk
	for off := int64(0); off < size; {
		n, err := r.ReadAt(buf[carry:carry+int(min(int64(len(buf)-carry), size-off))], off)
		off += int64(n)
		if n == 0 || err != nil && (err != io.EOF || off < size) {
			return false
		}
		chunk := buf[:carry+n]
		cut := len(chunk)
		if off < size {
			// Hold back a last character that the next chunk completes.
			for i := len(chunk) - 1; i >= 0 && i >= len(chunk)-utf8.UTFMax; i-- {
				if utf8.RuneStart(chunk[i]) {
					if !utf8.FullRune(chunk[i:]) {
						cut = i
					}
					break
				}
			}
		}
		if !utf8.Valid(chunk[:cut]) {
			return false
		}
		carry = copy(buf, chunk[cut:])
	}
	return carry == 0
}

// indexFold is strings.Index ignoring ASCII case in s; sub is lower case.
func indexFold[T string | []byte](s T, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && lower(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
