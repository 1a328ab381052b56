package server

import (
	"errors"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/hotserve/hotserve/internal/deny"
)

// Every request is treated as hostile: a page on any site the developer
// visits can make the browser send requests to 127.0.0.1, and a DNS-rebinding
// attacker can make them same-origin. The checks in this file are what stands
// between such a page and the files in the folder. SECURITY.md describes the
// threat model.

// hostAllowed checks a request's Host (r.Host, which Go also takes from an
// absolute-form request target). It returns http.StatusOK, or the status to
// answer: 400 for a Host that does not parse, 403 for one that names a host
// this server was not told it may be called by.
//
// Allowed are IP literals, localhost and *.localhost (which browsers resolve
// to loopback without asking DNS, so an attacker cannot rebind them), and the
// names in Options.AllowedHosts. Any other name could be one an attacker
// controls and has pointed at 127.0.0.1 after the page loaded: DNS rebinding.
// An empty Host, which only HTTP/1.0 allows, is let through: a browser always
// sends one.
func (s *Server) hostAllowed(hostport string) int {
	if hostport == "" {
		return http.StatusOK
	}
	host, ok := splitHost(hostport)
	if !ok {
		return http.StatusBadRequest
	}
	if net.ParseIP(host) != nil {
		return http.StatusOK
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if localhostName(host) {
		return http.StatusOK
	}
	for _, a := range s.opts.AllowedHosts {
		a = strings.TrimSuffix(strings.ToLower(a), ".")
		if a == host {
			return http.StatusOK
		}
		// A leading dot allows the name and every name below it, as
		// Vite's allowedHosts does.
		if sub, ok := strings.CutPrefix(a, "."); ok && (host == sub || strings.HasSuffix(host, a)) {
			return http.StatusOK
		}
	}
	return http.StatusForbidden
}

// splitHost returns the host part of a Host header without brackets or port,
// and false if it is malformed: an unbalanced bracket, an IPv6 address
// without brackets, a port that is not a number, or an empty host.
func splitHost(hostport string) (string, bool) {
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", false
		}
		host, port = hostport[1:end], hostport[end+1:]
		if net.ParseIP(host) == nil || strings.Contains(host, "%") {
			return "", false
		}
		if port != "" {
			var ok bool
			if port, ok = strings.CutPrefix(port, ":"); !ok {
				return "", false
			}
		}
		return host, digits(port)
	}
	if i := strings.IndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i+1:]
	}
	if host == "" || strings.ContainsAny(host, "[]:/\\?#@% \t") {
		return "", false
	}
	return host, digits(port)
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// crossSiteSubresource reports whether the browser says another site is
// loading this URL as a script, style sheet, image or the like (XSSI): such a
// page could read globals our scripts define. Navigations (Sec-Fetch-Mode:
// navigate) and CORS requests stay allowed.
func crossSiteSubresource(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Site") == "cross-site" && r.Header.Get("Sec-Fetch-Mode") == "no-cors"
}

// sameOrigin reports whether an event-stream request comes from a page of
// this server: its Origin, if any, must be this server's own origin as the
// request names it, and Sec-Fetch-Site, if any, must not say another site or
// origin. A foreign page could otherwise watch which files change.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return strings.EqualFold(origin, scheme+r.Host)
}

// denied reports whether a cleaned, slash-separated name must never be served
// or listed; see deny.Name. The watcher applies the same rule to what it
// announces.
func denied(name string) bool { return deny.Name(name) }

func deniedSegment(seg string, windows bool) bool { return deny.Segment(seg, windows) }

// errEscapes reports a link whose target is outside the root; os.Root would
// refuse to follow it anyway.
var errEscapes = errors.New("symbolic link leads out of the folder")

// maxLinks bounds the links open follows, as the kernel's ELOOP does.
const maxLinks = 40

// warnEscape logs, once per link, that a request was refused (404) because
// it went through a symbolic link out of the folder. To the user that link
// is part of the site, the 404 is a mystery, and the fix is a flag.
func (s *Server) warnEscape(fd *folder, err error) {
	var pe *fs.PathError
	if !errors.Is(err, errEscapes) || !errors.As(err, &pe) {
		return
	}
	if _, seen := s.warned.LoadOrStore("link "+fd.prefix+" "+pe.Path, struct{}{}); seen {
		return
	}
	link := filepath.Join(fd.dir, filepath.FromSlash(pe.Path))
	target, _ := os.Readlink(link)
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(link), target)
	}
	s.log.Printf("warning: %s leads out of %s (a symbolic link to %s), so requests through it get 404; to serve that folder, add --mount /%s=%s",
		link, fd.dir, target, path.Base(pe.Path), target)
}

// warningLog is l for what the standard library logs on its own (a proxied
// body cut short, a failed TLS handshake): those lines are warnings, and
// every warning line says so.
func warningLog(l *log.Logger) *log.Logger {
	return log.New(l.Writer(), l.Prefix()+"warning: ", l.Flags())
}
