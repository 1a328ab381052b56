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
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/hotserve/hotserve/inject"
	"golang.org/x/net/websocket"
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
		{name: "an HTML 404 is untouched", body: page, status: 404},
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
	if !strings.Contains(get.body, inject.ClientPath) {
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
