package server

import (
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// proxy passes requests to one backend.
type proxy struct {
	hop    string // this proxy's Via entry; see loop.go
	target *url.URL
	rp     *httputil.ReverseProxy
	tr     *http.Transport
	down   atomic.Bool // the last attempt failed; logged once per outage
}

func newProxy(s *Server, target *url.URL) *proxy {
	// A transport of its own, so that Close can drop its idle connections
	// and leave no goroutine behind.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	px := &proxy{hop: newHop(), target: target, tr: tr}
	px.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			outgoing(pr.Out, px.hop)
			// SetURL also sets the backend's host as Host: apps that
			// build absolute URLs or route by host expect their own.
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: tr,
		ModifyResponse: func(res *http.Response) error {
			// The defences hold for the backend's responses too, and
			// replace its own values rather than doubling them.
			s.setOwnHeaders(res.Header)
			if px.down.Swap(false) {
				s.log.Printf("backend %s answers again", target.Redacted())
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { px.fail(s, w, r, err) },
		ErrorLog:     s.log,
	}
	return px
}

// serve passes the request to the backend, injecting into its pages.
func (px *proxy) serve(s *Server, w http.ResponseWriter, r *http.Request) {
	if refuseHop(w, r, px.hop) {
		return
	}
	// ReverseProxy adds the backend's headers to what is already set;
	// ModifyResponse sets ours again on top of them.
	clear(w.Header())
	s.serveInjected(w, r, px.rp)
}

// fail answers a request the backend did not: a navigation gets the
// waiting page, anything else a plain 502.
func (px *proxy) fail(s *Server, w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the browser went away; nobody to answer
	}
	if !px.down.Swap(true) {
		s.log.Printf("warning: backend %s does not answer: %v; pages wait for it (is it running?)", px.target.Redacted(), err)
	}
	h := w.Header()
	clear(h)
	s.setOwnHeaders(h)
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodGet && wantsPage(r) && !s.opts.NoReload {
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, waitingPage(px.target))
		return
	}
	http.Error(w, "502 bad gateway: the backend does not answer", http.StatusBadGateway)
}

// wantsPage reports whether a request is for a page: a navigation, or a
// request from something that is not a browser asking for HTML.
func wantsPage(r *http.Request) bool {
	if navigation(r) {
		return true
	}
	return r.Header.Get("Sec-Fetch-Dest") == "" && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// waitingPage is shown while a backend does not answer. Its script is
// same-origin and external, so any script-src policy that lets the client
// run lets it run too.
func waitingPage(target *url.URL) string {
	t := html.EscapeString(target.Redacted())
	return `<!doctype html>
<html><head><meta charset="utf-8"><title>Waiting for ` + t + `</title>
<script src="` + Prefix + `waiting.js" async></script>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:3em auto;max-width:40em;color:#333}</style>
</head><body><h1>Waiting for ` + t + `</h1>
<p>hotserve could not reach the backend. This page reloads by itself as soon as it answers.</p>
</body></html>
`
}

// up reports whether the backend accepts connections. A connection is what
// "back" means here: an app listens once it is ready to serve.
func (px *proxy) up(ctx context.Context) bool {
	host := px.target.Host
	if px.target.Port() == "" {
		port := "80"
		if px.target.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(px.target.Hostname(), port)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// serveBackendHealth answers the waiting page: 200 if the backend for the
// path in the query answers, 503 if not, 404 if no backend serves it.
func (s *Server) serveBackendHealth(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	// Whether a backend runs is nobody else's business either.
	if !sameOrigin(r) {
		http.Error(w, "403 forbidden", http.StatusForbidden)
		return
	}
	rt := s.route(r.URL.Query().Get("path"))
	if rt == nil || rt.backend == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if !rt.backend.up(r.Context()) {
		http.Error(w, "503 backend down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "up\n")
}

// gateEvery is how often a held announcement checks for its backend.
var gateEvery = 100 * time.Millisecond

// gate holds announcements while the backend that serves the site's pages
// does not accept connections, and makes them once it does: a tab reloaded
// into a dead backend would only show the waiting page. One goroutine at
// most checks the backend; it ends when nothing is held, and Close waits
// for it.
type gate struct {
	s       *Server
	backend *proxy

	mu      sync.Mutex
	held    *Change // merged batches not yet announced
	running bool
	stopped bool
	wg      sync.WaitGroup
}

func (g *gate) hold(c Change) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	if g.held == nil {
		c.Paths = slices.Clone(c.Paths)
		g.held = &c
	} else {
		h := g.held
		h.Paths = append(h.Paths, c.Paths...)
		slices.Sort(h.Paths)
		h.Paths = slices.Compact(h.Paths)
		if c.ModTime.After(h.ModTime) {
			h.ModTime = c.ModTime
		}
		h.Full = h.Full || c.Full
	}
	if !g.running {
		g.running = true
		g.wg.Add(1)
		go g.run()
	}
}

func (g *gate) run() {
	defer g.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-g.s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	tick := time.NewTicker(gateEvery)
	defer tick.Stop()
	for {
		if g.backend.up(ctx) {
			g.mu.Lock()
			c := g.held
			g.held = nil
			if c == nil {
				g.running = false
				g.mu.Unlock()
				return
			}
			g.mu.Unlock()
			g.s.publish(*c)
			continue
		}
		select {
		case <-ctx.Done():
			g.mu.Lock()
			g.running = false
			g.mu.Unlock()
			return
		case <-tick.C:
		}
	}
}

// stop drops what is held and waits for the goroutine.
func (g *gate) stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	g.wg.Wait()
}

// held reports whether an announcement waits for the backend; for tests.
func (g *gate) waiting() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held != nil
}
