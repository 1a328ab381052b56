package watcher

import (
	"io"
	"io/fs"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/hotserve/hotserve/internal/deny"
)

func TestIgnored(t *testing.T) {
	tests := []struct {
		name  string
		rel   string
		globs []string
		want  bool
	}{
		{name: "a page is kept", rel: "index.html"},
		{name: "a nested page is kept", rel: "blog/2024/post.html"},
		{name: "the folder itself is kept", rel: "."},
		{name: "a .git directory is ignored", rel: ".git", want: true},
		{name: "a file inside a nested .git is ignored", rel: "vendor/lib/.git/HEAD", want: true},
		{name: "a .hg directory is ignored", rel: "a/.hg/store", want: true},
		{name: "a .svn directory is ignored", rel: ".svn", want: true},
		{name: "node_modules at any depth is ignored", rel: "site/node_modules/x/index.js", want: true},
		{name: "a name merely starting like node_modules is kept", rel: "node_modules2/x.js"},
		{name: "a .gitignore file is kept", rel: ".gitignore"},
		{name: "a vim swap file is ignored", rel: "css/.site.css.swp", want: true},
		{name: "a second vim swap file is ignored", rel: ".site.css.swx", want: true},
		{name: "a tilde backup is ignored", rel: "index.html~", want: true},
		{name: "an emacs lock file is ignored", rel: ".#index.html", want: true},
		{name: "an emacs autosave file is ignored", rel: "#index.html#", want: true},
		{name: "a lone hash is kept", rel: "#"},
		{name: "vim's 4913 probe is ignored", rel: "blog/4913", want: true},
		{name: "a name containing 4913 is kept", rel: "49130.html"},
		{name: "a JetBrains temporary file is ignored", rel: "index.html___jb_tmp___", want: true},
		{name: "a JetBrains backup is ignored", rel: "index.html___jb_old___", want: true},
		{name: "a .tmp file is ignored", rel: "upload.tmp", want: true},
		{name: "a glob on the base name matches at any depth", rel: "logs/2024/app.log", globs: []string{"*.log"}, want: true},
		{name: "a glob on the base name does not match other names", rel: "logs/app.txt", globs: []string{"*.log"}},
		{name: "a path glob matches below its directory", rel: "build/js/app.js", globs: []string{"build/**"}, want: true},
		{name: "a path glob matches its directory", rel: "build", globs: []string{"build/**"}, want: true},
		{name: "a path glob is anchored at the folder", rel: "src/build/app.js", globs: []string{"build/**"}},
		{name: "a glob matching a directory ignores what is inside", rel: "dist/app.js", globs: []string{"dist"}, want: true},
		{name: "a recursive glob matches at the top", rel: "app.js.map", globs: []string{"**/*.map"}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ignored(tt.rel, tt.globs); got != tt.want {
				t.Fatalf("got ignored(%q, %q) = %v, want %v", tt.rel, tt.globs, got, tt.want)
			}
		})
	}
}

func TestWalkWatchesEachDirectoryOnce(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, map[string]string{
		"index.html":          "x",
		"a/x.css":             "x",
		"a/b/c.html":          "x",
		"assets/app.js.map":   "x",
		"empty/":              "",
		"node_modules/m/i.js": "x",
		".git/objects/o":      "x",
		"sub/.hg/store":       "x",
		"build/out.js":        "x",
	})
	for name, target := range map[string]string{"link": "a", "up": ".."} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skipf("cannot create symlinks: %v", err)
		}
	}
	fw := &fakeWatcher{}
	l := newLoop(Config{Ignore: []string{"build", "**/*.map"}}, dir, fw)
	var visited []string
	for range 2 { // the second walk finds every directory watched already
		visited = nil
		if err := l.walk(dir, func(rel string, _ fs.DirEntry) { visited = append(visited, rel) }); err != nil {
			t.Fatal(err)
		}
	}

	var added []string
	for _, a := range fw.added {
		rel, _ := filepath.Rel(dir, a)
		added = append(added, filepath.ToSlash(rel))
	}
	if want := []string{".", "a", "a/b", "assets", "empty", "sub"}; !slices.Equal(added, want) {
		t.Errorf("got watches %q, want %q", added, want)
	}
	want := []string{".", "a", "a/b", "a/b/c.html", "a/x.css", "assets", "empty", "index.html", "link", "sub", "up"}
	if !slices.Equal(visited, want) {
		t.Errorf("got visited %q, want %q", visited, want)
	}
}

func TestWalkReportsRefusedWatches(t *testing.T) {
	tests := []struct {
		name       string
		err        error  // returned by Add for the directory "b"
		wantLog    string // "" means nothing is logged
		wantAdded  []string
		wantPolled []string
	}{
		{
			name:       "running out of watches is logged once with the fix, and the rest is polled",
			err:        syscall.ENOSPC,
			wantLog:    "watch site/b: no space left on device: the inotify watch limit fs.inotify.max_user_watches",
			wantAdded:  []string{".", "a"},
			wantPolled: []string{"b", "c"},
		},
		{
			name:       "running out of descriptors is logged once with the fix, and the rest is polled",
			err:        &fs.PathError{Op: "inotify_add_watch", Path: "b", Err: syscall.EMFILE},
			wantLog:    "too many open files",
			wantAdded:  []string{".", "a"},
			wantPolled: []string{"b", "c"},
		},
		{
			name:      "a directory that vanished is logged and skipped",
			err:       &fs.PathError{Op: "inotify_add_watch", Path: "b", Err: syscall.ENOENT},
			wantLog:   "warning: watch site/b: no such file or directory",
			wantAdded: []string{".", "a", "c"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, dir, map[string]string{"a/": "", "b/x.css": "", "c/": ""})
			var logBuf strings.Builder
			fw := &fakeWatcher{fail: map[string]error{filepath.Join(dir, "b"): tt.err}}
			l := newLoop(Config{Dir: "site", ErrorLog: log.New(&logBuf, "", 0)}, dir, fw)
			if err := l.walk(dir, func(string, fs.DirEntry) {}); err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if !strings.Contains(logBuf.String(), tt.wantLog) || strings.Count(logBuf.String(), "\n") != 1 {
				t.Errorf("got log %q, want one line containing %q", logBuf.String(), tt.wantLog)
			}
			if tt.err == syscall.ENOSPC && !strings.Contains(logBuf.String(), "sudo sysctl fs.inotify.max_user_watches=") {
				t.Errorf("got log %q, want it to name the fix", logBuf.String())
			}
			if got := relPaths(dir, fw.added); !slices.Equal(got, tt.wantAdded) {
				t.Errorf("got watches %q, want %q", got, tt.wantAdded)
			}
			if got := relPaths(dir, slices.Sorted(maps.Keys(l.polled))); !slices.Equal(got, tt.wantPolled) {
				t.Errorf("got polled %q, want %q", got, tt.wantPolled)
			}
		})
	}
}

// relPaths returns paths relative to dir, slash-separated.
func relPaths(dir string, paths []string) []string {
	var rels []string
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		rels = append(rels, filepath.ToSlash(rel))
	}
	return rels
}

func TestFlushDropsTransientPaths(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string // present when the batch closes
		events []fsnotify.Event  // names relative to the folder
		want   []string          // nil: no batch
	}{
		{
			name:   "a file created and gone within the batch is dropped",
			events: []fsnotify.Event{{Name: "x.new", Op: fsnotify.Create}, {Name: "x.new", Op: fsnotify.Remove}},
		},
		{
			name:   "a created file still there is announced",
			files:  map[string]string{"x.css": "x"},
			events: []fsnotify.Event{{Name: "x.css", Op: fsnotify.Create}, {Name: "x.css", Op: fsnotify.Write}},
			want:   []string{"x.css"},
		},
		{
			name:   "a file that existed before the batch and was deleted is announced",
			events: []fsnotify.Event{{Name: "old.css", Op: fsnotify.Remove}},
			want:   []string{"old.css"},
		},
		{
			name:   "a file written then deleted is announced",
			events: []fsnotify.Event{{Name: "old.css", Op: fsnotify.Write}, {Name: "old.css", Op: fsnotify.Remove}},
			want:   []string{"old.css"},
		},
		{
			name:  "an atomic save announces only the real file",
			files: map[string]string{"index.html": "v2"},
			events: []fsnotify.Event{
				{Name: "index.html.new-123", Op: fsnotify.Create},
				{Name: "index.html.new-123", Op: fsnotify.Write},
				{Name: "index.html.new-123", Op: fsnotify.Rename},
				{Name: "index.html", Op: fsnotify.Create},
			},
			want: []string{"index.html"},
		},
		{
			name:   "a chmod alone is not announced",
			files:  map[string]string{"x.css": "x"},
			events: []fsnotify.Event{{Name: "x.css", Op: fsnotify.Chmod}},
		},
		{
			name:   "a chmod with a write is announced",
			files:  map[string]string{"x.css": "x"},
			events: []fsnotify.Event{{Name: "x.css", Op: fsnotify.Chmod | fsnotify.Write}},
			want:   []string{"x.css"},
		},
		{
			name:  "paths are sorted, deduplicated and slash-separated",
			files: map[string]string{"b/c.css": "x", "a.css": "x"},
			events: []fsnotify.Event{
				{Name: "b/c.css", Op: fsnotify.Write},
				{Name: "a.css", Op: fsnotify.Write},
				{Name: "b/c.css", Op: fsnotify.Write},
			},
			want: []string{"a.css", "b/c.css"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, dir, tt.files)
			var got []Batch
			l := newLoop(Config{OnChange: func(b Batch) { got = append(got, b) }}, dir, &fakeWatcher{})
			for _, ev := range tt.events {
				ev.Name = filepath.Join(dir, filepath.FromSlash(ev.Name))
				l.handle(ev)
			}
			l.flush()
			switch {
			case tt.want == nil && len(got) != 0:
				t.Fatalf("got batches %v, want none", got)
			case tt.want != nil && (len(got) != 1 || !slices.Equal(got[0].Paths, tt.want)):
				t.Fatalf("got batches %v, want one with %q", got, tt.want)
			}
		})
	}
}

func TestRemovedDirectoriesAreUnwatched(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
		want   []string // watched directories afterwards, relative to the folder
	}{
		{
			name: "a removed directory and its subdirectories are dropped",
			change: func(t *testing.T, dir string) {
				if err := os.RemoveAll(filepath.Join(dir, "d")); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{".", "keep"},
		},
		{
			name: "a directory renamed out of the folder is dropped",
			change: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, "d"), filepath.Join(t.TempDir(), "d")); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{".", "keep"},
		},
		{
			name: "a directory renamed within the folder is watched under its new name only",
			change: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, "d"), filepath.Join(dir, "keep", "d2")); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{".", "keep", "keep/d2", "keep/d2/e"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			makeTree(t, dir, map[string]string{"d/x.css": "x", "d/e/y.css": "y", "keep/z.css": "z"})
			fw, err := fsnotify.NewWatcher()
			if err != nil {
				t.Fatal(err)
			}
			defer fw.Close()
			l := newLoop(Config{ErrorLog: log.New(io.Discard, "", 0)}, dir, fw)
			if err := l.walk(dir, func(string, fs.DirEntry) {}); err != nil {
				t.Fatal(err)
			}

			tt.change(t, dir)
			want := make(map[string]bool)
			for _, rel := range tt.want {
				want[filepath.Join(dir, filepath.FromSlash(rel))] = true
			}
			deadline := time.After(wait)
			for !maps.Equal(l.watched, want) {
				select {
				case ev := <-fw.Events:
					l.handle(ev)
				case err := <-fw.Errors:
					t.Fatalf("fsnotify error: %v", err)
				case <-deadline:
					t.Fatalf("got watched %v, want %v", slices.Sorted(maps.Keys(l.watched)), tt.want)
				}
			}
			got := fw.WatchList()
			slices.Sort(got)
			if wantList := slices.Sorted(maps.Keys(want)); !slices.Equal(got, wantList) {
				t.Fatalf("got fsnotify watching %q, want %q", got, wantList)
			}
		})
	}
}

// TestWalkSkipsHiddenFolders checks that a folder hotserve never serves
// costs no watch, nor does anything below it, while .well-known, which is
// served, and a served link into a hidden folder are watched.
func TestWalkSkipsHiddenFolders(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, map[string]string{
		"index.html":         "x",
		".venv/lib/site.py":  "x",
		".cache/a/b/c":       "x",
		".well-known/a.txt":  "x",
		".build/pub/app.css": "x",
	})
	if err := os.Symlink(".build/pub", filepath.Join(dir, "pub")); err != nil {
		t.Skipf("cannot create symlinks: %v", err)
	}
	fw := &fakeWatcher{}
	l := newLoop(Config{Hidden: deny.Name}, dir, fw)
	if err := l.walk(dir, func(string, fs.DirEntry) {}); err != nil {
		t.Fatal(err)
	}
	var added []string
	for _, a := range fw.added {
		rel, _ := filepath.Rel(dir, a)
		added = append(added, filepath.ToSlash(rel))
	}
	if want := []string{".", ".well-known", "pub"}; !slices.Equal(added, want) {
		t.Errorf("got watches %q, want %q", added, want)
	}

	// With real events, a change below the hidden folder is announced
	// under the served link's name.
	w := startWatch(t, dir, Config{Hidden: deny.Name, Debounce: testDebounce})
	write(t, dir, ".build/pub/app.css", "y")
	if b := w.next(t); !slices.Equal(b.Paths, []string{"pub/app.css"}) {
		t.Errorf("got batch %q, want [pub/app.css]", b.Paths)
	}
}
