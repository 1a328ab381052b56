package server

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInjectedPageFollowsEveryEdit(t *testing.T) {
	// Same size, same modification time, different place for the tag: a
	// cache keyed by anything but the bytes would serve a stale point.
	versions := []string{
		"<!doctype html><html><head><title>a</title></head><body>x</body></html>",
		"<!doctype html><html><!--ppppppppp--><head></head><body>y</body></html>",
		"<!doctype html><!--ppppppp--><html><head><title>c</title></head></html>",
	}
	dir := site(t, map[string]string{"index.html": versions[0]})
	_, base := start(t, dir, Options{})
	p := filepath.Join(dir, "index.html")
	mtime := time.Now().Add(-time.Hour)
	for round := range 2 {
		for i, v := range versions {
			if len(v) != len(versions[0]) {
				t.Fatalf("version %d has %d bytes, want %d", i, len(v), len(versions[0]))
			}
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, mtime, mtime)
			r := get(t, base+"/", "Sec-Fetch-Dest", "document")
			if got := uninject(t, r.body); got != v {
				t.Fatalf("round %d, version %d: without the tag got %q, want %q", round, i, got, v)
			}
			if got, want := strings.Index(r.body, "<script"), strings.Index(v, "<head>")+len("<head>"); got != want {
				t.Errorf("round %d, version %d: tag at %d, want %d", round, i, got, want)
			}
		}
	}
}

func TestRangeOfAnInjectedPage(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	_, base := start(t, dir, Options{})
	whole := get(t, base+"/").body
	for _, rng := range []struct{ header, want string }{
		{"bytes=0-0", whole[:1]},
		{"bytes=5-", whole[5:]},
		{"bytes=-7", whole[len(whole)-7:]},
	} {
		r := get(t, base+"/", "Range", rng.header)
		if r.status != 206 || r.body != rng.want {
			t.Errorf("%s: got %d %q, want 206 %q", rng.header, r.status, r.body, rng.want)
		}
	}
}

// bigPage returns a page bigger than maxBuffered, so that it is spliced,
// with before ahead of <html>.
func bigPage(before string) string {
	return "<!doctype html>" + before + "<html><head><title>big</title></head><body>" +
		strings.Repeat("<p>0123456789abcdef</p>\n", maxBuffered/20) + "</body></html>\n"
}

func TestSplicedPageFollowsEveryEdit(t *testing.T) {
	// The point of a spliced page is remembered by its top, so an edit
	// that moves it must miss, and so must a page whose point lies past
	// the top, where an edit below the top moves it.
	far := strings.Repeat(" ", spliceTop)
	versions := []string{
		bigPage(""),
		bigPage("<!--moved-->"),
		// The same top, and the point below it in both.
		bigPage(far + "<!--d-->"),
		bigPage(far + "<!--moved further-->"),
	}
	dir := site(t, map[string]string{"big.html": versions[0]})
	_, base := start(t, dir, Options{})
	p := filepath.Join(dir, "big.html")
	for round := range 2 {
		for i, v := range versions {
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
			r := get(t, base+"/big.html", "Sec-Fetch-Dest", "document")
			if got := uninject(t, r.body); got != v {
				t.Fatalf("round %d, version %d: without the tag the page differs from the file", round, i)
			}
			if got, want := strings.Index(r.body, "<script"), strings.Index(v, "<head>")+len("<head>"); got != want {
				t.Errorf("round %d, version %d: tag at %d, want %d", round, i, got, want)
			}
		}
	}
}

// readFromDiscard keeps nothing, and takes a body the way net/http's
// ResponseWriter does, through ReadFrom, so that serving a spliced page
// allocates here what it allocates under net/http.
type readFromDiscard struct{ discard }

func (d *readFromDiscard) ReadFrom(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }

func TestSplicedPageIsNotTokenizedAgain(t *testing.T) {
	// Tokenizing the top of a 1 MB page on every request cost 17 objects
	// more than sending the file as it is (52 against 35), the
	// tokenizer's 4 KB buffer among them, which made hotserve collect
	// garbage about four times as often as the FileServer under load. A
	// page seen before now costs the splice and its headers (40).
	dir := site(t, map[string]string{"big.html": bigPage("")})
	plain, err := New(dir, Options{NoReload: true, ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	s, _ := start(t, dir, Options{})
	allocs := func(s *Server) float64 {
		req := httptest.NewRequest(http.MethodGet, "/big.html", nil)
		req.Host = "localhost"
		return testing.AllocsPerRun(20, func() {
			w := &readFromDiscard{discard{h: http.Header{}}}
			s.ServeHTTP(w, req)
		})
	}
	base, injected := allocs(plain), allocs(s)
	// The splice itself, the tag's ETag and the page's headers cost a few.
	if injected > base+8 {
		t.Errorf("an injected 1 MB page seen before allocates %.0f objects per request, the same file served as it is %.0f; want at most 8 more", injected, base)
	}
}
