package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"strings"
)

// maxTriggerBody bounds the JSON a build tool may send to /__hotserve/reload.
const maxTriggerBody = 64 << 10

// crossOrigin refuses POSTs that a browser says come from another origin.
var crossOrigin = http.NewCrossOriginProtection()

// serveTrigger answers POST /__hotserve/reload, with which a build tool
// announces that it is done: an empty body reloads every page, and
//
//	{"paths": ["css/site.css"]}
//
// announces those URL paths (relative to the site's root), as a watcher
// would. It answers 204.
//
// Only programs on this machine may trigger reloads: the request must come
// from a loopback address, and a browser must not say it comes from another
// site or origin (http.CrossOriginProtection checks Sec-Fetch-Site and
// Origin), so that no web page can make every tab reload. Host is checked
// by guard before this, as for every request.
func (s *Server) serveTrigger(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, http.MethodPost) {
		return
	}
	if !fromLoopback(r) {
		http.Error(w, "403 forbidden: reloads may be triggered from this machine only", http.StatusForbidden)
		return
	}
	if err := crossOrigin.Check(r); err != nil {
		http.Error(w, "403 forbidden: cross-origin request", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTriggerBody+1))
	if err != nil {
		http.Error(w, "400 bad request: could not read the body", http.StatusBadRequest)
		return
	}
	if len(body) > maxTriggerBody {
		http.Error(w, "413 request entity too large", http.StatusRequestEntityTooLarge)
		return
	}
	paths, err := triggerPaths(body)
	if err != nil {
		http.Error(w, "400 bad request: "+err.Error()+`; send nothing, or {"paths": ["css/site.css"]}`, http.StatusBadRequest)
		return
	}
	if s.opts.NoReload {
		http.Error(w, "404 page not found: reloading is off (--no-reload)", http.StatusNotFound)
	} else {
		s.Reload(paths...)
		w.WriteHeader(http.StatusNoContent)
	}
	if s.opts.OnTrigger != nil {
		s.opts.OnTrigger(paths)
	}
}

// triggerPaths parses a trigger's body into clean URL paths without the
// leading slash. An empty body gives none.
func triggerPaths(body []byte) ([]string, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var req struct {
		Paths []string `json:"paths"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, errors.New("the body is not the JSON expected")
	}
	paths := make([]string, 0, len(req.Paths))
	for _, p := range req.Paths {
		c := strings.TrimPrefix(path.Clean("/"+p), "/")
		if c == "" || strings.ContainsAny(c, "\x00\\") {
			return nil, fmt.Errorf("bad path %q", p)
		}
		paths = append(paths, c)
	}
	return paths, nil
}

// fromLoopback reports whether the request's peer is on this machine.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
