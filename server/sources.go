package server

import (
	"strings"
	"time"

	"github.com/hotserve/hotserve/internal/deny"
)

// Source is a folder whose changes a watcher reports to the Server: the
// folder given to New, a Mount's, or one that is only watched (templates, a
// backend's sources). The Server knows what its paths mean to a page, so a
// batch from a Source is announced with Announce, not built by hand.
type Source struct {
	// Dir is the folder to watch.
	Dir string
	// Site is true for the folder given to New: its first walk sets the
	// build (Settle), and its fingerprint the tree (SetFingerprint).
	Site bool
	// Hidden reports the names in Dir that are never announced: those
	// the Server never serves, unless the folder holds a backend's
	// sources, where any file may matter. Nil hides nothing.
	Hidden func(name string) bool

	prefix string // what turns a path in Dir into a URL path: "vendor/" for a mount at /vendor
	urls   bool   // its paths are URL paths; false for a folder only watched
}

// Sources returns the folders to watch for s: the folder given to New, each
// Mount's, and each folder in watch, whose changes reload every page.
func (s *Server) Sources(watch ...string) []Source {
	var srcs []Source
	for _, rt := range s.routes {
		if rt.folder != nil {
			srcs = append(srcs, Source{Dir: rt.folder.dir, Hidden: deny.Name, prefix: strings.TrimPrefix(rt.folder.prefix, "/") + "/", urls: true})
		}
	}
	if s.site != nil {
		site := Source{Dir: s.site.dir, Site: true, urls: true}
		if !s.proxiesAll() {
			site.Hidden = deny.Name
		}
		srcs = append(srcs, site)
	}
	for _, dir := range watch {
		srcs = append(srcs, Source{Dir: dir})
	}
	return srcs
}

// Announce announces a batch of changes a watcher reported in src: paths
// relative to src.Dir, slash-separated, and the newest modification time
// among them. A mount's paths get its prefix; a folder only watched
// reloads every page, and its paths, which are not URLs and need not be
// told to the browser, are left out. Like ReloadChange, it never blocks.
//
// It returns the paths as a log should name them: the URL paths announced,
// or for a folder only watched, the paths as given.
func (s *Server) Announce(src Source, paths []string, modTime time.Time) []string {
	if !src.urls {
		s.ReloadChange(Change{ModTime: modTime, Full: true})
		return paths
	}
	urls := paths
	if src.prefix != "" {
		urls = make([]string, len(paths))
		for i, p := range paths {
			urls[i] = src.prefix + p
		}
	}
	s.noteEdits(src.Dir, paths, urls)
	s.ReloadChange(Change{Paths: urls, ModTime: modTime})
	return urls
}

// Opened reports whether the Server holds src.Dir open: the folder given to
// New and the mounts, not a folder only watched. When such a folder is
// deleted and made again, call Reopen.
func (src Source) Opened() bool { return src.urls }

// ServesAll reports whether b serves every path that no Mount claims, so
// that the folder given to New holds the app's sources and is watched, not
// served.
func (b Backend) ServesAll() bool { return b.Path == "" || b.Path == "/" }

// proxiesAll reports whether one of the backends serves every path.
func (s *Server) proxiesAll() bool {
	for _, b := range s.opts.Backends {
		if b.ServesAll() {
			return true
		}
	}
	return false
}
