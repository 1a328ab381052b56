package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// send writes req to the server at base as it is, with the request line and
// headers exactly as given, and returns the response. If the response is an
// event stream, its body is not read.
func send(t *testing.T, base, req string) response {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", req, err)
	}
	var b []byte
	// A stream's body never ends; closing the connection ends it.
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func TestHostHeader(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	_, base := start(t, dir, Options{AllowedHosts: []string{"dev.test", ".corp.test", "Trailing.Test."}})
	port := base[strings.LastIndexByte(base, ':')+1:]
	for _, tc := range []struct {
		name, host string
		status     int
	}{
		{"the address hotserve printed is allowed", "127.0.0.1:" + port, 200},
		{"localhost is allowed", "localhost:" + port, 200},
		{"localhost in capitals is allowed", "LOCALHOST", 200},
		{"localhost with a trailing dot is allowed", "localhost.", 200},
		{"a subdomain of localhost is allowed", "app.localhost:" + port, 200},
		{"a bracketed IPv6 literal is allowed", "[::1]:" + port, 200},
		{"a bracketed IPv6 literal without a port is allowed", "[::1]", 200},
		{"a LAN address is allowed", "192.168.1.20:" + port, 200},
		{"an allowed name is allowed", "dev.test:" + port, 200},
		{"an allowed name is compared without case", "DEV.test", 200},
		{"a subdomain of a leading-dot entry is allowed", "a.b.corp.test", 200},
		{"the name of a leading-dot entry is allowed", "corp.test", 200},
		{"an entry with a trailing dot is allowed", "trailing.test", 200},
		{"a rebinding name is refused", "evil.example", 403},
		{"a rebinding name with our port is refused", "evil.example:" + port, 403},
		{"a name that merely starts with localhost is refused", "localhost.evil.example", 403},
		{"a name that merely ends like an entry is refused", "xcorp.test", 403},
		{"a subdomain of an entry without a leading dot is refused", "a.dev.test", 403},
		{"a name embedding an IP is refused", "127.0.0.1.nip.io", 403},
		{"a short-form IP is refused as a name", "127.1", 403},
		{"an unclosed bracket is malformed", "[::1", 400},
		{"an IPv6 literal without brackets is malformed", "::1", 400},
		{"a bracketed name is malformed", "[localhost]:80", 400},
		{"a non-numeric port is malformed", "localhost:http", 400},
		{"a port without a host is malformed", ":" + port, 400},
		{"two ports are malformed", "localhost:1:2", 400},
		{"a user part is malformed", "evil@localhost", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range []string{"/index.html", "/__hotserve/events", "/__hotserve/client.js"} {
				r := send(t, base, fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, tc.host))
				if r.status != tc.status {
					t.Errorf("%s: got status %d, want %d", target, r.status, tc.status)
				}
				if tc.status != 200 && strings.Contains(r.body, "<p>hi") {
					t.Errorf("%s: refused, but the page was sent: %q", target, r.body)
				}
			}
		})
	}
	t.Run("an absolute-form target is checked by its own host", func(t *testing.T) {
		r := send(t, base, "GET http://evil.example/index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
		if r.status != 403 {
			t.Errorf("got status %d, want 403", r.status)
		}
		r = send(t, base, "GET http://localhost/index.html HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
		if r.status != 200 {
			t.Errorf("with an allowed host in the target: got status %d, want 200", r.status)
		}
	})
	t.Run("HTTP/1.0 without a Host is served", func(t *testing.T) {
		if r := send(t, base, "GET /index.html HTTP/1.0\r\n\r\n"); r.status != 200 {
			t.Errorf("got status %d, want 200", r.status)
		}
	})
}

func TestCrossOriginHeaders(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page, "app.js": "var secret = 1"})
	for _, tc := range []struct {
		name   string
		cors   bool
		header []string
		path   string
		status int
	}{
		{"a plain request is served", false, nil, "/app.js", 200},
		{"another site including a script is refused", false, []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"}, "/app.js", 403},
		{"another site including the client script is refused", false, []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"}, "/__hotserve/client.js", 403},
		{"a link from another site is followed", false, []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}, "/index.html", 200},
		{"a same-site include is served", false, []string{"Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "no-cors"}, "/app.js", 200},
		{"a cross-site CORS request is answered (without ACAO, the browser hides it)", false, []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors"}, "/app.js", 200},
		{"with --cors another site may include a script", true, []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"}, "/app.js", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, base := start(t, dir, Options{CORS: tc.cors})
			r := get(t, base+tc.path, tc.header...)
			if r.status != tc.status {
				t.Fatalf("got status %d, want %d", r.status, tc.status)
			}
			if tc.status == 403 && strings.Contains(r.body, "secret") {
				t.Errorf("refused, but the body was sent: %q", r.body)
			}
		})
	}
	t.Run("every response says nosniff and same-origin, and never allows other origins", func(t *testing.T) {
		_, base := start(t, dir, Options{})
		for _, p := range []string{"/", "/app.js", "/missing", "/.env", "/__hotserve/client.js", "/__hotserve/nope"} {
			r := get(t, base+p, "Origin", "https://evil.example")
			if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s: got X-Content-Type-Options %q", p, got)
			}
			if got := r.header.Get("Cross-Origin-Resource-Policy"); got != "same-origin" {
				t.Errorf("%s: got Cross-Origin-Resource-Policy %q", p, got)
			}
			if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("%s: got Access-Control-Allow-Origin %q", p, got)
			}
		}
	})
	t.Run("with --cors there is no resource policy", func(t *testing.T) {
		_, base := start(t, dir, Options{CORS: true})
		r := get(t, base+"/app.js")
		if got := r.header.Get("Cross-Origin-Resource-Policy"); got != "" {
			t.Errorf("got Cross-Origin-Resource-Policy %q", got)
		}
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("got X-Content-Type-Options %q", got)
		}
	})
}

func TestEventStreamIsSameOrigin(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	for _, cors := range []bool{false, true} {
		s, base := start(t, dir, Options{CORS: cors})
		s.Settle(time.UnixMilli(1))
		hostport := strings.TrimPrefix(base, "http://")
		port := hostport[strings.LastIndexByte(hostport, ':')+1:]
		for _, tc := range []struct {
			name   string
			host   string
			header string
			status int
		}{
			{"a request without Origin is served", hostport, "", 200},
			{"the server's own origin is served", hostport, "Origin: " + base, 200},
			{"the own origin under localhost is served", "localhost:" + port, "Origin: http://localhost:" + port, 200},
			{"a same-origin fetch is served", hostport, "Sec-Fetch-Site: same-origin", 200},
			{"a foreign origin is refused", hostport, "Origin: https://evil.example", 403},
			{"another port on the same host is refused", hostport, "Origin: http://127.0.0.1:1", 403},
			{"the same port under another name is refused", "localhost:" + port, "Origin: " + base, 403},
			{"https for an http server is refused", hostport, "Origin: https://" + hostport, 403},
			{"an opaque origin is refused", hostport, "Origin: null", 403},
			{"a cross-site fetch is refused", hostport, "Sec-Fetch-Site: cross-site", 403},
			{"a same-site fetch from another origin is refused", hostport, "Sec-Fetch-Site: same-site", 403},
		} {
			t.Run(fmt.Sprintf("%s (cors %v)", tc.name, cors), func(t *testing.T) {
				h := ""
				if tc.header != "" {
					h = tc.header + "\r\n"
				}
				r := send(t, base, fmt.Sprintf("GET /__hotserve/events HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n", tc.host, h))
				if r.status != tc.status {
					t.Errorf("got status %d, want %d", r.status, tc.status)
				}
				if tc.status != 200 && strings.Contains(r.body, "build") {
					t.Errorf("refused, but an event was sent: %q", r.body)
				}
			})
		}
	}
}

func TestSecretsAreNeverServed(t *testing.T) {
	dir := site(t, map[string]string{
		"index.html":                "ok",
		"a.txt":                     "a",
		".env":                      "KEY=1",
		".ENV.local":                "KEY=2",
		".git/config":               "KEY=3",
		".npmrc":                    "KEY=4",
		".yarnrc.yml":               "KEY=5",
		"cert.pem":                  "KEY=6",
		"keys/Server.KEY":           "KEY=7",
		"id.p12":                    "KEY=8",
		"id.pfx":                    "KEY=9",
		"ca.cer":                    "KEY=10",
		"ca.der":                    "KEY=11",
		"site.crt":                  "KEY=12",
		".well-known/security.txt":  "contact",
		"secrets.pem/readme.txt":    "KEY=13",
		".well-known/.hidden":       "KEY=14",
		"list/plain.txt":            "p",
		"list/.env":                 "KEY=15",
		"list/x.key":                "KEY=16",
		"list/sub/index.html":       "<p>sub",
		"evil.example/sub/x.txt":    "x",
		"\\evil.example/sub/x.txt":  "x",
		"list/innocent-dir/a.txt":   "a",
		"list/innocent-dir2/a.html": "a",
	})
	for link, target := range map[string]string{
		"innocent.txt":        ".env",
		"nested.txt":          "list/innocent-link",
		"list/innocent-link":  "../.git/config",
		"list/cert-link.txt":  "../cert.pem",
		"list/fine-link.txt":  "plain.txt",
		"list/gitdir":         "../.git",
		"list/escape":         "../..",
		"list/index-is-a-key": "x.key",
		"list/via-dot.txt":    "../.git/../list/plain.txt",
		"in-dir":              "list",
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	_, base := start(t, dir, Options{})
	for _, tc := range []struct {
		name, target string
		status       int
	}{
		{"a dotfile", "/.env", 404},
		{"a dotfile in capitals", "/.ENV.local", 404},
		{"a dotfile with a trailing dot segment", "/.env/.", 404},
		{"a dotfile behind a double slash", "//.env", 404},
		{"an encoded dotfile", "/%2eenv", 404},
		{"an encoded dotfile in capitals", "/%2EENV", 404},
		{"a dotfile reached through dot-dot", "/sub/../.env", 404},
		{"a dotfile reached through .well-known and dot-dot", "/.well-known/../.env", 404},
		{"a file in .git", "/.git/config", 404},
		{".npmrc", "/.npmrc", 404},
		{".yarnrc.yml", "/.yarnrc.yml", 404},
		{"a .pem file", "/cert.pem", 404},
		{"a .pem file asked for in capitals", "/CERT.PEM", 404},
		{"a .key file in capitals", "/keys/Server.KEY", 404},
		{"a .p12 file", "/id.p12", 404},
		{"a .pfx file", "/id.pfx", 404},
		{"a .cer file", "/ca.cer", 404},
		{"a .der file", "/ca.der", 404},
		{"a .crt file", "/site.crt", 404},
		{"a folder named like a key", "/secrets.pem/readme.txt", 404},
		{"a dotfile inside .well-known", "/.well-known/.hidden", 404},
		{"a link to .env", "/innocent.txt", 404},
		{"a link to a link into .git", "/nested.txt", 404},
		{"a link to a key", "/list/cert-link.txt", 404},
		{"a file through a link to .git", "/list/gitdir/config", 404},
		{"a file through a linked folder and a link to a key", "/in-dir/cert-link.txt", 404},
		{"a listing through a link out of the folder", "/list/escape/", 404},
		{"a plain file through a link that passes a dot-folder", "/list/via-dot.txt", 404},
		{".well-known", "/.well-known/security.txt", 200},
		{"a link to a plain file", "/list/fine-link.txt", 200},
		{"a plain file through a linked folder", "/in-dir/plain.txt", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := raw(t, base, tc.target)
			if r.status != tc.status {
				t.Fatalf("got status %d, want %d (body %q)", r.status, tc.status, r.body)
			}
			if strings.Contains(r.body, "KEY=") {
				t.Errorf("leaked: %q", r.body)
			}
		})
	}
	t.Run("a listing hides what is not served", func(t *testing.T) {
		r := get(t, base+"/list/")
		for _, hidden := range []string{".env", "x.key", "cert-link.txt", "innocent-link", "gitdir", "escape", "index-is-a-key", "via-dot.txt"} {
			if strings.Contains(r.body, hidden) {
				t.Errorf("listing shows %s: %s", hidden, r.body)
			}
		}
		for _, shown := range []string{"plain.txt", "fine-link.txt", "sub/"} {
			if !strings.Contains(r.body, shown) {
				t.Errorf("listing lacks %s: %s", shown, r.body)
			}
		}
	})
	t.Run("a listing through a linked folder hides the same", func(t *testing.T) {
		r := get(t, base+"/in-dir/")
		if r.status != 200 || strings.Contains(r.body, "cert-link.txt") || !strings.Contains(r.body, "plain.txt") {
			t.Errorf("got %d %s", r.status, r.body)
		}
	})

	// A redirect is relative and names only the last segment, so no
	// request line can turn it into one to another host.
	for _, tc := range []struct {
		name, target string
		status       int
		location     string
	}{
		{"a protocol-relative path", "//evil.example/%2e%2e", 200, ""},
		{"a protocol-relative path to a folder", "//evil.example/sub", 301, "./sub/"},
		{"encoded slashes to a folder", "/%2F%2Fevil.example/sub", 301, "./sub/"},
		{"a backslash", "/\\evil.example/sub", 301, "./sub/"},
		{"an encoded backslash", "/%5Cevil.example/sub", 301, "./sub/"},
		{"a path-as-is dot-dot", "/x/../\\evil.example/sub", 301, "./sub/"},
	} {
		t.Run(tc.name+" never redirects off this host", func(t *testing.T) {
			r := raw(t, base, tc.target)
			loc := r.header.Get("Location")
			if r.status != tc.status || loc != tc.location {
				t.Fatalf("got %d Location %q, want %d %q", r.status, loc, tc.status, tc.location)
			}
			if loc == "" {
				return
			}
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("got Location %q: %v", loc, err)
			}
			from, _ := url.Parse(base + "/a/b")
			// Browsers read a backslash as a slash in http URLs.
			if got := from.ResolveReference(u); got.Host != from.Host || strings.HasPrefix(loc, "//") || strings.ContainsAny(loc, "\\") {
				t.Errorf("got Location %q, which leads to %s", loc, got)
			}
		})
	}
}

func TestDeniedSegment(t *testing.T) {
	for _, tc := range []struct {
		name    string
		seg     string
		windows bool
		want    bool
	}{
		{name: "a page is served", seg: "index.html"},
		{name: "a dotfile is denied", seg: ".env", want: true},
		{name: ".well-known in any case is served", seg: ".Well-Known"},
		{name: "a name with a dot inside is served", seg: "a.b.c"},
		{name: "a key in capitals is denied", seg: "A.PEM", want: true},
		{name: "a name merely containing pem is served", seg: "pem.html"},
		{name: "on Linux a colon is an ordinary character", seg: "a:b.html"},
		{name: "on Windows an alternate data stream is denied", seg: "env::$DATA", windows: true, want: true},
		{name: "on Windows a short name is denied", seg: "SECRET~1.TXT", windows: true, want: true},
		{name: "on Windows a trailing dot is denied", seg: "cert.pem.", windows: true, want: true},
		{name: "on Windows a trailing space is denied", seg: "cert.pem ", windows: true, want: true},
		{name: "on Windows a tilde without a digit is served", seg: "a~b.html", windows: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := deniedSegment(tc.seg, tc.windows); got != tc.want {
				t.Errorf("got deniedSegment(%q, %v) = %v, want %v", tc.seg, tc.windows, got, tc.want)
			}
		})
	}
}
