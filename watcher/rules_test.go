package watcher

import (
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotserve/hotserve/internal/deny"
)

// TestAtomicSaveIsOneChangeToTheRealFile saves the way write-file-atomic,
// Emacs and many tools do: a temporary file is written and fsynced, and 30
// ms later renamed over the page. That is longer than the debounce, so the
// temporary file's batch closes before the rename; it must not be
// announced, since it is never served.
func TestAtomicSaveIsOneChangeToTheRealFile(t *testing.T) {
	for _, temp := range []string{".index.html.tmp-123", "index.html.1234~", ".#index.html"} {
		t.Run(temp, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, dir, map[string]string{"index.html": "<p>old", "site.css": "p{}"})
			w := startWatch(t, dir, Config{Hidden: deny.Name})

			tmp := filepath.Join(dir, temp)
			f, err := os.Create(tmp)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("<p>new"); err != nil {
				t.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(30 * time.Millisecond) // the tool's own pause, not a wait for hotserve
			if err := os.Rename(tmp, filepath.Join(dir, "index.html")); err != nil {
				t.Fatal(err)
			}
			if b := w.next(t); !slices.Equal(b.Paths, []string{"index.html"}) {
				t.Fatalf("first batch %v, want [index.html]", b.Paths)
			}
			// A later save of another file shows that nothing else was
			// announced in between.
			write(t, dir, "site.css", "p{color:red}")
			if b := w.next(t); !slices.Equal(b.Paths, []string{"site.css"}) {
				t.Fatalf("second batch %v, want [site.css]", b.Paths)
			}
		})
	}
}

func TestHiddenPathsAreNotAnnounced(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, map[string]string{"index.html": "<p>", ".env": "A=1", "keys/server.key": "k"})
	w := startWatch(t, dir, Config{Hidden: deny.Name})
	write(t, dir, ".env", "A=2")
	write(t, dir, "keys/server.key", "k2")
	makeTree(t, dir, map[string]string{".cache/x.js": "1"})
	write(t, dir, "index.html", "<p>2")
	if b := w.next(t); !slices.Equal(b.Paths, []string{"index.html"}) {
		t.Fatalf("got %v, want [index.html] only", b.Paths)
	}
}

// fingerprints runs Watch on dir and returns the fingerprint after the
// initial walk and a function that returns the latest one.
func fingerprints(t *testing.T, dir string) (*watching, func() uint64) {
	t.Helper()
	var fp atomic.Uint64
	w := startWatch(t, dir, Config{Hidden: deny.Name, OnFingerprint: func(v uint64) { fp.Store(v) }})
	return w, fp.Load
}

func TestFingerprintSeesEveryChangeAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, map[string]string{"index.html": "<p>one", "a/b.css": "p{}", "a/c/d.js": "1", ".env": "A=1"})
	old := time.Now().Add(-time.Hour)
	for _, p := range []string{"index.html", "a/b.css", "a/c/d.js"} {
		if err := os.Chtimes(filepath.Join(dir, p), old, old); err != nil {
			t.Fatal(err)
		}
	}
	w, fp := fingerprints(t, dir)
	start := fp()
	if start == 0 {
		t.Fatal("no fingerprint after the walk")
	}

	// Changes while watching keep the fingerprint equal to a fresh
	// walk's, so that a restart after them reloads nothing.
	write(t, dir, "index.html", "<p>two")
	w.next(t)
	if err := os.RemoveAll(filepath.Join(dir, "a", "c")); err != nil {
		t.Fatal(err)
	}
	w.next(t)
	if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "z")); err != nil {
		t.Fatal(err)
	}
	w.next(t)
	live := fp()
	if live == start {
		t.Fatal("the fingerprint did not change with the files")
	}
	w.stop()
	_, fp2 := fingerprints(t, dir)
	if got := fp2(); got != live {
		t.Fatalf("after a restart with nothing changed the fingerprint is %x, want %x as kept while watching", got, live)
	}

	// While nothing watches, a file is replaced by one with an older time
	// (cp -p): the newest time does not move, the fingerprint must.
	if err := os.WriteFile(filepath.Join(dir, "z", "b.css"), []byte("p{color:red}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(dir, "z", "b.css"), old.Add(-time.Hour), old.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, fp3 := fingerprints(t, dir)
	if fp3() == live {
		t.Fatal("an older file copied in while stopped left the fingerprint unchanged")
	}
	// A hidden file changes nothing.
	before := fp3()
	write(t, dir, ".env", "A=2")
	_, fp4 := fingerprints(t, dir)
	if fp4() != before {
		t.Fatal("a change to .env changed the fingerprint")
	}
}
