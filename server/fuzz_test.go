package server

import (
	"bufio"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRequestPath sends arbitrary request targets to a folder holding
// secrets and links out of it. Whatever the target, the answer is one of
// 200, 301, 400 or 404, never a panic; a redirect stays on this host; and
// no denied or outside file is ever in the body.
func FuzzRequestPath(f *testing.F) {
	for _, seed := range []string{
		"/", "/index.html", "/sub", "/sub/", "/a.txt?x=1", "/.env", "/.env/.", "//.env", "/%2eenv",
		"/sub/../.env", "/../outside.txt", "/%2e%2e/outside.txt", "/..%2foutside.txt", "/out/secret.txt",
		"/innocent.txt", "/CERT.PEM", "/.well-known/../.git/config", "//evil.example/%2e%2e",
		"/%2F%2Fevil.example/sub", "/\\evil.example", "/%5C%5Cevil/", "/a.txt%00.html", "/loop",
		"http://localhost/.env", "/sub/up/.env", "/sub/%2e%2e/%2e%2e/outside.txt", "*",
		"/%5C%5Cevil", "/a:b", "/sub?%0d%0aLocation:x",
	} {
		f.Add(seed)
	}
	parent := f.TempDir()
	dir := filepath.Join(parent, "site")
	for name, content := range map[string]string{
		"index.html":     page,
		"a.txt":          "a",
		"sub/b.txt":      "b",
		".env":           "DENIED",
		".git/config":    "DENIED",
		"cert.pem":       "DENIED",
		"sub/.npmrc":     "DENIED",
		"\\\\evil/x.txt": "x",
		"a:b/x.txt":      "x",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	os.WriteFile(filepath.Join(parent, "outside.txt"), []byte("OUTSIDE"), 0o644)
	for link, target := range map[string]string{"innocent.txt": ".env", "out": "..", "sub/up": "..", "loop": "loop"} {
		os.Symlink(target, filepath.Join(dir, link))
	}
	s, err := New(dir, Options{ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	here, _ := url.Parse("http://localhost/x/y")

	f.Fuzz(func(t *testing.T, target string) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n")))
		if err != nil {
			return // net/http answers 400 before any handler runs
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		body := w.Body.String()
		switch w.Code {
		case 200, 400, 403, 404:
		case 301:
			// The query is the request's own and cannot change the host;
			// a backslash in the path could, in a browser.
			loc := w.Header().Get("Location")
			locPath, _, _ := strings.Cut(loc, "?")
			u, err := url.Parse(loc)
			if err != nil || !strings.HasPrefix(loc, "./") || strings.Contains(locPath, "\\") || here.ResolveReference(u).Host != here.Host {
				t.Fatalf("%q: redirect to %q", target, loc)
			}
		default:
			t.Fatalf("%q: got status %d", target, w.Code)
		}
		if strings.Contains(body, "DENIED") || strings.Contains(body, "OUTSIDE") {
			t.Fatalf("%q: served %q", target, body)
		}
	})
}
