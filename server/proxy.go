package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"html"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// proxy passes requests to one backend.
type proxy struct {
	hop    string // this proxy's Via entry; see loop.go
	target *url.URL
	base   string // target's path without a trailing slash: the app's mount point
	rp     *httputil.ReverseProxy
	tr     *http.Transport
	down   atomic.Bool        // the last attempt failed; logged once per outage
	assets pathMap[bool]      // URL paths it answered with a stylesheet or image
	edited pathMap[time.Time] // URL paths whose file in the folder changed, and its new time
}

// inboundKey carries the browser's request to ModifyResponse, which sees
// only the one sent to the backend.
type inboundKey struct{}

func newProxy(s *Server, b Backend) *proxy {
	target := b.URL
	// A transport of its own, so that Close can drop its idle connections
	// and leave no goroutine behind.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if target.Scheme == "https" && (b.Insecure || loopback(target.Hostname())) {
		// A backend on this machine is the developer's own process,
		// whose certificate is a development one more often than not.
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	px := &proxy{hop: newHop(), target: target, base: strings.TrimSuffix(target.Path, "/"), tr: tr}
	px.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			outgoing(pr.Out, px.hop)
			// SetURL also sets the backend's host as Host: apps that
			// build absolute URLs or route by host expect their own.
			pr.SetURL(target)
			pr.SetXForwarded()
			// Once per edit: the answer to this request is the new
			// file, and the browser's next conditions are the app's
			// to judge again.
			p := path.Clean(pr.In.URL.Path)
			if t, ok := px.edited.get(p); ok && revalidate(pr.Out.Header, t) {
				px.edited.remove(p)
			}
		},
		Transport: tr,
		ModifyResponse: func(res *http.Response) error {
			// The defences hold for the backend's responses too, and
			// replace its own values rather than doubling them.
			s.setOwnHeaders(res.Header, res.Request)
			if in, ok := res.Request.Context().Value(inboundKey{}).(*http.Request); ok {
				px.toBrowser(in, res)
			}
			if px.down.Swap(false) {
				s.log.Printf("backend %s answers again", target.Redacted())
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { px.fail(s, w, r, err) },
		ErrorLog:     warningLog(s.log),
	}
	return px
}

// loopback reports whether host, a URL's host name, is this machine:
// localhost or an address in 127.0.0.0/8 or ::1.
func loopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// serve passes the request to the backend, injecting into its pages.
func (px *proxy) serve(s *Server, w http.ResponseWriter, r *http.Request) {
	if refuseHop(w, r, px.hop) {
		return
	}
	// ReverseProxy adds the backend's headers to what is already set;
	// ModifyResponse sets ours again on top of them.
	clear(w.Header())
	r = r.WithContext(context.WithValue(r.Context(), inboundKey{}, r))
	s.serveInjected(w, r, px.rp)
}

// toBrowser makes a backend's response work at the origin the browser
// used: URLs in headers that point at the backend itself point at hotserve
// instead, cookies bound to the backend's host bind to hotserve's, and
// responses without a lifetime are not kept fresh by heuristics (the browser
// would show an edited stylesheet's old copy after a reload, since apps
// send Last-Modified but rarely Cache-Control). It also notes which URL
// paths are stylesheets and images, which can then be swapped in place.
func (px *proxy) toBrowser(in *http.Request, res *http.Response) {
	h := res.Header
	for _, k := range []string{"Location", "Content-Location"} {
		if v := h.Get(k); v != "" {
			h.Set(k, px.urlToBrowser(in, v))
		}
	}
	if v := h.Get("Refresh"); v != "" {
		h.Set("Refresh", px.refreshToBrowser(in, v))
	}
	cookies := h.Values("Set-Cookie") // the header's own slice: edited in place
	for i, c := range cookies {
		cookies[i] = px.cookieToBrowser(c)
	}
	if res.StatusCode >= 200 && h.Get("Cache-Control") == "" && h.Get("Expires") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	if res.StatusCode == http.StatusOK && in.Method == http.MethodGet {
		if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && (mt == "text/css" || strings.HasPrefix(mt, "image/")) {
			px.assets.set(path.Clean(in.URL.Path), true)
		}
	}
}

// urlToBrowser maps a URL the backend gave: one at its own origin goes to
// the origin the browser used (scheme, host and port), and a path under
// the backend URL's path loses that path, which hotserve puts back. Other
// URLs are returned as they are.
func (px *proxy) urlToBrowser(in *http.Request, v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Opaque != "" {
		return v
	}
	switch {
	case u.Host != "":
		scheme := cmp.Or(strings.ToLower(u.Scheme), px.target.Scheme)
		if scheme != px.target.Scheme || !strings.EqualFold(u.Hostname(), px.target.Hostname()) || portOf(scheme, u) != portOf(scheme, px.target) {
			return v // another origin
		}
		u.Scheme, u.Host = "http", in.Host
		if in.TLS != nil {
			u.Scheme = "https"
		}
	case u.Scheme != "" || !strings.HasPrefix(u.Path, "/"):
		return v // relative, or not a web URL: the browser resolves it
	case px.base == "":
		return v // already the path the browser uses
	}
	u.Path, u.RawPath = px.unbase(u.Path), ""
	return u.String()
}

// unbase maps a path on the backend to the one the browser uses: without
// the backend URL's path in front. Paths outside it stay as they are.
func (px *proxy) unbase(p string) string {
	if px.base == "" {
		return p
	}
	if p == px.base {
		return "/"
	}
	if rest, ok := strings.CutPrefix(p, px.base+"/"); ok {
		return "/" + rest
	}
	return p
}

// portOf returns u's port, or the scheme's default.
func portOf(scheme string, u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// refreshToBrowser maps the URL in a Refresh header ("5; url=...").
func (px *proxy) refreshToBrowser(in *http.Request, v string) string {
	i := strings.Index(strings.ToLower(v), "url=")
	if i < 0 {
		return v
	}
	rest := strings.TrimSpace(v[i+len("url="):])
	q := ""
	if rest != "" && (rest[0] == '\'' || rest[0] == '"') {
		q, rest = rest[:1], strings.TrimSuffix(rest[1:], rest[:1])
	}
	return v[:i+len("url=")] + q + px.urlToBrowser(in, rest) + q
}

// cookieToBrowser edits a Set-Cookie value so that the browser keeps it
// for hotserve: a Domain attribute naming the backend's host (or a domain
// above it) is dropped, which binds the cookie to the host the browser
// used, and a Path under the backend URL's path is mapped like a URL.
// Everything else is kept byte for byte.
func (px *proxy) cookieToBrowser(v string) string {
	host := strings.ToLower(px.target.Hostname())
	attrs := strings.Split(v, ";")
	out := attrs[:1]
	for _, a := range attrs[1:] {
		k, val, _ := strings.Cut(a, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "domain":
			d := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(val)), ".")
			if d == host || strings.HasSuffix(host, "."+d) {
				continue
			}
		case "path":
			if p := strings.TrimSpace(val); px.unbase(p) != p {
				a = " Path=" + px.unbase(p)
			}
		}
		out = append(out, a)
	}
	return strings.Join(out, ";")
}

// fail answers a request the backend did not: a navigation gets the
// waiting page, or a page saying why a backend's certificate is refused;
// anything else a plain 502. It writes past serveInjected's writer, which
// would put the reload script into these pages too.
func (px *proxy) fail(s *Server, w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the browser went away; nobody to answer
	}
	if iw, ok := w.(*injectWriter); ok {
		w = iw.w
	}
	var cert *tls.CertificateVerificationError
	untrusted := errors.As(err, &cert)
	if !px.down.Swap(true) {
		if untrusted {
			s.log.Printf("warning: backend %s: certificate not trusted: %v", px.target.Redacted(), err)
			s.log.Printf("hint: %s", untrustedHint)
		} else {
			s.log.Printf("warning: backend %s does not answer: %v; pages wait for it (is it running?)", px.target.Redacted(), err)
		}
	}
	h := w.Header()
	clear(h)
	s.setOwnHeaders(h, r)
	h.Set("Cache-Control", "no-store")
	page := r.Method == http.MethodGet && wantsPage(r)
	switch {
	case untrusted && page:
		writePage(w, r, http.StatusBadGateway, untrustedPage(px.target))
	case untrusted:
		http.Error(w, "502 bad gateway: the backend's certificate is not trusted; "+untrustedHint, http.StatusBadGateway)
	case page && !s.opts.NoReload:
		writePage(w, r, http.StatusBadGateway, waitingPage(px.target))
	default:
		http.Error(w, "502 bad gateway: the backend does not answer", http.StatusBadGateway)
	}
}

// untrustedHint says what to do about a refused certificate. Waiting would
// not help: the backend answers, and will answer with the same certificate.
const untrustedHint = "hotserve verifies the certificates of backends that are not on a loopback address: restart it with --proxy-insecure (or HOTSERVE_PROXY_INSECURE=1; Backend.Insecure in Go) to skip the check, or give the backend a certificate this machine trusts"

// untrustedPage is shown instead of the waiting page when the backend's
// certificate is refused. The details are in the terminal.
func untrustedPage(target *url.URL) string {
	t := html.EscapeString(target.Redacted())
	return `<!doctype html>
<html><head><meta charset="utf-8"><title>Certificate of ` + t + ` not trusted</title>
` + errorStyle + `
</head><body><h1>Certificate of ` + t + ` not trusted</h1>
<p>` + html.EscapeString(untrustedHint) + `.</p>
</body></html>
`
}

// pathMap is a bounded map of URL paths to what a proxy knows of them.
type pathMap[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

// maxAssets bounds a pathMap; it is emptied when full. A change to a path
// the assets forgot then reloads the page rather than swapping in place;
// a request for a path the edits forgot is sent as the browser asked.
const maxAssets = 4096

func (a *pathMap[V]) set(p string, v V) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil || len(a.m) >= maxAssets {
		a.m = make(map[string]V)
	}
	a.m[p] = v
}

func (a *pathMap[V]) remove(p string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, p)
}

func (a *pathMap[V]) get(p string) (V, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.m[p]
	return v, ok
}

// revalidate drops the browser's conditions from a request for a file
// whose new version, modified at changed, the app could mistake for the
// copy the browser holds: Last-Modified has whole seconds, so a copy dated
// the second of the change (or later) would get 304 Not Modified, and the
// page the old file. The app then sends the file whole. If-None-Match goes
// too: an app may build its ETag from the size and the time in seconds.
// It reports whether it dropped them.
func revalidate(h http.Header, changed time.Time) bool {
	since, err := http.ParseTime(h.Get("If-Modified-Since"))
	if err != nil || since.Before(changed.Truncate(time.Second)) {
		return false
	}
	h.Del("If-Modified-Since")
	h.Del("If-None-Match")
	return true
}

// noteEdits records, for the paths of a batch in a folder whose URL paths
// a backend serves, the new modification time of each file (see
// revalidate). The time is the one the app sees: a link's target's.
func (s *Server) noteEdits(dir string, rels, urls []string) {
	for i, u := range urls {
		u = path.Clean("/" + u)
		rt := s.route(u)
		if rt == nil || rt.backend == nil {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rels[i]))); err == nil {
			rt.backend.edited.set(u, fi.ModTime())
		}
	}
}

// inPlace reports whether open pages can take every changed path in c
// without a reload: each is a mount's file, or a URL path the backends
// answered with a stylesheet or an image. When a backend serves every path,
// the folder holds the app's sources and templates, which mean nothing to a
// page; but a stylesheet or image the app serves from there under the same
// path can be swapped like a static one.
func (s *Server) inPlace(c Change) bool {
	for _, p := range c.Paths {
		u := path.Clean("/" + p)
		rt := s.route(u)
		if rt == nil {
			return false
		}
		if rt.backend != nil {
			if _, ok := rt.backend.assets.get(u); !ok {
				return false
			}
		}
	}
	return true
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
` + errorStyle + `
</head><body><h1>Waiting for ` + t + `</h1>
<p>hotserve could not reach the backend. This page reloads by itself as soon as it answers.</p>
</body></html>
`
}

// up reports whether the backend accepts connections. A connection is what
// "back" means here: an app listens once it is ready to serve.
func (px *proxy) up(ctx context.Context) bool {
	host := net.JoinHostPort(px.target.Hostname(), portOf(px.target.Scheme, px.target))
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
