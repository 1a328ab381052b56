package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hotserve/hotserve/assets"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// site writes files (name → content) into a new temporary folder.
func site(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// start serves dir over real HTTP on 127.0.0.1 and returns the Server and its base URL.
func start(t *testing.T, dir string, opts Options) (*Server, string) {
	t.Helper()
	if opts.ErrorLog == nil {
		opts.ErrorLog = log.New(io.Discard, "", 0)
	}
	s, err := New(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := httptest.NewUnstartedServer(s)
	ts.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	ts.Start()
	t.Cleanup(func() {
		cancel()
		ts.Close()
		s.Close()
	})
	return s, ts.URL
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, url string, header ...string) response {
	t.Helper()
	return do(t, http.MethodGet, url, header...)
}

func do(t *testing.T, method, url string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// raw sends target exactly as given in the request line, as curl
// --path-as-is does, and returns the response.
func raw(t *testing.T, base, target string) response {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

const page = "<!doctype html>\n<html><head><title>t</title></head><body><p>hi</p></body></html>\n"

// uninject removes the one injected tag, or fails.
func uninject(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `<script src="/__hotserve/client.js"`)
	if i < 0 {
		t.Fatalf("no script tag in %q", body)
	}
	j := strings.Index(body[i:], "</script>")
	rest := body[i+j+len("</script>"):]
	if strings.Contains(rest, "/__hotserve/client.js") {
		t.Fatalf("two script tags in %q", body)
	}
	return body[:i] + rest
}

func TestIndexPages(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page, "sub/index.html": page, "empty/a.txt": "a"})
	_, base := start(t, dir, Options{})
	for _, tc := range []struct {
		name, path string
		status     int
		location   string
	}{
		{"the root serves index.html", "/", 200, ""},
		{"index.html answers itself without a redirect", "/index.html", 200, ""},
		{"a folder with a slash serves its index.html", "/sub/", 200, ""},
		{"a folder without a slash redirects relatively", "/sub", 301, "./sub/"},
		{"the query string survives the redirect", "/sub?x=1", 301, "./sub/?x=1"},
		{"a missing file is not found", "/nope.html", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, base+tc.path)
			if r.status != tc.status {
				t.Fatalf("got status %d, want %d", r.status, tc.status)
			}
			if got := r.header.Get("Location"); got != tc.location {
				t.Errorf("got Location %q, want %q", got, tc.location)
			}
			if tc.status == 200 && uninject(t, r.body) != page {
				t.Errorf("got body %q, want the page plus the tag", r.body)
			}
		})
	}
}

func TestListingEscapesNames(t *testing.T) {
	dir := site(t, map[string]string{"d/<b>&x.txt": "x", "d/.secret": "s", "d/sub/a": "a"})
	_, base := start(t, dir, Options{})
	r := get(t, base+"/d/")
	if r.status != 200 {
		t.Fatalf("got status %d, want 200", r.status)
	}
	if strings.Contains(r.body, "<b>") {
		t.Errorf("listing has an unescaped name: %s", r.body)
	}
	for _, want := range []string{"&lt;b&gt;&amp;x.txt", `href="./sub/"`, assets.ClientPath} {
		if !strings.Contains(r.body, want) {
			t.Errorf("listing lacks %q: %s", want, r.body)
		}
	}
	if strings.Contains(r.body, ".secret") {
		t.Errorf("listing shows a dotfile: %s", r.body)
	}
}

func TestConfinement(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "site")
	os.MkdirAll(filepath.Join(dir, ".well-known"), 0o755)
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(parent, "outside.txt"), []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o644)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(dir, ".env"), []byte("KEY=1"), 0o644)
	os.WriteFile(filepath.Join(dir, ".well-known", "security.txt"), []byte("sec"), 0o644)
	for link, target := range map[string]string{
		"abs-link":        filepath.Join(parent, "outside.txt"),
		"rel-out":         "../outside.txt",
		"dir-out":         "..",
		"loop1":           "loop2",
		"loop2":           "loop1",
		"in-link.txt":     "a.txt",
		"sub/parent-link": "../a.txt",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	_, base := start(t, dir, Options{})
	for _, tc := range []struct {
		name, target string
		status       int
		body         string
	}{
		{"dot-dot cannot leave the folder", "/../outside.txt", 404, ""},
		{"encoded dot-dot cannot leave the folder", "/%2e%2e/outside.txt", 404, ""},
		{"an encoded slash cannot leave the folder", "/..%2foutside.txt", 404, ""},
		{"a deep dot-dot cannot leave the folder", "/sub/../../outside.txt", 404, ""},
		{"an absolute symlink out is not found", "/abs-link", 404, ""},
		{"a relative symlink out is not found", "/rel-out", 404, ""},
		{"a symlinked folder out is not found", "/dir-out/outside.txt", 404, ""},
		{"a symlink loop is not found", "/loop1", 404, ""},
		{"a symlink inside the folder is served", "/in-link.txt", 200, "a"},
		{"a symlink to a sibling is served", "/sub/parent-link", 200, "a"},
		{"a dotfile is not served", "/.env", 404, ""},
		{"a dotfile with a trailing dot segment is not served", "/.env/.", 404, ""},
		{"a dotfile behind a double slash is not served", "//.env", 404, ""},
		{"an encoded dotfile is not served", "/%2eenv", 404, ""},
		{"a dotfile reached through dot-dot is not served", "/sub/../.env", 404, ""},
		{".well-known is served", "/.well-known/security.txt", 200, "sec"},
		{"a NUL byte is refused", "/a.txt%00.html", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := raw(t, base, tc.target)
			if r.status != tc.status {
				t.Fatalf("got status %d, want %d (body %q)", r.status, tc.status, r.body)
			}
			if tc.body != "" && r.body != tc.body {
				t.Errorf("got body %q, want %q", r.body, tc.body)
			}
			if strings.Contains(r.body, "secret") || strings.Contains(r.body, "KEY=") {
				t.Errorf("leaked: %q", r.body)
			}
		})
	}
	t.Run("a protocol-relative path never redirects off this host", func(t *testing.T) {
		// It cleans to "/", which once redirected to "//".
		r := raw(t, base, "//evil.example/%2e%2e")
		if loc := r.header.Get("Location"); r.status != 200 || loc != "" {
			t.Errorf("got %d Location %q, want 200 and none", r.status, loc)
		}
	})
}

func TestHeadersAndValidators(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page, "a.css": "body{}", "img.svg": "<svg xmlns='http://www.w3.org/2000/svg'><head></head></svg>"})
	s, base := start(t, dir, Options{})
	s.Settle(time.UnixMilli(1000))

	html := get(t, base+"/index.html")
	if got := html.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("injected page: got Cache-Control %q, want no-store", got)
	}
	if got := html.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("got Content-Type %q", got)
	}
	if got, want := html.header.Get("Content-Length"), fmt.Sprint(len(html.body)); got != want {
		t.Errorf("got Content-Length %s, want %s", got, want)
	}
	if !strings.Contains(html.body, `data-build="1000"`) {
		t.Errorf("page does not carry the build: %q", html.body)
	}
	head := do(t, http.MethodHead, base+"/index.html")
	if head.header.Get("Content-Length") != html.header.Get("Content-Length") || head.body != "" {
		t.Errorf("HEAD: got Content-Length %s and body %q, want %s and none", head.header.Get("Content-Length"), head.body, html.header.Get("Content-Length"))
	}
	rng := get(t, base+"/index.html", "Range", "bytes=10-49")
	if rng.status != http.StatusPartialContent || rng.body != html.body[10:50] {
		t.Errorf("Range: got %d %q, want 206 %q", rng.status, rng.body, html.body[10:50])
	}
	if r := get(t, base+"/index.html", "If-None-Match", html.header.Get("ETag")); r.status != http.StatusNotModified {
		t.Errorf("If-None-Match with the current ETag: got %d, want 304", r.status)
	}
	if html.header.Get("Last-Modified") != "" {
		t.Errorf("Last-Modified is set; its one-second resolution allows stale 304s")
	}
	if r := get(t, base+"/index.html", "If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)); r.status != 200 {
		t.Errorf("If-Modified-Since: got %d, want 200", r.status)
	}

	t.Run("a new build changes the page's validator", func(t *testing.T) {
		s.ReloadChange(Change{Paths: []string{"a.css"}})
		r := get(t, base+"/index.html", "If-None-Match", html.header.Get("ETag"))
		if r.status != 200 || strings.Contains(r.body, `data-build="1000"`) {
			t.Errorf("got %d with body %q, want 200 with a new build", r.status, r.body)
		}
	})

	t.Run("an edit in the same second does not earn a stale 304", func(t *testing.T) {
		css := get(t, base+"/a.css")
		if got := css.header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("file: got Cache-Control %q, want no-cache", got)
		}
		p := filepath.Join(dir, "a.css")
		fi, _ := os.Stat(p)
		os.WriteFile(p, []byte("p  {}"), 0o644) // same size
		os.Chtimes(p, fi.ModTime(), fi.ModTime().Add(time.Millisecond))
		r := get(t, base+"/a.css", "If-None-Match", css.header.Get("ETag"))
		if r.status != 200 || r.body != "p  {}" {
			t.Errorf("got %d %q, want 200 with the new content", r.status, r.body)
		}
	})

	t.Run("SVG is not injected", func(t *testing.T) {
		r := get(t, base+"/img.svg")
		if strings.Contains(r.body, assets.ClientPath) || r.header.Get("Content-Type") != "image/svg+xml" {
			t.Errorf("got %q (%s)", r.body, r.header.Get("Content-Type"))
		}
	})
}

func TestWhenToInject(t *testing.T) {
	frag := "<div>partial</div>\n"
	dir := site(t, map[string]string{"index.html": page, "frag.html": frag, "empty.html": "", "UPPER.HTM": page})
	_, base := start(t, dir, Options{})
	for _, tc := range []struct {
		name, path, dest string
		injected         bool
	}{
		{"a page is injected", "/index.html", "", true},
		{"a navigation is injected", "/index.html", "document", true},
		{"an iframe is injected", "/index.html", "iframe", true},
		{"a fetch is not injected", "/index.html", "empty", false},
		{"a fragment is not injected", "/frag.html", "", false},
		{"a fragment fetched by a script is not injected", "/frag.html", "empty", false},
		{"a fragment the browser navigates to is injected, since it shows it as a page", "/frag.html", "document", true},
		{"a fragment in a frame is injected", "/frag.html", "iframe", true},
		{"an empty page navigated to mid-save is injected", "/empty.html", "document", true},
		{"an upper-case .HTM file is injected", "/UPPER.HTM", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			if tc.dest != "" {
				r = get(t, base+tc.path, "Sec-Fetch-Dest", tc.dest)
			} else {
				r = get(t, base+tc.path)
			}
			if got := strings.Contains(r.body, assets.ClientPath); got != tc.injected {
				t.Errorf("injected: got %v, want %v (%q)", got, tc.injected, r.body)
			}
			if !tc.injected && r.body != page && r.body != frag {
				t.Errorf("not byte-identical: %q", r.body)
			}
			if tc.injected {
				if got := uninject(t, r.body); got != page && got != frag && got != "" {
					t.Errorf("without the tag, got %q: not the file", got)
				}
				if got, want := r.header.Get("Content-Length"), fmt.Sprint(len(r.body)); got != want {
					t.Errorf("got Content-Length %s, want %s", got, want)
				}
			}
		})
	}
}

func TestReservedPrefix(t *testing.T) {
	dir := site(t, map[string]string{"__hotserve/client.js": "alert('shadow')", "__hotserve/worker.js": "alert('shadow')", "index.html": page})
	_, base := start(t, dir, Options{})
	for _, tc := range []struct {
		name, path string
		want       []byte
	}{
		{"the client is the embedded one", "/__hotserve/client.js", assets.ClientJS},
		{"the worker is the embedded one", "/__hotserve/worker.js", assets.WorkerJS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, base+tc.path)
			if r.status != 200 || r.body != string(tc.want) {
				t.Fatalf("got %d %q, want the embedded script", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
				t.Errorf("got Content-Type %q", ct)
			}
			if cc, etag := r.header.Get("Cache-Control"), r.header.Get("ETag"); cc != "no-cache" || etag == "" {
				t.Errorf("got Cache-Control %q and ETag %q, want no-cache and an ETag", cc, etag)
			}
		})
	}
	if r := get(t, base+"/__hotserve/other"); r.status != 404 {
		t.Errorf("unknown reserved path: got %d, want 404", r.status)
	}
}

func TestNoReload(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	_, base := start(t, dir, Options{NoReload: true})
	if r := get(t, base+"/"); r.body != page {
		t.Errorf("got %q, want the page untouched", r.body)
	}
	if r := get(t, base+"/__hotserve/events"); r.status != 404 {
		t.Errorf("events: got %d, want 404", r.status)
	}
}

func TestOptions(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page, "app.js": "x"})
	t.Run("SPA answers extension-less paths with index.html", func(t *testing.T) {
		_, base := start(t, dir, Options{SPA: true})
		if r := get(t, base+"/users/42"); r.status != 200 || uninject(t, r.body) != page {
			t.Errorf("got %d %q", r.status, r.body)
		}
		if r := get(t, base+"/missing.js"); r.status != 404 {
			t.Errorf("missing file with an extension: got %d, want 404", r.status)
		}
		if r := get(t, base+"/.env"); r.status != 404 {
			t.Errorf("dotfile: got %d, want 404", r.status)
		}
	})
	t.Run("headers are set on every response", func(t *testing.T) {
		_, base := start(t, dir, Options{Header: http.Header{"X-Test": {"yes"}}})
		for _, p := range []string{"/", "/app.js", "/missing", "/__hotserve/client.js"} {
			if got := get(t, base+p).header.Get("X-Test"); got != "yes" {
				t.Errorf("%s: got X-Test %q", p, got)
			}
		}
	})
	t.Run("CORS is off by default", func(t *testing.T) {
		_, base := start(t, dir, Options{})
		if got := get(t, base+"/app.js").header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("got %q", got)
		}
		if r := do(t, http.MethodOptions, base+"/app.js"); r.status != http.StatusMethodNotAllowed {
			t.Errorf("OPTIONS: got %d, want 405", r.status)
		}
	})
	t.Run("CORS allows any origin and answers preflights", func(t *testing.T) {
		_, base := start(t, dir, Options{CORS: true})
		if got := get(t, base+"/app.js").header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("got %q", got)
		}
		if r := do(t, http.MethodOptions, base+"/app.js"); r.status != http.StatusNoContent {
			t.Errorf("OPTIONS: got %d, want 204", r.status)
		}
	})
}

func TestFileDeletedAfterListing(t *testing.T) {
	dir := site(t, map[string]string{"d/gone.txt": "x"})
	_, base := start(t, dir, Options{})
	if r := get(t, base+"/d/"); !strings.Contains(r.body, "gone.txt") {
		t.Fatalf("listing lacks the file: %q", r.body)
	}
	os.Remove(filepath.Join(dir, "d", "gone.txt"))
	if r := get(t, base+"/d/gone.txt"); r.status != 404 {
		t.Errorf("got %d, want 404", r.status)
	}
}
