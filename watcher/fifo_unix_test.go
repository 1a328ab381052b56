//go:build linux || darwin

package watcher

import (
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestNamedPipeIsNeverAnnounced puts a named pipe in the folder, before the
// walk and while watching, with fsnotify and with polling. Neither may
// block on it (nothing is opened), and since a pipe is never served, it is
// never announced.
func TestNamedPipeIsNeverAnnounced(t *testing.T) {
	for _, poll := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(map[bool]string{true: "polling", false: "fsnotify"}[poll > 0], func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, dir, map[string]string{"index.html": "<p>", "sub/a.css": "p{}"})
			if err := syscall.Mkfifo(filepath.Join(dir, "early.html"), 0o644); err != nil {
				t.Fatal(err)
			}
			w := startWatch(t, dir, Config{Poll: poll})
			if err := syscall.Mkfifo(filepath.Join(dir, "sub", "late.html"), 0o644); err != nil {
				t.Fatal(err)
			}
			write(t, dir, "index.html", "<p>2")
			for {
				b := w.next(t)
				if slices.ContainsFunc(b.Paths, func(p string) bool { return p == "sub/late.html" || p == "early.html" }) {
					t.Fatalf("a named pipe was announced: %v", b.Paths)
				}
				if slices.Contains(b.Paths, "index.html") {
					return
				}
			}
		})
	}
}
