package server

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/hotserve/hotserve/internal/ssetest"
)

// The server, not its caller, knows what a watcher's paths mean: the site's
// are URL paths, a mount's get its prefix, and a folder only watched
// reloads every page without telling the browser its file names.
func TestAnnounceFromEachSource(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	lib := site(t, map[string]string{"lib.css": "p{}"})
	tmpl := t.TempDir()
	s, base := start(t, dir, Options{Mounts: []Mount{{Path: "/vendor/", Dir: lib}}})
	s.Settle(time.UnixMilli(1000))
	st := ssetest.Open(t, base+"/__hotserve/events")
	st.Next(t, 5*time.Second)

	srcs := s.Sources(tmpl)
	if len(srcs) != 3 {
		t.Fatalf("got %d sources, want the site, the mount and the watched folder", len(srcs))
	}
	byDir := map[string]Source{}
	for _, src := range srcs {
		byDir[src.Dir] = src
	}
	for _, tc := range []struct {
		name      string
		src       Source
		paths     []string
		wantPaths []string
		wantFull  bool
		wantLog   []string
		wantSite  bool
	}{
		{"the site's paths are URL paths", byDir[dir], []string{"index.html"}, []string{"index.html"}, false, []string{"index.html"}, true},
		{"a mount's paths get its prefix", byDir[lib], []string{"lib.css"}, []string{"vendor/lib.css"}, false, []string{"vendor/lib.css"}, false},
		{"a folder only watched reloads every page and names nothing", byDir[tmpl], []string{"page.tmpl"}, []string{}, true, []string{"page.tmpl"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.src.Site != tc.wantSite {
				t.Errorf("Site: got %v, want %v", tc.src.Site, tc.wantSite)
			}
			logged := s.Announce(tc.src, tc.paths, time.Time{})
			ev := st.Next(t, 5*time.Second)
			if !slices.Equal(ev.Data.Paths, tc.wantPaths) || ev.Data.Reload != tc.wantFull {
				t.Errorf("announced paths %q reload %v, want %q reload %v", ev.Data.Paths, ev.Data.Reload, tc.wantPaths, tc.wantFull)
			}
			if !slices.Equal(logged, tc.wantLog) {
				t.Errorf("to log: got %q, want %q", logged, tc.wantLog)
			}
		})
	}
	if !byDir[dir].Hidden(".env") || !byDir[lib].Hidden(".env") || byDir[tmpl].Hidden != nil {
		t.Error("the site and mounts hide what is never served; a folder only watched hides nothing")
	}
}

// Behind a backend for every path, the folder holds the app's sources:
// every name in it may matter.
func TestSourcesBehindABackendHideNothing(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	u, _ := url.Parse("http://127.0.0.1:1")
	s, _ := start(t, dir, Options{Backends: []Backend{{URL: u}}})
	srcs := s.Sources()
	if len(srcs) != 1 || !srcs[0].Site || srcs[0].Hidden != nil {
		t.Errorf("got %+v, want the site with no Hidden", srcs)
	}
}
