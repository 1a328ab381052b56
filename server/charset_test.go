package server

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPagesKeepTheirEncoding serves pages in several encodings over real
// HTTP and checks the charset each is sent with, that each still gets the
// script (or, for UTF-16, is left as it is), and that no byte of it changes.
func TestPagesKeepTheirEncoding(t *testing.T) {
	latin1 := "<!DOCTYPE html>\n<html><head><meta charset=\"iso-8859-1\"><title>caf\xE9</title></head><body>\xE9t\xE9</body></html>\n"
	pad := strings.Repeat("<!-- padding -->\n", 70)                         // over 1024 bytes
	utf8Big := "<!DOCTYPE html>\n<p>" + strings.Repeat("é€😀", 40000) + "\n" // more than maxBuffered, characters cut across chunks
	files := map[string]string{
		"latin1.html":     latin1,
		"cp1252.html":     "<!DOCTYPE html><meta charset=windows-1252><p>\x93quoted\x94",
		"sjis.html":       "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\"></head><body>\x93\xfa\x96\x7b</body></html>",
		"pragmaless.html": "<!DOCTYPE html><meta content=\"text/html; charset=shift_jis\"><p>日本",
		"utf8.html":       "<!DOCTYPE html><p>café ✓",
		"ascii.htm":       "<!DOCTYPE html><p>plain",
		"undeclared.html": "<!DOCTYPE html><p>caf\xE9",
		"late.html":       "<!DOCTYPE html>" + pad + "<meta charset=iso-8859-1><p>caf\xE9",
		"bom.html":        "\xEF\xBB\xBF<!DOCTYPE html><meta charset=iso-8859-1><p>café",
		"utf16.html":      "\xFF\xFE<\x00p\x00>\x00",
		"utf16meta.html":  "<!DOCTYPE html><meta charset=utf-16><p>café",
		"unknown.html":    "<!DOCTYPE html><meta charset=klingon><meta charset=koi8-r><p>\xC1",
		"big.html":        utf8Big,
		"bigcut.html":     utf8Big + "\xE9",
		"part.html":       "<meta charset=iso-8859-1><li>caf\xE9</li>",
	}
	dir := site(t, files)
	_, base := start(t, dir, Options{})
	for _, tc := range []struct {
		name, want string
		injected   bool
	}{
		{"latin1.html", "text/html; charset=windows-1252", true},
		{"cp1252.html", "text/html; charset=windows-1252", true},
		{"sjis.html", "text/html; charset=shift_jis", true},
		{"pragmaless.html", "text/html; charset=utf-8", true}, // content without http-equiv declares nothing; the page is valid UTF-8
		{"utf8.html", "text/html; charset=utf-8", true},
		{"ascii.htm", "text/html; charset=utf-8", true},
		{"undeclared.html", "text/html", true},
		{"late.html", "text/html", true},
		{"bom.html", "text/html; charset=utf-8", true},
		{"utf16.html", "text/html; charset=utf-16le", false},
		{"utf16meta.html", "text/html; charset=utf-8", true},
		{"unknown.html", "text/html; charset=koi8-r", true},
		{"big.html", "text/html; charset=utf-8", true},
		{"bigcut.html", "text/html", true},
	} {
		r := get(t, base+"/"+tc.name, "Sec-Fetch-Dest", "document")
		if got := r.header.Get("Content-Type"); got != tc.want {
			t.Errorf("%s: got Content-Type %q, want %q", tc.name, got, tc.want)
		}
		body := r.body
		if tc.injected {
			body = uninject(t, body)
		}
		if body != files[tc.name] {
			t.Errorf("%s: bytes changed:\n got %q\nwant %q", tc.name, trimmed(body), trimmed(files[tc.name]))
		}
	}

	// A partial fetched by a script is not injected, but keeps its
	// encoding too.
	r := get(t, base+"/part.html", "Sec-Fetch-Dest", "empty")
	if got := r.header.Get("Content-Type"); got != "text/html; charset=windows-1252" || r.body != files["part.html"] {
		t.Errorf("fetched partial: got %q, %q", got, r.body)
	}
	// The user's own Content-Type wins.
	_, base = start(t, dir, Options{Header: http.Header{"Content-Type": {"text/html; charset=euc-jp"}}})
	if got := get(t, base+"/latin1.html").header.Get("Content-Type"); got != "text/html; charset=euc-jp" {
		t.Errorf("with the user's Content-Type: got %q", got)
	}
}

func trimmed(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func TestDeclaredCharset(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<meta charset=utf-8>", "utf-8"},
		{"<META CHARSET=\"ISO-8859-1\">", "windows-1252"},
		{"<meta charset='latin2'>", "iso-8859-2"},
		{"<meta charset=x-user-defined>", "windows-1252"},
		{"<meta charset=utf-16be>", "utf-8"},
		{"<meta charset=iso-2022-kr>", ""}, // the replacement encoding
		{"<meta charset=nonsense><meta charset=euc-kr>", "euc-kr"},
		{"<meta http-equiv=content-type content='text/html;charset=gbk'>", "gbk"},
		{"<meta content='text/html; charset = \"big5\"' http-equiv='Content-Type'>", "big5"},
		{"<meta content='text/html; charset=big5'>", ""},
		{"<meta http-equiv=refresh content='charset=big5'>", ""},
		{"<meta http-equiv=content-type content='text/html; charsetx; charset=koi8-u'>", "koi8-u"},
		{"<meta http-equiv=content-type content='text/html; charset=\"big5'>", ""},
		{"<meta http-equiv=content-type content='charset=gbk' charset=euc-jp>", "gbk"},
		{"<meta charset=euc-jp charset=gbk>", "euc-jp"},
		{"<meta charset=nonsense content='charset=gbk' http-equiv=content-type>", ""},
		{"<!-- <meta charset=gbk> --><p>", ""},
		{"<script>'<meta charset=gbk>'</script>", ""},
		{"<title><meta charset=gbk></title>", ""},
		{"<svg><meta charset=gbk /></svg>", "gbk"},
		{"\xFE\xFF\x00<", "utf-16be"},
		{"<p>no meta here", ""},
	} {
		if got := declaredCharset([]byte(tc.in)); got != tc.want {
			t.Errorf("declaredCharset(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidUTF8(t *testing.T) {
	s := strings.Repeat("aé€😀", pooledPage)
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", true},
		{s, true},
		{s + "\xF0\x9F", false},
		{s[:len(s)-1], false},
		{s + "\xC3\xA9", true},
		{"\xE9" + s, false},
		{s[:pooledPage-1] + "\xFF" + s[pooledPage:], false},
	} {
		if got := validUTF8(bytes.NewReader([]byte(tc.in)), int64(len(tc.in))); got != tc.want {
			t.Errorf("validUTF8(%d bytes ending %q) = %v, want %v", len(tc.in), tc.in[max(0, len(tc.in)-4):], got, tc.want)
		}
	}
}

// A page's charset is remembered by name, size and modification time, so
// that a big page is not read whole on every request; an edit that makes
// the same page invalid UTF-8 must still drop the charset it was sent with.
func TestPageTypeFollowsEdits(t *testing.T) {
	utf8Big := "<!DOCTYPE html>\n<p>" + strings.Repeat("é", maxBuffered) + "\n"
	dir := site(t, map[string]string{"big.html": utf8Big, "small.html": "<p>café"})
	_, base := start(t, dir, Options{})
	for _, c := range []struct{ name, before, after string }{
		{"big.html", utf8Big, utf8Big[:len(utf8Big)-2] + "\xE9\n"},
		{"small.html", "<p>café", "<p>caf\xE9"},
	} {
		for _, as := range [][]string{asNavigation, asScript} {
			if got := get(t, base+"/"+c.name, as...).header.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Fatalf("%s before the edit: Content-Type %q, want UTF-8", c.name, got)
			}
		}
		// Another modification time (and, for the small page, size): a new key.
		if err := os.WriteFile(filepath.Join(dir, c.name), []byte(c.after), 0o644); err != nil {
			t.Fatal(err)
		}
		mod := time.Now().Add(time.Minute)
		if err := os.Chtimes(filepath.Join(dir, c.name), mod, mod); err != nil {
			t.Fatal(err)
		}
		for _, as := range [][]string{asNavigation, asScript} {
			if got := get(t, base+"/"+c.name, as...).header.Get("Content-Type"); got != "text/html" {
				t.Errorf("%s after the edit: Content-Type %q, want no charset", c.name, got)
			}
		}
	}
}
