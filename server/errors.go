package server

import (
	"html"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// notFound answers a request for a path the folder does not serve. A
// navigation gets a small page with the reload script: the tab landed
// there after a git checkout or an rm, or before a build wrote the file,
// and with the script it reloads as soon as that path is announced. Any
// other request gets http.NotFound's plain text, as http.FileServer sends.
// prefix is the URL path of the folder r's path is relative to.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, prefix string) {
	if s.opts.NoReload || !wantsPage(r) {
		http.NotFound(w, r)
		return
	}
	p := html.EscapeString(prefix + r.URL.Path)
	var b strings.Builder
	b.WriteString(`<!doctype html>
<html><head><meta charset="utf-8"><title>404 Not Found</title>`)
	b.Write(s.events.cur.Load().tag)
	b.WriteString(errorStyle + `</head>
<body><h1>404 Not Found</h1>
<p><code>` + p + `</code> is not in the folder. This page reloads by itself when it appears.</p>
</body></html>
`)
	// no-store: the page carries the current build, and a cached copy
	// would reload for a build long gone.
	w.Header().Set("Cache-Control", "no-store")
	writePage(w, r, http.StatusNotFound, b.String())
}

// refuseHost answers a request whose Host names a host that is not
// allowed (see hostAllowed). A navigation gets a page that says which flag
// allows it, since the developer behind a proxy or a custom /etc/hosts name
// sees it in the tab, not in hotserve's log. The page has no script: it
// comes from a host hotserve does not trust, and nothing reloads it.
// Anything else gets the plain text it always got.
func refuseHost(w http.ResponseWriter, r *http.Request, code int, host string) {
	if code != http.StatusForbidden || !wantsPage(r) {
		http.Error(w, strconv.Itoa(code)+" "+strings.ToLower(http.StatusText(code)), code)
		return
	}
	h := html.EscapeString(host)
	w.Header().Set("Cache-Control", "no-store")
	writePage(w, r, code, `<!doctype html>
<html><head><meta charset="utf-8"><title>403 Forbidden: host not allowed</title>`+errorStyle+`</head>
<body><h1>403 Forbidden: host not allowed</h1>
<p>hotserve answers only requests for localhost, *.localhost, IP addresses and the host names it was told to allow, so that no web site can reach your files through DNS rebinding.</p>
<p>If <code>`+h+`</code> is your own name for this server, start hotserve with <code>--allow-host `+h+`</code>.</p>
</body></html>
`)
}

// errorStyle keeps the error pages readable; inline styles only apply on
// pages whose policy allows them, and these pages set none.
const errorStyle = `<style>body{font:16px/1.5 system-ui,sans-serif;margin:3em auto;max-width:40em;color:#333}</style>`

// writePage sends an HTML page with the status code; HEAD gets the headers
// only.
func writePage(w http.ResponseWriter, r *http.Request, code int, page string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	h.Del("ETag")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		io.WriteString(w, page)
	}
}

// appRoute reports whether a request for a missing path should get the
// single-page app's index.html under Options.SPA: when the browser will show
// the answer as a page. A route may hold dots (/users/john.doe), and a
// missing /app.js that a script tag asks for must stay a 404, so the
// request's purpose decides, not the path's look. Requests that say
// neither Sec-Fetch-Dest nor Accept: text/html (curl, scripts) keep the
// older rule: extension-less paths are routes.
func appRoute(r *http.Request, p string) bool {
	if r.Header.Get("Sec-Fetch-Dest") != "" || strings.Contains(r.Header.Get("Accept"), "text/html") {
		return wantsPage(r)
	}
	return path.Ext(p) == ""
}
