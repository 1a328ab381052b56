package server

import (
	"crypto/rand"
	"net/http"
	"strings"
)

// A backend that is this hotserve, or leads back to it, would make one
// request into an endless chain of them, each holding a goroutine and two
// sockets. Every request a proxy sends says in a Via header that it passed
// through this proxy, by a random token of its own; a request that arrives
// already saying so has gone round in a circle and is answered 508 Loop
// Detected. The command line also refuses, at start, a backend at its own
// address.

// newHop returns the Via entry a proxy adds to the requests it sends.
func newHop() string { return "1.1 hotserve-" + rand.Text() }

// looped reports whether r already passed through the proxy whose Via
// entry is hop.
func looped(r *http.Request, hop string) bool {
	for _, v := range r.Header.Values("Via") {
		for entry := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(entry) == hop {
				return true
			}
		}
	}
	return false
}

// refuseHop answers the requests a backend must not get: CONNECT, which asks
// a proxy for a tunnel that hotserve does not offer, and a request that has
// been round a loop. It reports whether it answered.
func refuseHop(w http.ResponseWriter, r *http.Request, hop string) bool {
	if r.Method == http.MethodConnect {
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
		http.Error(w, "405 method not allowed: hotserve is not a forward proxy", http.StatusMethodNotAllowed)
		return true
	}
	if looped(r, hop) {
		http.Error(w, "508 loop detected: the backend sent this request back to hotserve; point --proxy at your app, not at hotserve", http.StatusLoopDetected)
		return true
	}
	return false
}

// outgoing prepares the request a proxy sends: it adds the proxy's Via
// entry, and the path becomes the cleaned one that chose the backend, so
// that the backend never sees a path ("/api/../admin") that routing read
// otherwise. A trailing slash is kept, as routes care about it; a path that
// needs no cleaning keeps its escaping.
func outgoing(out *http.Request, hop string) {
	out.Header.Add("Via", hop)
	p := cleanPath(out)
	if strings.HasSuffix(out.URL.Path, "/") && p != "/" {
		p += "/"
	}
	if p != out.URL.Path {
		out.URL.Path, out.URL.RawPath = p, ""
	}
}
