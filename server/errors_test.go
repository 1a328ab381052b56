package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// What a browser sends for a tab's navigation, and for a script tag.
var (
	asNavigation = []string{"Sec-Fetch-Dest", "document", "Sec-Fetch-Mode", "navigate", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}
	asScript     = []string{"Sec-Fetch-Dest", "script", "Sec-Fetch-Mode", "no-cors", "Accept", "*/*"}
)

func TestMissingPage(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page, "app.js": "x"})
	lib := site(t, map[string]string{"lib.css": "p{}"})
	_, base := start(t, dir, Options{Mounts: []Mount{{Path: "/vendor", Dir: lib}}})

	// http.FileServer's answer, byte for byte, is what everything but a
	// navigation keeps getting.
	plain := httptest.NewRecorder()
	http.NotFound(plain, httptest.NewRequest("GET", "/", nil))

	for _, tc := range []struct {
		name, path string
		header     []string
		page       bool
	}{
		{"a tab's navigation gets a page that reloads", "/gone.html", asNavigation, true},
		{"a frame's navigation gets a page that reloads", "/gone.html", []string{"Sec-Fetch-Dest", "iframe"}, true},
		{"a navigation without Sec-Fetch gets it by Accept", "/gone.html", []string{"Accept", "text/html"}, true},
		{"a missing folder's navigation gets it", "/docs/", asNavigation, true},
		{"a missing file in a mount gets it", "/vendor/gone.html", asNavigation, true},
		{"a dotfile's navigation gets it, and nothing more", "/.env", asNavigation, true},
		{"a script gets plain text", "/gone.js", asScript, false},
		{"a fetch() gets plain text", "/gone.html", []string{"Sec-Fetch-Dest", "empty", "Accept", "text/html"}, false},
		{"curl gets plain text", "/gone.html", []string{"Accept", "*/*"}, false},
		{"a script in a mount gets plain text", "/vendor/gone.js", asScript, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, base+tc.path, tc.header...)
			if r.status != 404 {
				t.Fatalf("got %d, want 404", r.status)
			}
			if !tc.page {
				if r.body != plain.Body.String() || r.header.Get("Content-Type") != plain.Header().Get("Content-Type") {
					t.Errorf("got %q (%s), want http.NotFound's %q", r.body, r.header.Get("Content-Type"), plain.Body.String())
				}
				return
			}
			if got := r.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store: the page carries a build", got)
			}
			uninject(t, r.body) // fails without exactly one tag
			if !strings.Contains(r.body, "<code>"+tc.path+"</code>") {
				t.Errorf("the page does not name %s: %q", tc.path, r.body)
			}
		})
	}
	t.Run("HEAD gets the page's headers only", func(t *testing.T) {
		r := do(t, http.MethodHead, base+"/gone.html", asNavigation...)
		if r.status != 404 || r.body != "" || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("got %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
		}
	})
	t.Run("without reload a navigation gets plain text", func(t *testing.T) {
		_, base := start(t, dir, Options{NoReload: true})
		if r := get(t, base+"/gone.html", asNavigation...); r.body != plain.Body.String() {
			t.Errorf("got %q", r.body)
		}
	})
	t.Run("the path is escaped", func(t *testing.T) {
		r := get(t, base+"/%3Cb%3Ex.html", asNavigation...)
		if strings.Contains(r.body, "<b>") || !strings.Contains(r.body, "&lt;b&gt;x.html") {
			t.Errorf("got %q", r.body)
		}
	})
}

func TestRefusedHostPage(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	_, base := start(t, dir, Options{})
	addr := strings.TrimPrefix(base, "http://")
	request := func(host, extra string) response {
		return send(t, base, fmt.Sprintf("GET /index.html HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n", host, extra))
	}
	r := request("myapp.test:"+addr[strings.LastIndexByte(addr, ':')+1:], "Sec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\n")
	if r.status != 403 {
		t.Fatalf("got %d, want 403", r.status)
	}
	if !strings.Contains(r.body, "<code>--allow-host myapp.test</code>") {
		t.Errorf("the page does not name the flag that fixes it: %q", r.body)
	}
	if strings.Contains(r.body, "/__hotserve/") || strings.Contains(r.body, "<p>hi") {
		t.Errorf("the page carries the script or the file: %q", r.body)
	}
	if got := r.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if r := request("evil.example", "Sec-Fetch-Dest: script\r\n"); r.status != 403 || r.body != "403 forbidden\n" {
		t.Errorf("a script got %d %q, want the plain 403", r.status, r.body)
	}
	if r := request("localhost:http", "Sec-Fetch-Dest: document\r\n"); r.status != 400 || r.body != "400 bad request\n" {
		t.Errorf("a malformed host got %d %q, want the plain 400", r.status, r.body)
	}
}

func TestSPARoutes(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page, "app.js": "x"})
	_, base := start(t, dir, Options{SPA: true})
	for _, tc := range []struct {
		name, path string
		header     []string
		index      bool
	}{
		{"a navigation to a route with a dot gets the app", "/users/john.doe", asNavigation, true},
		{"a navigation to a route gets the app", "/users/42", asNavigation, true},
		{"a navigation without Sec-Fetch gets it by Accept", "/users/john.doe", []string{"Accept", "text/html"}, true},
		{"a script for a missing file gets 404", "/app2.js", asScript, false},
		{"a script for an extension-less path gets 404", "/chunk", asScript, false},
		{"a fetch() of a missing API path gets 404", "/api/users", []string{"Sec-Fetch-Dest", "empty", "Accept", "application/json"}, false},
		{"a request asking for no HTML gets 404", "/app2.js", []string{"Accept", "*/*"}, false},
		{"a tool saying nothing gets the app for a route", "/users/42", nil, true},
		{"a tool saying nothing gets 404 for a file", "/app2.js", nil, false},
		{"a navigation to a dotfile gets 404", "/.env", asNavigation, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, base+tc.path, tc.header...)
			if tc.index {
				if r.status != 200 || uninject(t, r.body) != page {
					t.Errorf("got %d %q, want index.html", r.status, r.body)
				}
				return
			}
			if r.status != 404 {
				t.Errorf("got %d, want 404", r.status)
			}
		})
	}
	if r := get(t, base+"/app.js", asScript...); r.status != 200 || r.body != "x" {
		t.Errorf("an existing script: got %d %q", r.status, r.body)
	}
}

func TestMountRoot(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	withIndex := site(t, map[string]string{"index.html": "<!doctype html><title>lib</title><p>lib index", "sub/deep/a.js": "a"})
	withoutIndex := site(t, map[string]string{"lib.css": "p{}", "sub/b.js": "b", "a b.js": "c"})
	_, base := start(t, dir, Options{Mounts: []Mount{{Path: "/vendor", Dir: withIndex}, {Path: "/lib/x", Dir: withoutIndex}}})

	follow := func(t *testing.T, from string) (string, response) {
		t.Helper()
		u := base + from
		for range 5 {
			r := get(t, u, asNavigation...)
			if r.status != http.StatusMovedPermanently {
				return u, r
			}
			next, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			loc, err := next.Parse(r.header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			u = loc.String()
		}
		t.Fatalf("%s: more than 5 redirects", from)
		return "", response{}
	}
	for _, tc := range []struct{ from, want, body string }{
		{"/vendor", "/vendor/", "lib index"},
		{"/vendor/", "/vendor/", "lib index"},
		{"/vendor/sub", "/vendor/sub/", "<title>/vendor/sub/</title>"},
		{"/vendor/sub/deep", "/vendor/sub/deep/", "a.js"},
		{"/lib/x", "/lib/x/", "<title>/lib/x/</title>"},
		{"/lib/x/", "/lib/x/", "lib.css"},
		{"/lib/x/sub", "/lib/x/sub/", "b.js"},
	} {
		t.Run(tc.from, func(t *testing.T) {
			at, r := follow(t, tc.from)
			if at != base+tc.want || r.status != 200 {
				t.Fatalf("ended at %s with %d, want %s with 200", strings.TrimPrefix(at, base), r.status, tc.want)
			}
			if !strings.Contains(r.body, tc.body) {
				t.Errorf("got %q, want it to contain %q", r.body, tc.body)
			}
			// Every link of a listing resolves under the page's URL,
			// prefix included, and to something served.
			for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(r.body, -1) {
				here, _ := url.Parse(at)
				link, err := here.Parse(m[1])
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(link.Path, tc.want) {
					t.Errorf("link %q leads to %s, outside %s", m[1], link.Path, tc.want)
				}
				if r := get(t, link.String()); r.status != 200 && r.status != http.StatusMovedPermanently {
					t.Errorf("link %q: got %d", m[1], r.status)
				}
			}
		})
	}
}
