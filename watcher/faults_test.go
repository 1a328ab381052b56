package watcher

import (
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hotserve/hotserve/internal/testio"
)

// syncLog collects what the watcher logs; tests read it while it runs.
type syncLog = testio.Buffer

// limited is a dirWatcher that runs out of watches after n, as inotify does
// when fs.inotify.max_user_watches is reached.
type limited struct {
	dirWatcher
	n atomic.Int32
}

func (l *limited) Add(name string) error {
	if l.n.Add(-1) < 0 {
		return syscall.ENOSPC
	}
	return l.dirWatcher.Add(name)
}

// nextWith returns the first batch that contains path, failing the test if
// none comes in time.
func (w *watching) nextWith(t *testing.T, path string) Batch {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case b := <-w.batches:
			if slices.Contains(b.Paths, path) {
				return b
			}
		case <-deadline:
			t.Fatalf("no batch with %s within %v", path, wait)
		}
	}
}

func TestWatchLimitFallsBackToPolling(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	makeTree(t, dir, map[string]string{"a/x.css": "x", "b/y.css": "y", "c/d/z.css": "z"})
	var logs syncLog
	w := startWatchWith(t, dir, Config{ErrorLog: log.New(&logs, "", 0), holdNew: noHold}, func(d dirWatcher) dirWatcher {
		l := &limited{dirWatcher: d}
		l.n.Store(2) // the folder and a
		return l
	})
	if got := logs.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "sudo sysctl fs.inotify.max_user_watches=") || !strings.Contains(got, "polled every 500ms") {
		t.Errorf("got log %q, want one message naming the limit, its fix and the polling", got)
	}
	// b and c/d could not be watched: their changes come from the poller.
	write(t, dir, "c/d/z.css", "changed")
	if b := w.nextWith(t, "c/d/z.css"); !slices.Equal(b.Paths, []string{"c/d/z.css"}) {
		t.Errorf("got batch %q, want only c/d/z.css", b.Paths)
	}
	makeTree(t, dir, map[string]string{"b/new/n.css": "n"})
	w.nextWith(t, "b/new/n.css")
	// a is still watched by fsnotify.
	write(t, dir, "a/x.css", "changed")
	w.nextWith(t, "a/x.css")
	if got := logs.String(); strings.Count(got, "\n") != 1 {
		t.Errorf("got log %q, want the limit named once", got)
	}
}

func TestUnwatchableFilesystemIsPolled(t *testing.T) {
	var magic int64
	for m, name := range unwatchable {
		if name == "NFS" {
			magic = m
		}
	}
	if magic == 0 {
		t.Skip("filesystem types are only detected on Linux")
	}
	old := fsType
	t.Cleanup(func() { fsType = old })
	var asked atomic.Value
	fsType = func(dir string) (int64, error) { asked.Store(dir); return magic, nil }

	dir := t.TempDir()
	write(t, dir, "index.html", "v1")
	var logs syncLog
	w := startWatchWith(t, dir, Config{ErrorLog: log.New(&logs, "", 0), holdNew: noHold}, func(d dirWatcher) dirWatcher {
		if _, ok := d.(noWatcher); !ok {
			t.Errorf("got a %T, want no native watcher", d)
		}
		return d
	})
	if got := logs.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "on NFS") || !strings.Contains(got, "polling it every 500ms") {
		t.Errorf("got log %q, want one line saying the folder is polled and why", got)
	}
	if asked.Load() != dir {
		t.Errorf("statfs asked about %v, want %s", asked.Load(), dir)
	}
	write(t, dir, "index.html", "v2")
	w.nextWith(t, "index.html")
}

func TestLinkedDirectories(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "site")
	makeTree(t, dir, map[string]string{"sub/x.css": "x", "node_modules/pkg/a.js": "a", "sub/deep/": ""})
	makeTree(t, parent, map[string]string{"outside/o.css": "o"})
	for link, target := range map[string]string{
		"loop":          "..",
		"self":          ".",
		"alias":         "sub",
		"sub/deep/back": "../..",
		"pkg":           "node_modules/pkg",
		"out":           "../outside",
		"abs":           "/",
		"dangling":      "missing",
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	begin := time.Now()
	w := startWatch(t, dir, Config{Debounce: testDebounce, holdNew: noHold})
	t.Logf("started in %v", time.Since(begin))

	t.Run("a change in a linked directory is announced under both names", func(t *testing.T) {
		write(t, dir, "sub/x.css", "changed")
		if b := w.nextWith(t, "sub/x.css"); !slices.Equal(b.Paths, []string{"alias/x.css", "sub/x.css"}) {
			t.Errorf("got %q, want alias/x.css and sub/x.css", b.Paths)
		}
		write(t, dir, "alias/y.css", "made through the link")
		if b := w.nextWith(t, "alias/y.css"); !slices.Equal(b.Paths, []string{"alias/y.css", "sub/y.css"}) {
			t.Errorf("got %q, want alias/y.css and sub/y.css", b.Paths)
		}
	})
	t.Run("a link to an ignored directory inside is watched under its name", func(t *testing.T) {
		write(t, dir, "node_modules/pkg/a.js", "changed")
		if b := w.nextWith(t, "pkg/a.js"); !slices.Equal(b.Paths, []string{"pkg/a.js"}) {
			t.Errorf("got %q, want pkg/a.js", b.Paths)
		}
	})
	t.Run("a link out of the folder is not followed", func(t *testing.T) {
		write(t, parent, "outside/o.css", "changed")
		write(t, dir, "sentinel.txt", "s")
		if b := w.nextWith(t, "sentinel.txt"); !slices.Equal(b.Paths, []string{"sentinel.txt"}) {
			t.Errorf("got %q, want only the sentinel", b.Paths)
		}
	})
	t.Run("a link made later is followed", func(t *testing.T) {
		if err := os.Symlink("sub", filepath.Join(dir, "later")); err != nil {
			t.Fatal(err)
		}
		w.nextWith(t, "later")
		write(t, dir, "sub/z.css", "z")
		if b := w.nextWith(t, "sub/z.css"); !slices.Contains(b.Paths, "later/z.css") {
			t.Errorf("got %q, want later/z.css too", b.Paths)
		}
	})
}

func TestLinkLoopsAreNotWalked(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, map[string]string{"a/b/": "", "node_modules/m/": ""})
	for link, target := range map[string]string{
		"up":                  "..",
		"a/b/top":             "../..",
		"a/b/self":            ".",
		"m":                   "node_modules/m",
		"node_modules/m/back": "../../m", // through the followed link to itself
		"x":                   "y",
		"y":                   "x",
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	fw := &fakeWatcher{}
	l := newLoop(Config{ErrorLog: log.New(io.Discard, "", 0)}, dir, fw)
	done := make(chan error, 1)
	go func() { done <- l.walk(dir, func(string, fs.DirEntry) {}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatal("the walk did not finish")
	}
	if got, want := relPaths(dir, fw.added), []string{".", "a", "a/b", "m"}; !slices.Equal(got, want) {
		t.Errorf("got watches %q, want %q", got, want)
	}
}

func TestFolderReplaced(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		replace func(t *testing.T, dir string)
	}{
		{
			name: "deleted and made again",
			replace: func(t *testing.T, dir string) {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				makeTree(t, dir, map[string]string{"index.html": "v2", "v2.css": "new"})
			},
		},
		{
			// As the server's os.Root holds it: the kernel then sends no
			// IN_DELETE_SELF.
			name: "deleted while held open and made again",
			replace: func(t *testing.T, dir string) {
				f, err := os.Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				makeTree(t, dir, map[string]string{"index.html": "v2", "v2.css": "new"})
			},
		},
		{
			name: "renamed away and replaced",
			replace: func(t *testing.T, dir string) {
				if err := os.Rename(dir, dir+".old"); err != nil {
					t.Fatal(err)
				}
				makeTree(t, dir, map[string]string{"index.html": "v2", "v2.css": "new"})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "site")
			makeTree(t, dir, map[string]string{"index.html": "v1", "css/site.css": "x"})
			var roots atomic.Int32
			var logs syncLog
			w := startWatch(t, dir, Config{OnRoot: func() { roots.Add(1) }, ErrorLog: log.New(&logs, "", 0), holdNew: noHold})

			tt.replace(t, dir)
			if b := w.nextWith(t, "v2.css"); !slices.Equal(b.Paths, []string{"index.html", "v2.css"}) {
				t.Errorf("got %q, want everything in the new folder", b.Paths)
			}
			if roots.Load() != 1 {
				t.Errorf("OnRoot was called %d times, want 1", roots.Load())
			}
			if got := logs.String(); !strings.Contains(got, "removed or renamed") || !strings.Contains(got, "is back") {
				t.Errorf("got log %q, want the loss and the return", got)
			}
			// The new folder is watched, the old one is not.
			write(t, dir, "new.css", "n")
			if b := w.nextWith(t, "new.css"); !slices.Equal(b.Paths, []string{"new.css"}) {
				t.Errorf("got %q, want new.css", b.Paths)
			}
			if _, err := os.Stat(dir + ".old"); err == nil {
				write(t, dir+".old", "stale.css", "s")
				write(t, dir, "sentinel.txt", "s")
				if b := w.nextWith(t, "sentinel.txt"); !slices.Equal(b.Paths, []string{"sentinel.txt"}) {
					t.Errorf("got %q, want only the sentinel: the old folder is still watched", b.Paths)
				}
			}
		})
	}
}

// TestPollCost measures one poll of a tree of 100 directories and 5000
// files; the figure is logged, and the test fails only if polling is far
// slower than listing the tree should be.
func TestPollCost(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test writes 5,000 files to time a poll")
	}
	dir := t.TempDir()
	for d := range 100 {
		sub := filepath.Join(dir, fmt.Sprintf("d%03d", d))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := range 50 {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%02d.css", f)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	l := newLoop(Config{Poll: time.Second}, dir, noWatcher{})
	if err := l.walk(dir, func(string, fs.DirEntry) {}); err != nil {
		t.Fatal(err)
	}
	const rounds = 5
	begin := time.Now()
	for range rounds {
		if l.poll() {
			t.Fatal("a poll of an unchanged tree found changes")
		}
	}
	per := time.Since(begin) / rounds
	t.Logf("one poll of %d directories and 5000 files takes %v", len(l.polled), per)
	if per > time.Second {
		t.Errorf("one poll takes %v", per)
	}
}
