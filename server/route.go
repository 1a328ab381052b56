package server

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
)

// Mount serves a folder under a URL path prefix, e.g. a package's files
// under /vendor. It is confined like the main folder: its own os.Root, the
// same deny rules. Announce its changes with the prefix, without the
// leading slash ("vendor/lib.css"), so that pages match them.
type Mount struct {
	// Path is the URL path prefix, e.g. "/vendor". It must start with a
	// slash, must not be "/" and must not be under /__hotserve/.
	Path string
	// Dir is the folder served under Path.
	Dir string
}

// Backend is an HTTP server that requests are passed to. The request goes
// out as it came, path included (/api/users stays /api/users), with the
// backend's own host as Host, since that is what most apps expect; the
// browser's host is in X-Forwarded-Host, and X-Forwarded-For and
// X-Forwarded-Proto are set too. Its HTML pages, error pages included, get
// the reload script; everything else, WebSocket upgrades and event streams
// included, passes through untouched and unbuffered, but for a few headers
// that would take the browser off the Server: URLs in Location,
// Content-Location and Refresh that point at the backend itself, and
// cookie Domains that name its host. While it does not answer, a
// navigation gets a page that waits for it and then reloads itself.
//
// When a Backend serves every path, the folder given to New holds its
// sources, and a Change reloads every page unless each changed path is a
// stylesheet or image the backend served under that URL path.
type Backend struct {
	// Path is the URL path prefix whose requests go to the backend, e.g.
	// "/api". "" or "/" sends every request that no Mount claims, and the
	// folder given to New is then only watched, not served.
	Path string
	// URL is the backend's address, e.g. http://127.0.0.1:3000. A path in
	// it is put in front of the request's path (http://127.0.0.1:3000/app/
	// sends / to /app/), and taken off again in the URLs the backend sends
	// back in Location, Content-Location, Refresh and cookie paths.
	URL *url.URL
	// Insecure skips verifying the certificate of an https URL. A backend
	// on a loopback address (localhost, 127.0.0.0/8, ::1) is never
	// verified: it is the developer's own process, often with a
	// self-signed certificate.
	Insecure bool
}

// route is one mount or backend: exactly one of folder and backend is set.
type route struct {
	prefix  string // without a trailing slash; "" matches everything
	folder  *folder
	backend *proxy
}

// matches reports whether the URL path p is under the route's prefix.
func (rt *route) matches(p string) bool {
	return rt.prefix == "" || p == rt.prefix || strings.HasPrefix(p, rt.prefix+"/")
}

func (rt *route) serve(s *Server, w http.ResponseWriter, r *http.Request) {
	if rt.backend != nil {
		rt.backend.serve(s, w, r)
		return
	}
	if !allowed(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if p == rt.prefix && !strings.HasSuffix(r.URL.Path, "/") {
		// The folder's own URL: relative links in its index only work
		// below the slash. Asked for with the slash, it is the mount's
		// root, served below.
		redirect(w, r, path.Base(rt.prefix)+"/")
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(p, rt.prefix)
	if strings.HasSuffix(r.URL.Path, "/") && !strings.HasSuffix(r2.URL.Path, "/") {
		r2.URL.Path += "/" // a folder asked for as one is not redirected
	}
	r2.URL.RawPath = ""
	rt.folder.serveFile(s, w, r2)
}

// route returns the mount or backend that serves the URL path p, or nil if
// the folder does.
func (s *Server) route(p string) *route {
	for i := range s.routes {
		if s.routes[i].matches(p) {
			return &s.routes[i]
		}
	}
	return nil
}

// cleanPrefix checks a mount's or backend's path prefix and returns it
// without a trailing slash.
func cleanPrefix(kind, p string) (string, error) {
	if p == "" || p == "/" {
		if kind == "mount" {
			return "", fmt.Errorf("mount path %q: a mount needs a prefix such as /vendor", p)
		}
		return "", nil
	}
	if !strings.HasPrefix(p, "/") || path.Clean(p) != strings.TrimSuffix(p, "/") {
		return "", fmt.Errorf("%s path %q: must be a clean path starting with a slash, e.g. /api", kind, p)
	}
	p = strings.TrimSuffix(p, "/")
	if strings.HasPrefix(p+"/", Prefix) {
		return "", fmt.Errorf("%s path %q: %s is reserved for hotserve", kind, p, Prefix)
	}
	return p, nil
}

// addRoutes opens the mounts and prepares the backends.
func (s *Server) addRoutes() error {
	seen := map[string]bool{}
	for _, m := range s.opts.Mounts {
		p, err := cleanPrefix("mount", m.Path)
		if err != nil {
			return err
		}
		if seen[p] {
			return fmt.Errorf("mount path %q: given twice", m.Path)
		}
		seen[p] = true
		if m.Dir == "" {
			return fmt.Errorf("mount %s: no folder given", m.Path)
		}
		fd, err := openFolder(m.Dir, p, false)
		if err != nil {
			return fmt.Errorf("mount %s: %w", m.Path, err)
		}
		s.routes = append(s.routes, route{prefix: p, folder: fd})
	}
	for _, b := range s.opts.Backends {
		p, err := cleanPrefix("backend", b.Path)
		if err != nil {
			return err
		}
		if seen[p] {
			return fmt.Errorf("backend path %q: given twice", b.Path)
		}
		seen[p] = true
		if b.URL == nil || (b.URL.Scheme != "http" && b.URL.Scheme != "https") || b.URL.Host == "" {
			return fmt.Errorf("backend %v: not an http or https URL with a host", b.URL)
		}
		px := newProxy(s, b)
		s.routes = append(s.routes, route{prefix: p, backend: px})
		if p == "" && !s.opts.NoReload {
			s.gate = &gate{s: s, backend: px}
		}
	}
	// Longest prefix first, so /api/v2 wins over /api; "" comes last.
	slices.SortStableFunc(s.routes, func(a, b route) int { return len(b.prefix) - len(a.prefix) })
	return nil
}
