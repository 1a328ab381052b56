package server

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// serveOn serves s on ln until the test ends.
func serveOn(t *testing.T, s *Server, ln net.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hs := &http.Server{Handler: s, BaseContext: func(net.Listener) context.Context { return ctx }}
	go hs.Serve(ln)
	t.Cleanup(func() {
		cancel()
		hs.Close()
		s.Close()
	})
}

func listenLocal(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestProxyLoopIsBroken(t *testing.T) {
	client := &http.Client{Timeout: 5 * time.Second}
	t.Run("a backend that is this hotserve", func(t *testing.T) {
		ln := listenLocal(t)
		s, err := New(t.TempDir(), Options{Backends: []Backend{{URL: &url.URL{Scheme: "http", Host: ln.Addr().String()}}}, ErrorLog: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		serveOn(t, s, ln)
		resp, err := client.Get("http://" + ln.Addr().String() + "/page")
		if err != nil {
			t.Fatalf("no answer through a proxy loop: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusLoopDetected {
			t.Fatalf("got %s, want 508", resp.Status)
		}
	})
	t.Run("two hotserves that proxy to each other", func(t *testing.T) {
		la, lb := listenLocal(t), listenLocal(t)
		a, err := New(t.TempDir(), Options{Backends: []Backend{{URL: &url.URL{Scheme: "http", Host: lb.Addr().String()}}}, ErrorLog: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(t.TempDir(), Options{Backends: []Backend{{Path: "/api", URL: &url.URL{Scheme: "http", Host: la.Addr().String()}}}, ErrorLog: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		serveOn(t, a, la)
		serveOn(t, b, lb)
		resp, err := client.Get("http://" + la.Addr().String() + "/api/x")
		if err != nil {
			t.Fatalf("no answer through a proxy loop: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusLoopDetected {
			t.Fatalf("got %s, want 508", resp.Status)
		}
	})
}

func TestProxyRefusesCONNECTAndSendsTheCleanedPath(t *testing.T) {
	var mu sync.Mutex
	var got []string
	_, base := proxied(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.EscapedPath())
		mu.Unlock()
	}))
	host := base[len("http://"):]
	if r := send(t, base, "CONNECT "+host+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); r.status != http.StatusMethodNotAllowed {
		t.Errorf("CONNECT: got %d, want 405", r.status)
	}
	for _, tc := range []struct{ sent, want string }{
		{"/a/./b/../c", "/a/c"},
		{"/a//b/", "/a/b/"},
		{"/x/../../etc/passwd", "/etc/passwd"},
		{"/a%2Fb", "/a%2Fb"},
		{"/", "/"},
	} {
		mu.Lock()
		got = got[:0]
		mu.Unlock()
		if r := send(t, base, "GET "+tc.sent+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); r.status != http.StatusOK {
			t.Errorf("%s: got %d", tc.sent, r.status)
			continue
		}
		mu.Lock()
		if len(got) != 1 || got[0] != "GET "+tc.want {
			t.Errorf("%s: the backend got %q, want %q", tc.sent, got, "GET "+tc.want)
		}
		mu.Unlock()
	}
}

func quiet() *log.Logger { return log.New(io.Discard, "", 0) }
