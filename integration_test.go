package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotserve/hotserve/internal/ssetest"
)

// These tests run hotserve in this process on 127.0.0.1 with real files and
// real fsnotify, and watch what its event stream says.

// sentinel changes a sentinel file and checks that the next event names only
// it. Used after a burst of changes, it proves the burst produced no further
// event: such an event would arrive before the sentinel's.
func sentinel(t *testing.T, dir string, next func() []string) {
	t.Helper()
	write(t, filepath.Join(dir, "sentinel.txt"), time.Now().String())
	if got := next(); !slices.Equal(got, []string{"sentinel.txt"}) {
		t.Errorf("after the burst: got an event for %v, want only the sentinel", got)
	}
}

func TestEventsFollowChanges(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>v1")
	write(t, filepath.Join(dir, "css", "site.css"), "body{}")
	in := startInProcess(t, "--ignore", "*.log", "--ignore", "build/**", dir)
	st, first := in.events(t)
	next := func() []string { return st.Next(t, 10*time.Second).Data.Paths }
	build := first.Data.Build

	t.Run("an edit gives an event naming the file", func(t *testing.T) {
		write(t, filepath.Join(dir, "css", "site.css"), "body{color:red}")
		ev := st.Next(t, 10*time.Second)
		if !slices.Equal(ev.Data.Paths, []string{"css/site.css"}) || ev.Data.Previous != build || ev.Data.Build <= build {
			t.Errorf("got %s, want css/site.css after build %d", ev.Raw, build)
		}
	})
	t.Run("a file in a folder made after start gives an event", func(t *testing.T) {
		write(t, filepath.Join(dir, "a", "b", "c", "deep.css"), "x")
		if got := next(); !slices.Contains(got, "a/b/c/deep.css") {
			t.Errorf("got %v, want a/b/c/deep.css", got)
		}
		sentinel(t, dir, next)
	})
	t.Run("an atomic save gives one event for the real file only", func(t *testing.T) {
		tmp := filepath.Join(dir, "index.html.tmp-4312")
		write(t, tmp, "<!doctype html><p>v2")
		if err := os.Rename(tmp, filepath.Join(dir, "index.html")); err != nil {
			t.Fatal(err)
		}
		if got := next(); !slices.Equal(got, []string{"index.html"}) {
			t.Errorf("got %v, want [index.html]", got)
		}
		sentinel(t, dir, next)
	})
	t.Run("50 writes in a tight loop give one event", func(t *testing.T) {
		f, err := os.OpenFile(filepath.Join(dir, "css", "site.css"), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			if _, err := f.WriteAt([]byte(fmt.Sprintf("body{z-index:%02d}", i)), 0); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		if got := next(); !slices.Equal(got, []string{"css/site.css"}) {
			t.Errorf("got %v, want [css/site.css]", got)
		}
		sentinel(t, dir, next)
	})
	t.Run("ignored files give no event", func(t *testing.T) {
		write(t, filepath.Join(dir, "node_modules", "lib", "x.js"), "x")
		write(t, filepath.Join(dir, ".git", "HEAD"), "x")
		write(t, filepath.Join(dir, ".index.html.swp"), "x")
		write(t, filepath.Join(dir, "debug.log"), "x")
		write(t, filepath.Join(dir, "build", "out.js"), "x")
		sentinel(t, dir, next)
	})
	t.Run("two clients both get the event", func(t *testing.T) {
		other, _ := in.events(t)
		write(t, filepath.Join(dir, "both.txt"), "x")
		for i, s := range []*ssetest.Stream{st, other} {
			if got := s.Next(t, 10*time.Second).Data.Paths; !slices.Equal(got, []string{"both.txt"}) {
				t.Errorf("client %d: got %v", i, got)
			}
		}
	})
	t.Run("a reconnect with the current Last-Event-ID is not sent it again", func(t *testing.T) {
		cur := fetchBuild(t, in.url)
		// The id names the build and the tree's fingerprint; a browser
		// sends back the one it was given.
		id := ssetest.Open(t, in.url+"/__hotserve/events").Next(t, 10*time.Second).ID
		again := ssetest.Open(t, in.url+"/__hotserve/events", "Last-Event-ID", id)
		write(t, filepath.Join(dir, "after.txt"), "x")
		if ev := again.Next(t, 10*time.Second); ev.Data.Previous != cur || !slices.Equal(ev.Data.Paths, []string{"after.txt"}) {
			t.Errorf("got %s first, want the change after build %d", ev.Raw, cur)
		}
	})
}

// fetchBuild reads the build a fresh page would carry.
func fetchBuild(t *testing.T, url string) int64 {
	t.Helper()
	resp, err := http.Get(url + "/index.html")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_, after, ok := strings.Cut(string(b), `data-build="`)
	if !ok {
		t.Fatalf("no build in %q", b)
	}
	var build int64
	fmt.Sscan(after[:strings.IndexByte(after, '"')], &build)
	return build
}

func TestRestartKeepsTheBuild(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>v1")
	write(t, filepath.Join(dir, "css", "site.css"), "body{}")
	old := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for _, p := range []string{"index.html", "css/site.css", "css", "."} {
		os.Chtimes(filepath.Join(dir, p), old, old)
	}

	buildOf := func() int64 {
		in := startInProcess(t, dir)
		_, ev := in.events(t)
		if code := in.stop(); code != 0 {
			t.Fatalf("exit code %d", code)
		}
		return ev.Data.Build
	}
	first := buildOf()
	if first != old.UnixMilli() {
		t.Errorf("got build %d, want the newest modification time %d", first, old.UnixMilli())
	}
	if again := buildOf(); again != first {
		t.Errorf("restart with no change: got build %d, want %d", again, first)
	}
	// A change made while hotserve is stopped.
	write(t, filepath.Join(dir, "css", "site.css"), "body{color:red}")
	if after := buildOf(); after <= first {
		t.Errorf("restart after a change: got build %d, want more than %d", after, first)
	}
}
