package server

import (
	"net/http"
	"net/url"
	"strings"
)

// Pages served from this machine, on any port and under any loopback name,
// may include the folder's files as images, scripts and style sheets: a dev
// server on :3000 that shows images from hotserve on :8080 is an ordinary
// setup, and only a program on this machine can serve such a page. Pages
// from anywhere else stay refused (see crossSiteSubresource): they could
// read what our scripts define.
//
// A no-cors include carries no Origin, so the page is known by its Referer,
// which browsers send as at least the page's origin unless the page asks
// them not to; a page that hides it is treated as a foreign one. Neither
// header can be forged by a page for another origin.

// fromThisMachine reports whether the page that made r is served from a
// loopback address or a name browsers resolve only to one: localhost,
// *.localhost, 127.0.0.0/8 or ::1. An Origin, when sent, decides; "null"
// (a sandboxed or privacy-sensitive context) is not this machine.
func fromThisMachine(r *http.Request) bool {
	from := r.Header.Get("Origin")
	if from == "" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		return false // most requests: a navigation typed in, or curl
	}
	u, err := url.Parse(from)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return loopbackName(u.Hostname())
}

// loopbackName reports whether host, without brackets or port, is one that
// always means this machine: what loopback takes, in any case and with a
// trailing dot, and names under localhost too. An IPv6 address with a zone
// ("::1%lo"), which loopback takes, is not one here.
func loopbackName(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return localhostName(host) || (!strings.Contains(host, "%") && loopback(host))
}

// localhostName reports whether host, in lower case and without a trailing
// dot, is localhost or a name under it: names that resolve to loopback
// without asking DNS (RFC 6761), so an attacker cannot rebind them.
func localhostName(host string) bool {
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// resourcePolicy is the Cross-Origin-Resource-Policy for a response to r.
// same-site would not do for a page on another port of this machine:
// Chromium counts 127.0.0.1:3000 and 127.0.0.1:8080 as different sites for
// it, and localhost and 127.0.0.1 are different sites anyway. So a request
// from this machine gets cross-origin, and any other same-origin. The
// answer depends on Origin and Referer, which the response's Vary says.
func resourcePolicy(r *http.Request) string {
	if fromThisMachine(r) {
		return "cross-origin"
	}
	return "same-origin"
}

// refusedInclude reports whether r is another site's page including one of
// our files, and must be refused: crossSiteSubresource, unless the page is
// on this machine. The first such request is logged with the flag that
// lifts the defence, since a user who wants it sees only a broken image; so
// is the first include from another site that the browser will block for
// the same-origin resource policy.
func (s *Server) refusedInclude(r *http.Request) bool {
	if s.opts.CORS || r.Header.Get("Sec-Fetch-Mode") != "no-cors" || fromThisMachine(r) {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
	default:
		return false
	}
	if _, seen := s.warned.LoadOrStore("include", struct{}{}); !seen {
		by := "a page on another site"
		if u, err := url.Parse(r.Header.Get("Referer")); err == nil && u.Host != "" {
			by = "a page on " + u.Scheme + "://" + u.Host
		}
		s.log.Printf("warning: refused to let %s include %s; pages on this machine may, others only with --cors", by, cleanPath(r))
	}
	return crossSiteSubresource(r)
}

// varyPolicy is the Vary value for what resourcePolicy reads. Shared by
// every response and never modified: its capacity is its length, so an Add
// to the header copies it.
var varyPolicy = []string{"Origin, Referer"}

// addVaryPolicy adds Origin and Referer to the Vary header, once each.
func addVaryPolicy(h http.Header) {
	have := h["Vary"]
	if len(have) == 0 {
		h["Vary"] = varyPolicy[:1:1]
		return
	}
	all := strings.ToLower(strings.Join(have, ","))
	for _, n := range []string{"Origin", "Referer"} {
		if !strings.Contains(all, strings.ToLower(n)) {
			h.Add("Vary", n)
		}
	}
}
