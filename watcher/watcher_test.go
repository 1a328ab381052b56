package watcher

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait on the real watcher. It is a deadline for a
// condition, not a delay: tests return as soon as the condition holds.
const wait = 10 * time.Second

// testDebounce replaces the 5 ms default in tests that assert "exactly one
// batch". Those tests make a burst of changes from a goroutine that the race
// detector and parallel tests can stall for a few milliseconds, which would
// split the burst; the debounce rule itself is tested with fake time in
// debounce_test.go.
const testDebounce = 200 * time.Millisecond

// noHold is a Config.holdNew below any quiet time: a batch of new files
// then closes like any other.
const noHold = time.Nanosecond

// watching is a Watch running on a temporary folder.
type watching struct {
	dir     string
	newest  time.Time // as passed to OnReady
	batches chan Batch
	stop    func() // cancels Watch and waits for it; safe to call twice
}

// startWatch runs Watch on dir in a goroutine, waits for OnReady and stops
// it when the test ends, failing the test if it does not return nil.
func startWatch(t *testing.T, dir string, cfg Config) *watching {
	t.Helper()
	return startWatchWith(t, dir, cfg, nil)
}

// startWatchWith is startWatch with a dirWatcher wrapped around fsnotify's.
func startWatchWith(t *testing.T, dir string, cfg Config, wrap func(dirWatcher) dirWatcher) *watching {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watching{dir: dir, batches: make(chan Batch, 100)}
	ready := make(chan time.Time, 1)
	cfg.Dir = dir
	cfg.OnReady = func(newest time.Time) { ready <- newest }
	cfg.OnChange = func(b Batch) {
		select {
		case w.batches <- b:
		case <-ctx.Done():
		}
	}
	done := make(chan error, 1)
	go func() { done <- watch(ctx, cfg, wrap) }()
	w.stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Watch returned %v, want nil", err)
			}
		case <-time.After(wait):
			t.Errorf("Watch did not return within %v of cancel", wait)
		}
	})
	t.Cleanup(w.stop)
	select {
	case w.newest = <-ready:
	case err := <-done:
		t.Fatalf("Watch returned %v before OnReady", err)
	case <-time.After(wait):
		t.Fatalf("OnReady not called within %v", wait)
	}
	return w
}

// next returns the next batch, failing the test if none comes in time.
func (w *watching) next(t *testing.T) Batch {
	t.Helper()
	select {
	case b := <-w.batches:
		return b
	case <-time.After(wait):
		t.Fatalf("no batch within %v", wait)
		return Batch{}
	}
}

// write creates or truncates the file at the slash path rel under dir.
func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// appendTo appends to the file at the slash path rel under dir, creating it
// if needed. Bursts of writes in tests append rather than truncate: on ext4
// the close after truncating a file starts writing it back, and the next
// truncation waits for that, which stalls a loop of rewrites for tens of
// milliseconds and splits what is meant to be one burst.
func appendTo(t *testing.T, dir, rel, content string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, filepath.FromSlash(rel)), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// makeTree creates files under dir; a key ending in "/" is a directory.
func makeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if strings.HasSuffix(rel, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, dir, rel, content)
	}
}

func TestWatchAnnouncesChanges(t *testing.T) { t.Parallel(); testAnnounces(t, 0) }

// TestPollAnnouncesChanges runs the same changes with the poller, which
// must announce them alike.
func TestPollAnnouncesChanges(t *testing.T) { t.Parallel(); testAnnounces(t, 20*time.Millisecond) }

func testAnnounces(t *testing.T, poll time.Duration) {
	tests := []struct {
		name   string
		files  map[string]string
		ignore []string
		change func(t *testing.T, dir string)
		// want is the one batch the change must produce; nil means the change
		// must not be announced at all.
		want []string
		// wantPoll, if not nil, replaces want for the poller, which sees
		// a directory renamed away as removed with all it held.
		wantPoll []string
		// sentinel is written after the change's batch; the batch after it
		// must name only the sentinel, which proves there was exactly one
		// batch for the change. Default "sentinel.txt".
		sentinel string
	}{
		{
			name:  "an edit gives one batch with that path",
			files: map[string]string{"index.html": "v1"},
			change: func(t *testing.T, dir string) {
				write(t, dir, "index.html", "v2")
			},
			want: []string{"index.html"},
		},
		{
			name:  "an edit in a subdirectory gives its slash path",
			files: map[string]string{"css/site.css": "a{}"},
			change: func(t *testing.T, dir string) {
				write(t, dir, "css/site.css", "b{}")
			},
			want: []string{"css/site.css"},
		},
		{
			name: "a file in a directory created after start is announced",
			change: func(t *testing.T, dir string) {
				if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
					t.Fatal(err)
				}
				write(t, dir, "d/x.css", "x")
			},
			want:     []string{"d", "d/x.css"},
			sentinel: "d/later.css",
		},
		{
			name: "mkdir -p then an immediate write is announced and the new directories are watched",
			change: func(t *testing.T, dir string) {
				if err := os.MkdirAll(filepath.Join(dir, "a", "b", "c"), 0o755); err != nil {
					t.Fatal(err)
				}
				write(t, dir, "a/b/c/x.css", "x")
			},
			want:     []string{"a", "a/b", "a/b/c", "a/b/c/x.css"},
			sentinel: "a/b/c/later.css",
		},
		{
			name:  "an atomic save through a swap file gives only the real file",
			files: map[string]string{"index.html": "v1"},
			change: func(t *testing.T, dir string) {
				atomicSave(t, dir, ".index.html.swp", "index.html")
			},
			want: []string{"index.html"},
		},
		{
			name:  "an atomic save through an unknown temporary name gives only the real file",
			files: map[string]string{"index.html": "v1"},
			change: func(t *testing.T, dir string) {
				atomicSave(t, dir, "index.html.new-123", "index.html")
			},
			want: []string{"index.html"},
		},
		{
			name:  "fifty writes in a tight loop give one batch",
			files: map[string]string{"index.html": "v1"},
			change: func(t *testing.T, dir string) {
				f, err := os.OpenFile(filepath.Join(dir, "index.html"), os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				for range 50 {
					if _, err := f.WriteString("x"); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: []string{"index.html"},
		},
		{
			name:  "a deleted file is announced",
			files: map[string]string{"old.css": "x", "keep.css": "y"},
			change: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "old.css")); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"old.css"},
		},
		{
			name:  "a removed directory is announced with its contents",
			files: map[string]string{"d/x.css": "x", "d/e/y.css": "y"},
			change: func(t *testing.T, dir string) {
				if err := os.RemoveAll(filepath.Join(dir, "d")); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"d", "d/e", "d/e/y.css", "d/x.css"},
		},
		{
			name:  "a directory renamed within the folder is watched under its new name",
			files: map[string]string{"d/x.css": "x", "d/e/y.css": "y"},
			change: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, "d"), filepath.Join(dir, "d2")); err != nil {
					t.Fatal(err)
				}
			},
			want:     []string{"d", "d2", "d2/e", "d2/e/y.css", "d2/x.css"},
			wantPoll: []string{"d", "d/e", "d/e/y.css", "d/x.css", "d2", "d2/e", "d2/e/y.css", "d2/x.css"},
			sentinel: "d2/e/later.css",
		},
		{
			name:  "a directory renamed over an empty directory is watched",
			files: map[string]string{"d/": "", "src/x.css": "x"},
			change: func(t *testing.T, dir string) {
				// os.Rename refuses to replace a directory; rename(2) does not.
				if err := syscall.Rename(filepath.Join(dir, "src"), filepath.Join(dir, "d")); err != nil {
					t.Fatal(err)
				}
			},
			want:     []string{"d", "d/x.css", "src"},
			wantPoll: []string{"d", "d/x.css", "src", "src/x.css"},
			sentinel: "d/later.css",
		},
		{
			name:  "a chmod alone is not announced",
			files: map[string]string{"index.html": "v1"},
			change: func(t *testing.T, dir string) {
				if err := os.Chmod(filepath.Join(dir, "index.html"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:   "ignored files and directories are not announced",
			files:  map[string]string{"node_modules/": "", ".git/": "", "sub/": ""},
			ignore: []string{"*.log", "build/**"},
			change: func(t *testing.T, dir string) {
				write(t, dir, "node_modules/x.js", "x")
				write(t, dir, ".git/HEAD", "ref")
				write(t, dir, "a.swp", "x")
				write(t, dir, "sub/4913", "")
				write(t, dir, "sub/page.html~", "x")
				write(t, dir, "x.log", "x")
				write(t, dir, "sub/y.log", "x")
				makeTree(t, dir, map[string]string{"build/out.js": "x", "sub/node_modules/z.js": "z"})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			makeTree(t, dir, tt.files)
			// New files close a batch like any change here (noHold):
			// the hold that waits for a temporary file to be renamed
			// away is tested in rules_test.go.
			w := startWatch(t, dir, Config{Ignore: tt.ignore, Debounce: testDebounce, MaxWait: time.Minute, Poll: poll, holdNew: noHold})

			tt.change(t, dir)
			want := tt.want
			if poll > 0 && tt.wantPoll != nil {
				want = tt.wantPoll
			}
			if want != nil {
				if got := w.next(t).Paths; !slices.Equal(got, want) {
					t.Fatalf("got batch %q, want %q", got, want)
				}
			}
			sentinel := tt.sentinel
			if sentinel == "" {
				sentinel = "sentinel.txt"
			}
			write(t, dir, sentinel, "s")
			if got, want := w.next(t).Paths, []string{sentinel}; !slices.Equal(got, want) {
				t.Fatalf("got batch %q after the sentinel, want %q", got, want)
			}
		})
	}
}

// atomicSave saves to the slash path real the way many editors do: write a
// temporary file next to it, then rename it over the real one.
func atomicSave(t *testing.T, dir, temp, real string) {
	t.Helper()
	write(t, dir, temp, "saved")
	if err := os.Rename(filepath.Join(dir, temp), filepath.Join(dir, real)); err != nil {
		t.Fatal(err)
	}
}

func TestWatchUsesDefaultTimings(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "index.html", "v1")
	w := startWatch(t, dir, Config{})

	write(t, dir, "index.html", "v2")
	if got, want := w.next(t).Paths, []string{"index.html"}; !slices.Equal(got, want) {
		t.Fatalf("got batch %q, want %q", got, want)
	}
}

func TestWatchCoalescesSpreadWrites(t *testing.T) {
	const writes = 20 // one every 5 ms, about 100 ms in all
	dir := t.TempDir()
	// The file exists first: a batch of new files alone would be held
	// whatever the quiet time.
	write(t, dir, "app.js", "")
	w := startWatch(t, dir, Config{Debounce: 20 * time.Millisecond})

	tick := time.NewTicker(5 * time.Millisecond) // paces the writer; nothing waits on it
	defer tick.Stop()
	for i := range writes {
		<-tick.C
		appendTo(t, dir, "app.js", strconv.Itoa(i))
	}
	write(t, dir, "sentinel.txt", "s")

	var withFile int
	for {
		b := w.next(t)
		if slices.Contains(b.Paths, "app.js") {
			withFile++
		}
		if slices.Contains(b.Paths, "sentinel.txt") {
			break
		}
		if want := []string{"app.js"}; !slices.Equal(b.Paths, want) {
			t.Fatalf("got batch %q, want %q", b.Paths, want)
		}
	}
	if withFile == 0 || withFile >= writes {
		t.Fatalf("got %d batches naming app.js for %d writes, want between 1 and %d", withFile, writes, writes-1)
	}
}

func TestBatchModTime(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
		// newer is the path, relative to dir, whose mtime after the change
		// the batch's ModTime must reach.
		newer string
	}{
		{
			name:   "an edit is at least as new as the file",
			change: func(t *testing.T, dir string) { write(t, dir, "sub/page.html", "v2") },
			newer:  "sub/page.html",
		},
		{
			name: "a deletion is at least as new as the parent directory",
			change: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "sub", "old.css")); err != nil {
					t.Fatal(err)
				}
			},
			newer: "sub",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			makeTree(t, dir, map[string]string{"sub/page.html": "v1", "sub/old.css": "x"})
			// Age the fixture so that a ModTime taken before the change
			// could not pass.
			old := time.Now().Add(-time.Hour)
			for _, rel := range []string{"sub/page.html", "sub/old.css", "sub", "."} {
				if err := os.Chtimes(filepath.Join(dir, rel), old, old); err != nil {
					t.Fatal(err)
				}
			}
			w := startWatch(t, dir, Config{})

			tt.change(t, dir)
			b := w.next(t)
			fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(tt.newer)))
			if err != nil {
				t.Fatal(err)
			}
			if b.ModTime.Before(fi.ModTime()) {
				t.Fatalf("got ModTime %v, want at least %v (%s)", b.ModTime, fi.ModTime(), tt.newer)
			}
		})
	}
}

func TestOnReadyReportsNewestModTime(t *testing.T) {
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(hours int) time.Time { return base.Add(time.Duration(hours) * time.Hour) }
	// Every case sets the mtime of everything in this fixture; ignored
	// entries are always the newest.
	files := map[string]string{
		"index.html":            "x",
		"sub/":                  "",
		"sub/site.css":          "x",
		"sub/deep/":             "",
		"sub/deep/app.js":       "x",
		"node_modules/":         "",
		"node_modules/lib.js":   "x",
		".git/":                 "",
		".git/HEAD":             "x",
		"sub/.site.css.swp":     "x",
		"debug.log":             "x",
		"build/":                "",
		"build/bundle.js":       "x",
		"sub/deep/notes.tmp":    "x",
		"sub/deep/page.html~":   "x",
		"sub/deep/___jb_tmp___": "x",
	}
	ignoredNewer := at(100)
	tests := []struct {
		name  string
		times map[string]time.Time // entries not listed get base
		want  time.Time
	}{
		{
			name:  "a file is the newest",
			times: map[string]time.Time{"sub/deep/app.js": at(3), "sub/site.css": at(2)},
			want:  at(3),
		},
		{
			name:  "a directory is the newest",
			times: map[string]time.Time{"sub/deep": at(5), "index.html": at(4)},
			want:  at(5),
		},
		{
			name:  "the folder itself is the newest",
			times: map[string]time.Time{".": at(7), "sub/site.css": at(6)},
			want:  at(7),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			makeTree(t, dir, files)
			// Deepest first, so that setting a child's time cannot move its
			// parent's (it doesn't on Linux, but the order costs nothing).
			paths := []string{"."}
			for rel := range files {
				paths = append(paths, strings.TrimSuffix(rel, "/"))
			}
			slices.SortFunc(paths, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
			for _, rel := range paths {
				mtime, ok := tt.times[rel]
				if !ok {
					mtime = base
				}
				if ignored(rel, []string{"*.log", "build"}) {
					mtime = ignoredNewer
				}
				if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(rel)), mtime, mtime); err != nil {
					t.Fatal(err)
				}
			}

			cfg := Config{Ignore: []string{"*.log", "build"}}
			var got []time.Time
			for range 2 {
				w := startWatch(t, dir, cfg)
				got = append(got, w.newest)
				w.stop()
			}
			if !got[0].Equal(tt.want) {
				t.Errorf("got newest %v, want %v", got[0], tt.want)
			}
			if !got[1].Equal(got[0]) {
				t.Errorf("got newest %v on restart, want %v as on the first start", got[1], got[0])
			}
		})
	}
}

func TestValidateGlobs(t *testing.T) {
	tests := []struct {
		name    string
		globs   []string
		wantErr string // "" means valid
	}{
		{name: "no globs are valid"},
		{name: "a recursive glob is valid", globs: []string{"**/*.map"}},
		{name: "an unclosed bracket is rejected", globs: []string{"["}, wantErr: `"["`},
		{name: "the first malformed glob is named", globs: []string{"*.log", "a[", "b{"}, wantErr: `"a["`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateGlobs(tt.globs)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got error %v, want one containing %s", err, tt.wantErr)
			}
		})
	}
}

func TestWatchFailsAtOnce(t *testing.T) {
	tests := []struct {
		name   string
		dir    func(t *testing.T) string
		ignore []string
	}{
		{
			name: "a missing folder",
			dir:  func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing") },
		},
		{
			name: "a file instead of a folder",
			dir: func(t *testing.T) string {
				dir := t.TempDir()
				write(t, dir, "file", "x")
				return filepath.Join(dir, "file")
			},
		},
		{
			name:   "a malformed ignore glob",
			dir:    func(t *testing.T) string { return t.TempDir() },
			ignore: []string{"["},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			done := make(chan error, 1)
			// A context that is never cancelled: only a prompt error ends Watch.
			go func() { done <- Watch(context.Background(), Config{Dir: dir, Ignore: tt.ignore}) }()
			select {
			case err := <-done:
				if err == nil || !strings.HasPrefix(err.Error(), "watch "+dir+": ") {
					t.Fatalf("got error %v, want one starting with %q", err, "watch "+dir+": ")
				}
			case <-time.After(wait):
				t.Fatal("Watch did not return an error")
			}
		})
	}
}

func TestWatchReturnsNilWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, Config{Dir: dir, OnReady: func(time.Time) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Watch returned %v before OnReady", err)
	case <-time.After(wait):
		t.Fatalf("OnReady not called within %v", wait)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("got %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Watch did not return after cancel")
	}
	// goleak.VerifyTestMain in TestMain checks that no goroutine, fsnotify's
	// included, outlives the tests.
}
