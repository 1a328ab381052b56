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
// temporary file's batch closes before the rename unless the watcher holds
// it; it must not be announced, since it is gone a moment later. Dotfiles
// are hidden and some editors' names are ignored, but most tools name the
// file after the page with a random suffix, or not after it at all.
func TestAtomicSaveIsOneChangeToTheRealFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		temp string
	}{
		{name: "a dotfile", temp: ".index.html.tmp-123"},
		{name: "a backup name", temp: "index.html.1234~"},
		{name: "an Emacs lock name", temp: ".#index.html"},
		{name: "write-file-atomic's name and hash", temp: "index.html.1a2b3c4d"},
		{name: "QSaveFile's name and random suffix", temp: "index.html.Ab12Cd"},
		{name: "sed -i's unrelated name", temp: "sedAb12Cd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, dir, map[string]string{"index.html": "<p>old", "site.css": "p{}"})
			w := startWatch(t, dir, Config{Hidden: deny.Name})

			saveAtomically(t, dir, tt.temp, "index.html", "<p>new")
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

// saveAtomically writes content to the slash path temp under dir, waits
// 30 ms as write-file-atomic does between the two steps (its fsync), and
// renames it to the slash path name.
func saveAtomically(t *testing.T, dir, temp, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, filepath.FromSlash(temp))
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// The tool's own pause (its fsync, say), not a wait for hotserve. A
	// real fsync is left out: on a busy disk it can outlast the 300 ms
	// hold, which would make the test fail for the disk's sake.
	time.Sleep(30 * time.Millisecond)
	if err := os.Rename(tmp, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
		t.Fatal(err)
	}
}

// TestNewFilesAreAnnouncedOnce shows that holding a batch of new files, so
// that a temporary file can be renamed away, still announces a file that
// stays, once, and announces nothing for one that does not.
func TestNewFilesAreAnnouncedOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	makeTree(t, dir, map[string]string{"index.html": "<p>", "site.css": "p{}"})
	w := startWatch(t, dir, Config{Hidden: deny.Name})

	// A page created with a plain write.
	write(t, dir, "about.html", "<p>about")
	if b := w.next(t); !slices.Equal(b.Paths, []string{"about.html"}) {
		t.Fatalf("got %v, want [about.html]", b.Paths)
	}
	// A scratch file that lives 30 ms, as a tool's probe or lock does.
	write(t, dir, "scratch.txt", "x")
	time.Sleep(30 * time.Millisecond) // the tool's own pause
	if err := os.Remove(filepath.Join(dir, "scratch.txt")); err != nil {
		t.Fatal(err)
	}
	// A later save of another file shows that nothing else was announced
	// in between.
	write(t, dir, "site.css", "p{color:red}")
	if b := w.next(t); !slices.Equal(b.Paths, []string{"site.css"}) {
		t.Fatalf("got %v, want [site.css]: the scratch file was announced", b.Paths)
	}
	// A page created with an atomic save: the temporary file is new too.
	saveAtomically(t, dir, "contact.html.1a2b3c4d", "contact.html", "<p>contact")
	if b := w.next(t); !slices.Equal(b.Paths, []string{"contact.html"}) {
		t.Fatalf("got %v, want [contact.html]", b.Paths)
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
