// Package server is hotserve's HTTP side: it serves a folder, injects the
// live-reload script into HTML pages, and streams build ids to browsers.
//
// A Server is an http.Handler. Everything it reads from disk goes through an
// os.Root on the folder, so neither "..", encoded or not, nor a symbolic link
// can reach outside it. Pages carry the build id current when they were sent;
// Reload and Settle publish a new one, and every open page learns of it over
// /__hotserve/events without the server ever blocking on a browser.
package server

import (
	"fmt"
	"hash/fnv"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/hotserve/hotserve/assets"
)

// Prefix is the URL path prefix hotserve reserves for itself. Nothing in the
// served folder can shadow it.
const Prefix = "/__hotserve/"

// Options configure a Server. The zero value serves the folder with live
// reload on.
type Options struct {
	// NoReload turns the server into a plain static server: no injection
	// and no event stream.
	NoReload bool
	// SPA answers an unknown path that has no file extension with the
	// folder's index.html, status 200, as single-page apps expect.
	SPA bool
	// CORS adds Access-Control-Allow-Origin: * to every response and
	// answers OPTIONS preflights with 204.
	CORS bool
	// Header is set on every response.
	Header http.Header
	// ErrorLog receives warnings about pages that could not be injected
	// and files that could not be read. If nil, log.Default() is used.
	ErrorLog *log.Logger
}

// Server serves one folder. Create it with New.
type Server struct {
	root   *os.Root
	opts   Options
	log    *log.Logger
	events *broadcaster

	warned sync.Map // path → struct{}: one warning per page, not per request
}

// New returns a Server for the folder dir. It fails if dir cannot be opened
// as a folder. Call Close when done to release it.
func New(dir string, opts Options) (*Server, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	s := &Server{root: root, opts: opts, log: opts.ErrorLog, events: newBroadcaster()}
	if s.log == nil {
		s.log = log.Default()
	}
	return s, nil
}

// Close releases the folder. Requests still running may fail afterwards.
func (s *Server) Close() error { return s.root.Close() }

// ServeHTTP serves /__hotserve/ endpoints and the folder's files.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range s.opts.Header {
		h[k] = v
	}
	if s.opts.CORS {
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			}
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, Prefix); ok {
		s.serveReserved(w, r, rest)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.serveFile(w, r)
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
	"client.js": newAsset("c", assets.ClientJS),
	"worker.js": newAsset("w", assets.WorkerJS),
}

func (s *Server) serveReserved(w http.ResponseWriter, r *http.Request, rest string) {
	if s.opts.NoReload {
		http.NotFound(w, r)
		return
	}
	if rest == "events" {
		s.serveEvents(w, r)
		return
	}
	a, ok := scripts[rest]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, rest, zeroTime, bytesReader(a.body))
}
