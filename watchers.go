package main

import (
	"context"
	"fmt"
	"log"
	"path"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hotserve/hotserve/server"
	"github.com/hotserve/hotserve/watcher"
)

// watchSources runs one watcher in g for each folder the server names (the
// site, each --mount, each --watch) until ctx is done. Each batch goes to
// the server, which knows what its paths mean to a page, and to the log.
func watchSources(ctx context.Context, g *errgroup.Group, srv *server.Server, cfg *config, logger *log.Logger) {
	for _, src := range srv.Sources(cfg.watch...) {
		wc := watcher.Config{
			Dir: src.Dir, Hidden: src.Hidden,
			Ignore: cfg.ignore, Debounce: cfg.debounce, Poll: cfg.poll, ErrorLog: logger,
			OnChange: func(b watcher.Batch) {
				logChange(logger, srv, srv.Announce(src, b.Paths, b.ModTime))
			},
		}
		if src.Opened() && !cfg.debounceIsSet {
			// A folder only watched reloads every page for any change,
			// and a --debounce of the user's own is the quiet time of
			// every batch.
			wc.InPlace = inPlace
		}
		if src.Opened() {
			// A folder that reappears (deleted and made again) is
			// opened anew: an os.Root holds the old directory, not
			// the name.
			dir := src.Dir
			wc.OnRoot = func() {
				if err := srv.Reopen(); err != nil {
					logger.Printf("warning: reopen %s: %v", dir, err)
				}
			}
		}
		if src.Site {
			wc.OnReady, wc.OnFingerprint = srv.Settle, srv.SetFingerprint
		}
		g.Go(func() error { return watchError(watcher.Watch(ctx, wc)) })
	}
}

// inPlace reports whether a tab applies a change of the file at rel in
// place, where a newer change supersedes one still loading: the
// stylesheets and images that client.js swaps (see update there). Such a
// batch needs no wait for a burst to end, so the watcher announces it
// sooner (watcher.Config.InPlace).
func inPlace(rel string) bool {
	switch strings.ToLower(path.Ext(rel)) {
	case ".css", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".ico", ".bmp":
		return true
	}
	return false
}

// logChange prints one line per announced batch. Under --quiet the logger
// discards it.
func logChange(logger *log.Logger, srv *server.Server, paths []string) {
	logger.Printf("%s changed: %s (%s)", time.Now().Format("15:04:05"), summarize(paths), connected(srv.Streams()))
}

// watchError adds a way out to a watcher that could not start. The watch
// limit is not one of those: the watcher polls the folders it cannot watch,
// and logs the sysctl that raises the limit.
func watchError(err error) error {
	if err != nil {
		return withHint(err, "use --no-reload to serve without watching, or --poll 500ms to look for changes without file events")
	}
	return nil
}

// summarize names the first three paths and counts the rest.
func summarize(paths []string) string {
	if len(paths) <= 3 {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s +%d more", strings.Join(paths[:3], ", "), len(paths)-3)
}

// connected says how many browsers are listening for reloads. A browser
// holds one event stream for all its tabs of the site (a SharedWorker, or
// the tab elected with Web Locks), so streams count browsers, not tabs.
func connected(n int) string {
	if n == 1 {
		return "1 browser connected"
	}
	return fmt.Sprintf("%d browsers connected", n)
}
