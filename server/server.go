// Package server is hotserve's HTTP side: it serves a folder, injects the
// live-reload script into HTML pages, and streams build ids to browsers.
//
// A Server is an http.Handler; Wrap gives the same live reload to a Go
// program's own handler. The folder given to New and every Mount are
// folders, each read through an os.Root, so neither "..", encoded or not,
// nor a symbolic link can reach outside it; Backends are HTTP servers it
// passes requests to. Pages carry the build id current when they were sent.
// A watcher's batches come in through Announce (Sources lists the folders
// to watch and what their paths mean), and Reload and Settle publish a new
// build; every open page learns of it over Prefix+"events" without the
// server ever blocking on a browser. ARCHITECTURE.md at the repository root
// maps the files.
package server

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"log"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotserve/hotserve/assets"
)

// Prefix is the URL path prefix hotserve reserves for itself. Nothing in the
// served folder can shadow it. The browser protocol is defined in package
// assets, beside the scripts that speak it.
const Prefix = assets.Prefix

// Options configure a Server. The zero value serves the folder with live
// reload on.
type Options struct {
	// NoReload turns the server into a plain static server: no injection
	// and no event stream.
	NoReload bool
	// SPA answers a navigation to an unknown path with the folder's
	// index.html, status 200, as single-page apps expect; dots in the
	// path do not matter (/users/john.doe). A missing file that a script,
	// a style sheet or fetch() asks for stays a 404. A request that says
	// neither Sec-Fetch-Dest nor Accept: text/html (curl) gets index.html
	// for paths without a file extension.
	SPA bool
	// CORS adds Access-Control-Allow-Origin: * to every response and
	// answers OPTIONS preflights with 204. It also drops the defences
	// against other sites loading files as subresources: the
	// Cross-Origin-Resource-Policy header and the 403 for cross-site
	// no-cors requests. The event stream stays same-origin. Without it,
	// pages served from this machine (localhost, *.localhost, 127.0.0.1,
	// ::1, any port) may still include the files; see resourcePolicy.
	CORS bool
	// AllowedHosts are the host names, besides localhost, *.localhost and
	// IP literals, that a request's Host may name; any other gets 403, as a
	// defence against DNS rebinding. An entry starting with a dot, such as
	// ".example.test", allows that name and every name below it. Names are
	// compared without case and without a port.
	AllowedHosts []string
	// Header is set on every response, and wins: a name in it replaces
	// the value hotserve or a backend would send (Cache-Control no-cache
	// on files and no-store on pages, Content-Type, the defences), set
	// again right before the response's header is sent. Replacing
	// no-store on pages lets the browser show a page with an old build,
	// which the client then reloads.
	Header http.Header
	// ErrorLog receives warnings about pages that could not be injected
	// and files that could not be read. If nil, log.Default() is used.
	ErrorLog *log.Logger
	// OnTrigger, if not nil, is called after a program on this machine
	// asked for a reload with POST /__hotserve/reload, with the paths it
	// named (none for every page), so that the reload can be logged as a
	// file change is. With NoReload the request gets 404 and nothing
	// reloads, but OnTrigger is still called, so that the log can say why.
	OnTrigger func(paths []string)
	// MaxStreams caps the event streams open at once; more are answered
	// 503. Zero means DefaultMaxStreams. A program that serves many
	// browsers on purpose, and has raised its open-file limit, can raise it.
	MaxStreams int
	// Backends are HTTP servers that requests are passed to, by path
	// prefix; see Backend. HTML pages they answer with get the reload
	// script like files do.
	Backends []Backend
	// Mounts serve more folders under URL path prefixes; see Mount.
	Mounts []Mount
	// ReloadHTML makes pages reload when the HTML file they show changes,
	// as they did before hotserve learnt to morph the new markup into the
	// live page (which keeps scroll, focus, form input and media playing).
	ReloadHTML bool
}

// Server serves one folder. Create it with New.
//
// Inside, it is a few pieces that meet here: the site's folder and the
// routes (mounts, each a folder of its own, and backends), which decide
// what a request gets (files.go, proxy.go) while send.go sends it; the
// broadcaster, which publishes builds to event streams (events.go), and
// the gate beside it, which holds them while the site's backend is down
// (gate.go); and the checks every request passes first (security.go,
// corp.go).
type Server struct {
	opts Options
	log  *log.Logger

	site   *folder // the folder given to New; nil for ""
	routes []route // mounts and backends, longest prefix first

	events     *broadcaster
	gate       *gate // holds announcements while the site's backend is down; nil without one
	maxStreams int   // Options.MaxStreams, or its default
	points     *pointCache
	types      typeCache // see setPageType

	warned       sync.Map // path or host → struct{}: one warning each, not one per request
	hostWarnings atomic.Int32

	done chan struct{}
}

// maxHostWarnings bounds how many refused host names are logged.
const maxHostWarnings = 16

// warnHost logs, once per name, that a request named a host that is not
// allowed, with the flag that allows it: behind a proxy or a custom
// /etc/hosts name that is the user's own request, not an attack.
func (s *Server) warnHost(hostport string) {
	host, _ := splitHost(hostport)
	if s.hostWarnings.Load() >= maxHostWarnings {
		return // a flood of made-up names must not grow the map
	}
	if _, seen := s.warned.LoadOrStore("host "+host, struct{}{}); !seen {
		s.hostWarnings.Add(1)
		s.log.Printf("warning: refused a request for host %q (403); if that name is yours, allow it with --allow-host %s", host, host)
	}
}

// New returns a Server for the folder dir. It fails if dir, or a mount's
// folder, cannot be opened as a folder, or a backend's URL is not an
// absolute http or https URL. Call Close when done to release it.
//
// With dir "", the Server serves no folder: paths that no Mount or Backend
// claims are 404. That is the form for wrapping a Go program's own handler
// (see Wrap). Its build then starts at the time of the call, so pages left
// open while the program restarts reload once they reconnect.
func New(dir string, opts Options) (*Server, error) {
	s := &Server{opts: opts, log: opts.ErrorLog, events: newBroadcaster(opts.ReloadHTML, cspNonce(opts.Header)), done: make(chan struct{}),
		maxStreams: opts.MaxStreams, points: newPointCache()}
	if s.maxStreams <= 0 {
		s.maxStreams = DefaultMaxStreams
	}
	if s.log == nil {
		s.log = log.Default()
	}
	if dir != "" {
		site, err := openFolder(dir, "", opts.SPA)
		if err != nil {
			return nil, err
		}
		s.site = site
	}
	if err := s.addRoutes(); err != nil {
		s.Close()
		return nil, err
	}
	if dir == "" {
		s.Settle(time.Now())
	}
	return s, nil
}

// Close releases the folders and stops waiting for a backend to announce
// held changes. Requests still running may fail afterwards.
func (s *Server) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done)
	if s.gate != nil {
		s.gate.stop()
	}
	var errs []error
	if s.site != nil {
		errs = append(errs, s.site.close())
	}
	for _, rt := range s.routes {
		if rt.folder != nil {
			errs = append(errs, rt.folder.close())
		}
		if rt.backend != nil {
			rt.backend.tr.CloseIdleConnections()
		}
	}
	return errors.Join(errs...)
}

// Reopen opens the folder again by the name given to New and serves from the
// new handle from then on. An os.Root holds the directory itself, not its
// name: after the folder is deleted and made again (rm -rf site && mkdir
// site), or renamed away and replaced, the old handle still points at the
// old directory. The watcher notices and main calls Reopen.
//
// Requests already running finish on the old handle or fail with a 404; the
// swap is atomic, and os.Root lets operations in flight complete before its
// descriptor is closed. If the folder cannot be opened, the old handle stays
// and the error is returned.
//
// Mounts are reopened too; with dir "", only they are.
func (s *Server) Reopen() error {
	var errs []error
	if s.site != nil {
		errs = append(errs, s.site.reopen())
	}
	for _, rt := range s.routes {
		if rt.folder != nil {
			errs = append(errs, rt.folder.reopen())
		}
	}
	return errors.Join(errs...)
}

// ServeHTTP serves /__hotserve/ endpoints, the mounts, the backends and the
// folder's files, in that order of precedence; among mounts and backends
// the longest matching prefix wins.
//
// Before anything else it checks the request's Host (see
// Options.AllowedHosts) and refuses subresource loads by pages on other
// sites. Every response, a backend's included, says X-Content-Type-Options:
// nosniff and, unless Options.CORS is set, Cross-Origin-Resource-Policy:
// same-origin, or cross-origin for a page on this machine (Vary: Origin,
// Referer).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.guard(w, r) {
		return
	}
	w = s.userWins(w)
	if rest, ok := strings.CutPrefix(r.URL.Path, Prefix); ok {
		s.serveReserved(w, r, rest)
		return
	}
	if rt := s.route(cleanPath(r)); rt != nil {
		rt.serve(s, w, r)
		return
	}
	if s.site == nil {
		http.NotFound(w, r)
		return
	}
	if !allowed(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	s.site.serveFile(s, w, r)
}

// setOwnHeaders sets the headers every response to r carries: the defences
// and Options.Header.
func (s *Server) setOwnHeaders(h http.Header, r *http.Request) {
	h.Set("X-Content-Type-Options", "nosniff")
	if !s.opts.CORS {
		h.Set("Cross-Origin-Resource-Policy", resourcePolicy(r))
		addVaryPolicy(h)
	}
	for k, v := range s.opts.Header {
		h[k] = v
	}
	if s.opts.CORS {
		h.Set("Access-Control-Allow-Origin", "*")
	}
}

// guard applies the checks every request passes first, and sets the
// headers every response carries. It returns false when it has answered
// the request itself: a refusal, or a CORS preflight.
func (s *Server) guard(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if !s.opts.CORS {
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
	}
	if code := s.hostAllowed(r.Host); code != http.StatusOK {
		// The request is not for us, so none of the user's headers.
		if code == http.StatusForbidden {
			s.warnHost(r.Host)
		}
		host, _ := splitHost(r.Host)
		refuseHost(w, r, code, host)
		return false
	}
	if s.refusedInclude(r) {
		http.Error(w, "403 forbidden", http.StatusForbidden)
		return false
	}
	s.setOwnHeaders(h, r)
	if s.opts.CORS {
		// The same cleaned path ServeHTTP routes by: a preflight goes
		// where its request will go.
		if r.Method == http.MethodOptions && !s.toBackend(r) {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			}
			h.Set("Access-Control-Max-Age", "600")
			s.userWins(w).WriteHeader(http.StatusNoContent)
			return false
		}
	}
	return true
}

// asset is one embedded browser file and the ETag that validates it; both
// change only with the hotserve binary.
type asset struct {
	body []byte
	etag string
}

func newAsset(name string, body []byte) asset {
	h := fnv.New64a()
	h.Write(body)
	return asset{body: body, etag: fmt.Sprintf(`"%s-%x"`, name, h.Sum64())}
}

// scripts are the files served under Prefix: the client every page loads,
// and the worker that owns the browser's one event stream.
var scripts = map[string]asset{
	"client.js":  newAsset("c", assets.ClientJS),
	"worker.js":  newAsset("w", assets.WorkerJS),
	"waiting.js": newAsset("b", assets.WaitingJS),
}

func (s *Server) serveReserved(w http.ResponseWriter, r *http.Request, rest string) {
	if s.opts.NoReload && rest != "reload" {
		http.NotFound(w, r)
		return
	}
	switch rest {
	case "events":
		s.serveEvents(w, r)
		return
	case "reload":
		s.serveTrigger(w, r)
		return
	case "backend":
		s.serveBackendHealth(w, r)
		return
	}
	a, ok := scripts[rest]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !allowed(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, rest, zeroTime, bytes.NewReader(a.body))
}

// allowed reports whether r's method is one of methods; if not, it answers
// 405 with an Allow header naming them.
func allowed(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
	return false
}

// cleanPath is the request's path as hotserve routes and serves it.
func cleanPath(r *http.Request) string { return path.Clean("/" + r.URL.Path) }

// toBackend reports whether r goes to a backend.
func (s *Server) toBackend(r *http.Request) bool {
	rt := s.route(cleanPath(r))
	return rt != nil && rt.backend != nil
}
