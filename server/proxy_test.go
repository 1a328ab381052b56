package server

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"golang.org/x/net/websocket"

	"github.com/hotserve/hotserve/assets"
)

// backend starts h on 127.0.0.1 and returns its URL.
func backend(t *testing.T, h http.Handler) *url.URL {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// proxied starts a Server in front of the backend h for every path.
func proxied(t *testing.T, h http.Handler) (*Server, string) {
	t.Helper()
	return start(t, "", Options{Backends: []Backend{{URL: backend(t, h)}}})
}

func encode(t *testing.T, enc string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "br":
		w = brotli.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "raw deflate":
		w, _ = flate.NewWriter(&buf, flate.DefaultCompression)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestProxyInjectsIntoBackendPages(t *testing.T) {
	const bare = "<!doctype html><title>no body</title><p>hi</p>"
	const fragment = "<li>one</li><li>two</li>"
	tests := []struct {
		name     string
		body     string // what the page holds, before encoding
		encoding string // Content-Encoding the backend uses; "raw deflate" is sent as "deflate"
		ctype    string
		status   int
		header   []string // request header pairs
		inject   bool
		decoded  bool // not injected, but sent decoded
	}{
		{name: "a plain page gets the tag after head", body: page, inject: true},
		{name: "a gzip page is decoded and injected", body: page, encoding: "gzip", inject: true},
		{name: "a br page is decoded and injected", body: page, encoding: "br", inject: true},
		{name: "a zlib deflate page is decoded and injected", body: page, encoding: "deflate", inject: true},
		{name: "a raw deflate page is decoded and injected", body: page, encoding: "raw deflate", inject: true},
		{name: "a page without head or body gets the tag after the doctype", body: bare, inject: true},
		{name: "a gzip page without body is injected too", body: bare, encoding: "gzip", inject: true},
		{name: "a fragment a navigation shows gets the tag", body: fragment, header: []string{"Sec-Fetch-Dest", "document"}, inject: true},
		{name: "a fragment htmx fetches is untouched", body: fragment, header: []string{"Sec-Fetch-Dest", "empty"}},
		{name: "a page fetched by script is untouched", body: page, header: []string{"Sec-Fetch-Dest", "empty"}},
		{name: "a gzip fragment fetched by script passes through still encoded", body: fragment, encoding: "gzip", header: []string{"Sec-Fetch-Dest", "empty"}},
		{name: "a gzip fragment with no Sec-Fetch-Dest is decoded but not injected", body: fragment, encoding: "gzip", decoded: true},
		{name: "an HTML 404 page gets the tag and keeps its status", body: page, status: 404, inject: true},
		{name: "an HTML 500 page gets the tag and keeps its status", body: page, encoding: "gzip", status: 500, inject: true},
		{name: "an HTML 404 fetched by script is untouched", body: page, status: 404, header: []string{"Sec-Fetch-Dest", "empty"}},
		{name: "an HTML 204 is untouched", body: "", status: 204},
		{name: "an HTML redirect's body is untouched", body: page, status: 302},
		{name: "JSON is untouched", body: `{"a":1}`, ctype: "application/json"},
		{name: "a page that says it is already injected is left alone", body: "<!doctype html><html><head><script src=\"/__hotserve/client.js\" data-build=\"1\" async></script></head></html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == 0 {
				status = 200
			}
			ctype := tt.ctype
			if ctype == "" {
				ctype = "text/html; charset=utf-8"
			}
			sent := []byte(tt.body)
			if tt.encoding != "" {
				sent = encode(t, tt.encoding, sent)
			}
			_, base := proxied(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h := w.Header()
				h.Set("Content-Type", ctype)
				h.Set("ETag", `"v1"`)
				h.Set("Cross-Origin-Resource-Policy", "cross-origin")
				if tt.encoding != "" {
					h.Set("Content-Encoding", strings.TrimPrefix(tt.encoding, "raw "))
				}
				w.WriteHeader(status)
				w.Write(sent)
			}))
			// The client asks for encodings itself, so Go's transport
			// does not decode anything behind the test's back.
			resp := get(t, base+"/page", append([]string{"Accept-Encoding", "gzip, deflate, br"}, tt.header...)...)
			if resp.status != status {
				t.Fatalf("got status %d, want %d", resp.status, status)
			}
			if got := resp.header.Values("Cross-Origin-Resource-Policy"); len(got) != 1 || got[0] != "same-origin" {
				t.Errorf("got Cross-Origin-Resource-Policy %q, want only same-origin", got)
			}
			if !tt.inject {
				want := string(sent)
				if tt.decoded {
					want = tt.body
					if got := resp.header.Get("Content-Encoding"); got != "" {
						t.Errorf("a decoded body kept Content-Encoding %q", got)
					}
					if resp.header.Get("ETag") == `"v1"` {
						t.Error("a decoded body kept the backend's ETag")
					}
				}
				if resp.body != want {
					t.Errorf("got body %q, want %q", resp.body, want)
				}
				return
			}
			if got := uninject(t, resp.body); got != tt.body {
				t.Errorf("without the tag, got %q, want %q", got, tt.body)
			}
			for _, k := range []string{"Content-Encoding", "ETag", "Content-MD5"} {
				if v := resp.header.Get(k); v != "" {
					t.Errorf("got %s %q on an injected page, want none", k, v)
				}
			}
			if got := resp.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("got Cache-Control %q, want no-store", got)
			}
		})
	}
}

func TestProxyCopiesTheCSPNonce(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		want   string // the tag's nonce attribute, or "" for none
	}{
		{name: "a script-src nonce is copied", policy: "default-src 'self'; script-src 'nonce-abc123' 'strict-dynamic'", want: ` nonce="abc123"`},
		{name: "a default-src nonce is copied when script-src is missing", policy: "default-src 'nonce-d3f4ult'", want: ` nonce="d3f4ult"`},
		{name: "script-src wins over default-src", policy: "default-src 'nonce-a'; script-src 'nonce-b'", want: ` nonce="b"`},
		{name: "a nonce is escaped as an attribute value", policy: `script-src 'nonce-a"b<c'`, want: ` nonce="a&#34;b&lt;c"`},
		{name: "no nonce gives the plain tag", policy: "script-src 'self'", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base := proxied(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Security-Policy", tt.policy)
				io.WriteString(w, page)
			}))
			resp := get(t, base+"/")
			want := `<script src="/__hotserve/client.js" data-build="` + itoa(s.Build()) + `"` + tt.want + ` async></script>`
			if !strings.Contains(resp.body, want) {
				t.Errorf("got %q, want it to contain %q", resp.body, want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestProxyStreamsChunkedPages(t *testing.T) {
	release := make(chan struct{})
	_, base := proxied(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		// More than the 512 bytes inject reads before it decides.
		io.WriteString(w, "<!doctype html><html><head><title>slow</title></head><body>"+strings.Repeat("<p>filler</p>\n", 40)+"<p>first</p>")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "<p>second</p></body></html>")
	}))
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 {
		t.Errorf("got Content-Length %d, Transfer-Encoding %q; want chunked", resp.ContentLength, resp.TransferEncoding)
	}
	// The first part, with the tag, arrives while the backend still holds
	// the rest back: nothing waits for the whole page.
	br := bufio.NewReader(resp.Body)
	got := ""
	for !strings.Contains(got, "<p>first</p>") {
		line, err := br.ReadString('>')
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got += line
	}
	if !strings.Contains(got, "/__hotserve/client.js") {
		t.Fatalf("the first part has no tag: %q", got)
	}
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if string(rest) != "<p>second</p></body></html>" {
		t.Errorf("got rest %q", rest)
	}
}

func TestProxyPassesEventStreamsThroughUnbuffered(t *testing.T) {
	next := make(chan string)
	_, base := proxied(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		for {
			select {
			case msg := <-next:
				io.WriteString(w, "data: "+msg+"\n\n")
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	}))
	resp, err := http.Get(base + "/app/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for _, msg := range []string{"one", "two"} {
		next <- msg
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line != "data: "+msg+"\n" {
			t.Fatalf("got %q, want the event %q as soon as it was sent", line, msg)
		}
		br.ReadString('\n')
	}
}

func TestProxyPassesWebSocketsThrough(t *testing.T) {
	_, base := proxied(t, websocket.Handler(func(c *websocket.Conn) { io.Copy(c, c) }))
	u := strings.Replace(base, "http://", "ws://", 1) + "/ws"
	c, err := websocket.Dial(u, "", base)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	for _, msg := range []string{"hello", "again"} {
		if err := websocket.Message.Send(c, msg); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := websocket.Message.Receive(c, &got); err != nil {
			t.Fatal(err)
		}
		if got != msg {
			t.Errorf("got echo %q, want %q", got, msg)
		}
	}
}

func TestProxyByPrefix(t *testing.T) {
	api := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, r.Method+" "+r.URL.Path+" host="+r.Host+" fwd="+r.Header.Get("X-Forwarded-Host"))
	}))
	dir := site(t, map[string]string{"index.html": page})
	_, base := start(t, dir, Options{Backends: []Backend{{Path: "/api", URL: api}}})
	resp := get(t, base+"/api/users")
	want := "GET /api/users host=" + api.Host + " fwd=" + strings.TrimPrefix(base, "http://")
	if resp.body != want {
		t.Errorf("got %q, want %q", resp.body, want)
	}
	if resp := do(t, http.MethodPost, base+"/api/users"); !strings.HasPrefix(resp.body, "POST /api/users") {
		t.Errorf("a POST was not passed on: %d %q", resp.status, resp.body)
	}
	if resp := get(t, base+"/apiary"); resp.status != 404 {
		t.Errorf("/apiary is not under /api, got %d %q", resp.status, resp.body)
	}
	if resp := get(t, base+"/"); uninject(t, resp.body) != page {
		t.Errorf("the folder is not served for the rest: %q", resp.body)
	}
}

func TestProxyKeepsTheDefences(t *testing.T) {
	_, base := proxied(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secret")
	}))
	if resp := get(t, base+"/", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"); resp.status != 403 {
		t.Errorf("a cross-site include got %d, want 403", resp.status)
	}
	req, _ := http.NewRequest("GET", base+"/", nil)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("a foreign Host got %d, want 403", resp.StatusCode)
	}
}

func TestBackendDown(t *testing.T) {
	// A port that was free a moment ago: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	u, _ := url.Parse("http://" + addr)
	s, base := start(t, "", Options{Backends: []Backend{{URL: u}}})

	resp := get(t, base+"/some/page", "Sec-Fetch-Dest", "document")
	if resp.status != 502 || !strings.Contains(resp.body, "Waiting for http://"+addr) || !strings.Contains(resp.body, `src="/__hotserve/waiting.js"`) {
		t.Fatalf("a navigation got %d %q, want the waiting page", resp.status, resp.body)
	}
	if resp.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the waiting page may be cached: %q", resp.header.Get("Cache-Control"))
	}
	if resp := get(t, base+"/app.js", "Sec-Fetch-Dest", "script"); resp.status != 502 || strings.Contains(resp.body, "<html") {
		t.Errorf("a script got %d %q, want a plain 502", resp.status, resp.body)
	}
	if resp := get(t, base+"/__hotserve/backend?path=/some/page"); resp.status != 503 {
		t.Errorf("health while down: got %d, want 503", resp.status)
	}
	if resp := get(t, base+"/__hotserve/backend?path=/", "Origin", "http://evil.example"); resp.status != 403 {
		t.Errorf("health for a foreign origin: got %d, want 403", resp.status)
	}

	// A change while the backend is down is held, not announced.
	st := openStream(t, base)
	first := st.Next(t, 5*time.Second)
	s.Reload("index.html")
	if !s.gate.waiting() {
		t.Fatal("the change was not held")
	}
	if s.Build() != first.Data.Build {
		t.Fatalf("the build changed while the backend was down")
	}

	// The backend comes back on the same address: the change goes out.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "back") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	ev := st.Next(t, 5*time.Second)
	if ev.Data.Build <= first.Data.Build || !strings.Contains(ev.Raw, `"index.html"`) {
		t.Errorf("got %q after the backend came back, want the held change", ev.Raw)
	}
	if resp := get(t, base+"/__hotserve/backend?path=/some/page"); resp.status != 200 {
		t.Errorf("health when up: got %d, want 200", resp.status)
	}
	if resp := get(t, base+"/x"); resp.body != "back" {
		t.Errorf("got %q, want the backend's answer", resp.body)
	}
}

func TestProxyHeadOfAPage(t *testing.T) {
	gz := encode(t, "gzip", []byte(page))
	_, base := proxied(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", fmt.Sprint(len(gz)))
		w.Header().Set("ETag", `"backend"`)
		if r.Method != http.MethodHead {
			w.Write(gz)
		}
	}))
	head := do(t, http.MethodHead, base+"/")
	get := get(t, base+"/")
	if !strings.Contains(get.body, assets.ClientPath) {
		t.Fatalf("GET was not injected: %q", get.body)
	}
	for _, k := range []string{"Content-Length", "Content-Encoding", "ETag"} {
		if got := head.header.Get(k); got != get.header.Get(k) {
			t.Errorf("HEAD has %s %q, GET %q: a HEAD must describe what a GET sends", k, got, get.header.Get(k))
		}
	}
	if got := head.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("HEAD: got Cache-Control %q, want no-store", got)
	}
}

func TestCORSPreflightGoesWhereItsRequestGoes(t *testing.T) {
	api := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "yes")
		w.WriteHeader(http.StatusOK)
	}))
	dir := site(t, map[string]string{"index.html": page})
	_, base := start(t, dir, Options{CORS: true, Backends: []Backend{{Path: "/api", URL: api}}})
	for _, tc := range []struct {
		name, target string
		backend      bool
	}{
		{"a preflight for the folder is answered here", "/index.html", false},
		{"a preflight for the backend goes to it", "/api/users", true},
		{"a preflight whose path cleans to the backend goes to it", "/x/../api/users", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodOptions, base+tc.target)
			if got := r.header.Get("X-Backend") == "yes"; got != tc.backend {
				t.Errorf("got %d, answered by the backend %v, want %v", r.status, got, tc.backend)
			}
		})
	}
}

func TestProxyMapsBackendURLsToTheBrowsersOrigin(t *testing.T) {
	var self string // the backend's own origin, known once it listens
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		switch r.URL.Path {
		case "/api/login":
			h.Set("Location", self+"/api/home?x=1#top")
			h.Set("Content-Location", self+"/api/login.html")
			h.Set("Refresh", "3; url="+self+"/api/later")
			w.WriteHeader(http.StatusFound)
		case "/api/away":
			h.Set("Location", "http://other.example/x")
			h.Set("Content-Location", "/api/relative")
			h.Set("Refresh", "1; URL='"+strings.Replace(self, "http:", "https:", 1)+"/x'")
			w.WriteHeader(http.StatusSeeOther)
		}
	})
	ts := httptest.NewServer(app)
	t.Cleanup(ts.Close)
	self = ts.URL
	u, _ := url.Parse(ts.URL)
	dir := site(t, map[string]string{"index.html": page})
	_, base := start(t, dir, Options{Backends: []Backend{{Path: "/api", URL: u}}})

	resp := get(t, base+"/api/login")
	for k, want := range map[string]string{
		"Location":         base + "/api/home?x=1#top",
		"Content-Location": base + "/api/login.html",
		"Refresh":          "3; url=" + base + "/api/later",
	} {
		if got := resp.header.Get(k); got != want {
			t.Errorf("got %s %q, want %q", k, got, want)
		}
	}
	// Another origin (another host, or the backend's address with another
	// scheme) and relative URLs stay as they are.
	resp = get(t, base+"/api/away")
	for k, want := range map[string]string{
		"Location":         "http://other.example/x",
		"Content-Location": "/api/relative",
		"Refresh":          "1; URL='" + strings.Replace(self, "http:", "https:", 1) + "/x'",
	} {
		if got := resp.header.Get(k); got != want {
			t.Errorf("got %s %q, want %q", k, got, want)
		}
	}
}

func TestProxyCookieNamingTheBackendsHostRoundTrips(t *testing.T) {
	var seen atomic.Value
	seen.Store("")
	back := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			// What an app writes when it names the host it runs on.
			w.Header().Add("Set-Cookie", "session=abc; Domain="+strings.Split(r.Host, ":")[0]+"; Path=/; HttpOnly")
			http.Redirect(w, r, "http://"+r.Host+"/account", http.StatusFound)
			return
		}
		if c, err := r.Cookie("session"); err == nil {
			seen.Store(c.Value)
		}
		io.WriteString(w, "account")
	}))
	_, base := start(t, "", Options{Backends: []Backend{{URL: back}}})
	// The browser knows hotserve as localhost, the backend is 127.0.0.1:
	// a cookie for Domain=127.0.0.1 would not be stored for localhost.
	addr := strings.TrimPrefix(base, "http://")
	_, port, _ := net.SplitHostPort(addr)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Get("http://localhost:" + port + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := resp.Request.URL.String(), "http://localhost:"+port+"/account"; got != want {
		t.Errorf("the redirect went to %s, want %s", got, want)
	}
	if string(body) != "account" || seen.Load() != "abc" {
		t.Errorf("got %q with cookie %q at the backend, want the cookie back", body, seen.Load())
	}
}

func TestProxyBasePath(t *testing.T) {
	var self string
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/app/":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, page)
		case "/app/login":
			w.Header().Add("Set-Cookie", "s=1; Path=/app/admin")
			http.Redirect(w, r, "/app/admin/", http.StatusFound)
		case "/app/logout":
			http.Redirect(w, r, self+"/app", http.StatusFound)
		case "/app/elsewhere":
			http.Redirect(w, r, "/other/", http.StatusFound)
		default:
			http.Error(w, "not here: "+r.URL.Path, http.StatusNotFound)
		}
	})
	ts := httptest.NewServer(app)
	t.Cleanup(ts.Close)
	self = ts.URL
	u, _ := url.Parse(ts.URL + "/app/")
	_, base := start(t, "", Options{Backends: []Backend{{URL: u}}})

	if resp := get(t, base+"/", "Sec-Fetch-Dest", "document"); resp.status != 200 || uninject(t, resp.body) != page {
		t.Errorf("/ got %d %q, want the app's page at /app/", resp.status, resp.body)
	}
	resp := get(t, base+"/login")
	if got := resp.header.Get("Location"); got != "/admin/" {
		t.Errorf("got Location %q, want /admin/", got)
	}
	if got := resp.header.Get("Set-Cookie"); got != "s=1; Path=/admin" {
		t.Errorf("got Set-Cookie %q, want the path mapped back", got)
	}
	if got := get(t, base+"/logout").header.Get("Location"); got != base+"/" {
		t.Errorf("got Location %q, want %s/", got, base)
	}
	if got := get(t, base+"/elsewhere").header.Get("Location"); got != "/other/" {
		t.Errorf("a path outside the base: got Location %q, want it unchanged", got)
	}
}

func TestProxyTrustsLoopbackTLSBackends(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, page)
	}))
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	_, base := start(t, "", Options{Backends: []Backend{{URL: u}}})
	resp := get(t, base+"/", "Sec-Fetch-Dest", "document")
	if resp.status != 200 || uninject(t, resp.body) != page {
		t.Errorf("got %d %q, want the backend's page with the tag", resp.status, resp.body)
	}
}

func TestLoopback(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"localhost", true},
		{"LocalHost.", true},
		{"192.168.1.20", false},
		{"10.0.0.1", false},
		{"::", false},
		{"dev.example.test", false},
		{"localhost.example.com", false},
		{"127.0.0.1.nip.io", false},
	}
	for _, tt := range tests {
		if got := loopback(tt.host); got != tt.want {
			t.Errorf("loopback(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

// untrustedBackend starts a TLS backend that the proxy reaches under the
// name dev.example.test, which is not a loopback address; the dial is
// redirected to 127.0.0.1, so nothing leaves the machine.
func untrustedBackend(t *testing.T, insecure bool) (string, *bytes.Buffer) {
	t.Helper()
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, page)
	}))
	t.Cleanup(ts.Close)
	addr := ts.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	u, _ := url.Parse("https://dev.example.test:" + port)
	var logged bytes.Buffer
	s, base := start(t, "", Options{Backends: []Backend{{URL: u, Insecure: insecure}}, ErrorLog: log.New(&logged, "", 0)})
	s.routes[0].backend.tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return base, &logged
}

func TestProxyVerifiesOtherTLSBackends(t *testing.T) {
	base, logged := untrustedBackend(t, false)
	resp := get(t, base+"/", "Sec-Fetch-Dest", "document")
	if resp.status != 502 || !strings.Contains(resp.body, "--proxy-insecure") || strings.Contains(resp.body, "waiting.js") {
		t.Errorf("got %d %q, want a page naming --proxy-insecure that does not wait", resp.status, resp.body)
	}
	if resp := get(t, base+"/app.js", "Sec-Fetch-Dest", "script"); resp.status != 502 || !strings.Contains(resp.body, "--proxy-insecure") {
		t.Errorf("a script got %d %q, want a 502 naming --proxy-insecure", resp.status, resp.body)
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "warning: backend https://dev.example.test:") || !strings.Contains(lines[0], "certificate not trusted: tls: failed to verify certificate") ||
		!strings.HasPrefix(lines[1], "hint: ") || !strings.Contains(lines[1], "--proxy-insecure") {
		t.Errorf("got log %q, want a warning about the certificate and a hint naming --proxy-insecure, once", lines)
	}
}

func TestProxyInsecureSkipsTheCheck(t *testing.T) {
	base, _ := untrustedBackend(t, true)
	resp := get(t, base+"/", "Sec-Fetch-Dest", "document")
	if resp.status != 200 || uninject(t, resp.body) != page {
		t.Errorf("got %d %q, want the backend's page", resp.status, resp.body)
	}
}

func TestProxyAssetsAreSwappedAndNeverHeuristicallyCached(t *testing.T) {
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC).Format(http.TimeFormat)
	s, base := proxied(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Last-Modified", old)
		switch r.URL.Path {
		case "/css/site.css":
			h.Set("Content-Type", "text/css")
		case "/logo.png":
			h.Set("Content-Type", "image/png")
		case "/hashed.css":
			h.Set("Content-Type", "text/css")
			h.Set("Cache-Control", "max-age=31536000, immutable")
		default:
			h.Set("Content-Type", "text/html")
		}
		io.WriteString(w, "x")
	}))
	if got := get(t, base+"/css/site.css").header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("a stylesheet with only Last-Modified got Cache-Control %q, want no-cache", got)
	}
	if got := get(t, base+"/hashed.css").header.Get("Cache-Control"); got != "max-age=31536000, immutable" {
		t.Errorf("the app's own Cache-Control became %q", got)
	}
	get(t, base+"/logo.png")
	st := openStream(t, base)
	st.Next(t, 5*time.Second)
	tests := []struct {
		paths  []string
		reload bool
	}{
		{[]string{"css/site.css"}, false},
		{[]string{"css/site.css", "logo.png"}, false},
		{[]string{"css/other.css"}, true}, // never served: a source, maybe
		{[]string{"css/site.css", "app.py"}, true},
		{[]string{"index.html"}, true}, // served, but as a page
	}
	for _, tt := range tests {
		s.Reload(tt.paths...)
		ev := st.Next(t, 5*time.Second)
		if ev.Data.Reload != tt.reload || !slices.Equal(ev.Data.Paths, tt.paths) {
			t.Errorf("for %q got %s, want reload %v with the paths", tt.paths, ev.Raw, tt.reload)
		}
	}
}

func TestProxyDoesNotHoldAStreamedShell(t *testing.T) {
	const shell = "<!doctype html><html><head><title>shell</title>"
	release := make(chan struct{})
	_, base := proxied(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, shell) // far fewer than 512 bytes
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "</head><body>done</body></html>")
	}))
	defer close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/", nil)
	req.Header.Set("Sec-Fetch-Dest", "document")
	asked := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no response while the backend pauses: %v", err)
	}
	defer resp.Body.Close()
	want := "<!doctype html><html><head>" + string(assets.TagWithNonce(0, ""))
	want = want[:strings.Index(want, `data-build="`)]
	got := make([]byte, 0, 512)
	buf := make([]byte, 512)
	for !strings.Contains(string(got), "<title>shell</title>") {
		n, err := resp.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("after %q: %v (the shell was held)", got, err)
		}
	}
	if !strings.HasPrefix(string(got), want) {
		t.Errorf("got %q, want the shell with the tag after <head>", got)
	}
	// The shell goes out pauseAfter (50 ms) after the backend falls quiet;
	// the bound leaves a loaded machine room, and still catches a wait of
	// seconds for bytes that may never come.
	if took := time.Since(asked); took > 2*time.Second {
		t.Errorf("the shell arrived %v after the request; it should wait %v once the backend pauses", took, pauseAfter)
	}
}

// BenchmarkWrap measures Wrap injecting into a 2 KB page that a handler
// writes in one piece, without the network: the page goes through the
// pipe, the reading goroutine and the tokenizer.
func BenchmarkWrap(b *testing.B) {
	page := "<!doctype html>\n<html><head><title>b</title></head><body>" + strings.Repeat("<p>lorem ipsum dolor sit amet</p>\n", 60) + "</body></html>\n"
	s, err := New("", Options{ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := s.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Host = "localhost"
	req.Header.Set("Sec-Fetch-Dest", "document")
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(&discard{h: http.Header{}}, req)
	}
}
