//go:build linux || darwin

package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	des, err := os.ReadDir("/dev/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(des)
}

// unblockFIFO opens the named pipe for writing until no reader waits on it
// any more, so that a server that opened it blocking can finish its
// requests and the test can end. A server that never blocks leaves nothing
// to unblock: the first open fails with ENXIO.
func unblockFIFO(name string) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f, err := os.OpenFile(name, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return
		}
		f.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNamedPipeIsNeverOpenedBlocking(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page, "sub/index.html": page})
	_, base := start(t, dir, Options{})
	for _, name := range []string{"pipe.html", "sub/pipe", "index/index.html"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unblockFIFO(p) }) // runs before the server stops
	}
	if err := os.Symlink("pipe.html", filepath.Join(dir, "link.html")); err != nil {
		t.Fatal(err)
	}
	get(t, base+"/") // the server's own goroutines and descriptors exist from here on
	fds := openFDs(t)
	leaks := goleak.IgnoreCurrent()

	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{}}
	paths := []string{"/pipe.html", "/sub/pipe", "/link.html", "/index/index.html", "/pipe.html/", "/sub/pipe/x"}
	const requests = 50
	var wg sync.WaitGroup
	errs := make(chan error, requests)
	for i := range requests {
		wg.Go(func() {
			p := paths[i%len(paths)]
			resp, err := client.Get(base + p)
			if err != nil {
				errs <- err
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden {
				errs <- errors.New(p + ": " + resp.Status + ": " + string(body))
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed <= 3 {
			t.Error(err)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d requests for named pipes were not answered 403 or 404 within %v", failed, requests, client.Timeout)
	}
	// A folder whose index.html is a pipe is listed, without the pipe.
	if r := get(t, base+"/index/"); r.status != http.StatusOK || strings.Contains(r.body, "index.html") {
		t.Errorf("listing of a folder holding a named pipe: %d %s", r.status, r.body)
	}
	client.CloseIdleConnections()
	goleak.VerifyNone(t, leaks)
	waitFor(t, func() bool { return openFDs(t) <= fds })
}

// flip swaps name between a regular file (or a folder holding x.txt)
// holding "public" and a symbolic link to each of targets in turn, until
// ctx is done. It returns how many swaps it made. Each swap is one
// exchange of the two entries, so the name is always a file or a link and
// never missing: every request meets one of the two states, and a request
// that checked the file can open the link. Where the filesystem cannot
// exchange, a file is renamed over the name and a folder is first taken
// away, which leaves far fewer requests in the window.
func flip(ctx context.Context, t *testing.T, dir, name string, targets []string, dirs bool) int {
	tmp := filepath.Join(dir, "flip.tmp")
	dst := filepath.Join(dir, name)
	n := 0
	swap := exchange
	for ctx.Err() == nil {
		os.RemoveAll(tmp)
		var err error
		if n%2 == 0 {
			err = os.Symlink(targets[n/2%len(targets)], tmp)
		} else if dirs {
			if err = os.Mkdir(tmp, 0o755); err == nil {
				err = os.WriteFile(filepath.Join(tmp, "x.txt"), []byte("public"), 0o644)
			}
		} else {
			err = os.WriteFile(tmp, []byte("public"), 0o644)
		}
		if err == nil {
			err = swap(tmp, dst)
			if n == 0 && (errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.ENOSYS)) {
				t.Logf("the filesystem cannot exchange two names (%v): renaming instead", err)
				swap = renameOver
				err = swap(tmp, dst)
			}
		}
		if err != nil {
			t.Error(err)
			return n
		}
		n++
	}
	return n
}

// renameOver renames a over b, first taking b away if it is a folder,
// which rename cannot replace unless it is empty.
func renameOver(a, b string) error {
	if fi, err := os.Lstat(b); err == nil && fi.IsDir() {
		os.Rename(b, b+".old")
		os.RemoveAll(b + ".old")
	}
	return os.Rename(a, b)
}

func TestDenyListHoldsWhileALinkIsSwapped(t *testing.T) {
	dir := site(t, map[string]string{
		"index.html": page,
		".env":       "SECRET=env",
		"server.key": "SECRET key",
		"name.txt":   "public",
	})
	hammer(t, dir, "/name.txt", func(ctx context.Context) int {
		return flip(ctx, t, dir, "name.txt", []string{".env", "server.key"}, false)
	})
}

func TestDenyListHoldsWhileAFolderIsSwapped(t *testing.T) {
	dir := site(t, map[string]string{
		"index.html":     page,
		".git/x.txt":     "SECRET in .git",
		"keys.pem/x.txt": "SECRET in keys.pem",
		"folder/x.txt":   "public",
	})
	hammer(t, dir, "/folder/x.txt", func(ctx context.Context) int {
		return flip(ctx, t, dir, "folder", []string{".git", "keys.pem"}, true)
	})
}

// hammer serves dir and asks for path from four clients as fast as they
// can while flipper swaps what the path leads to, for a bounded few
// seconds. No response may hold a secret, and both states must have been
// seen, or the race was not run.
func hammer(t *testing.T, dir, path string, flipper func(context.Context) int) {
	_, base := start(t, dir, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var swaps, served, refused, leaked atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { swaps.Add(int64(flipper(ctx))) })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				resp, err := client.Get(base + path)
				if err != nil {
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case strings.Contains(string(body), "SECRET"):
					if leaked.Add(1) <= 3 {
						t.Errorf("served a secret: %d %q", resp.StatusCode, body)
					}
				case resp.StatusCode == http.StatusOK:
					served.Add(1)
				default:
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d swaps; %d requests served the file, %d refused, %d leaked a secret", swaps.Load(), served.Load(), refused.Load(), leaked.Load())
	if served.Load() == 0 || refused.Load() == 0 {
		t.Fatal("the race was not exercised: both the file and the link must have been seen")
	}
}

// TestDenyListHoldsWhenANameIsSwappedAfterTheCheck swaps a name for a link
// to a secret in the window between the deny check and the open, which
// the flipper tests above only hit by chance: a hook in open pauses the
// request there. An open by name after a check by name then follows the
// new link on every request and serves the secret; the open must refuse it
// every time.
func TestDenyListHoldsWhenANameIsSwappedAfterTheCheck(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		path    string   // requested
		swapped string   // the slash path swapped for a link
		targets []string // what the link leads to, one request each
	}{
		{
			name:    "a file swapped for a link to a denied file",
			files:   map[string]string{"index.html": page, ".env": "SECRET=env", "server.key": "SECRET key", "name.txt": "public"},
			path:    "name.txt",
			swapped: "name.txt",
			targets: []string{".env", "server.key"},
		},
		{
			name:    "a folder swapped for a link to a denied folder",
			files:   map[string]string{"index.html": page, ".git/x.txt": "SECRET in .git", "keys.pem/x.txt": "SECRET in keys.pem", "folder/x.txt": "public"},
			path:    "folder/x.txt",
			swapped: "folder",
			targets: []string{".git", "keys.pem"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := site(t, tt.files)
			p := filepath.Join(dir, filepath.FromSlash(tt.swapped))
			var target atomic.Pointer[string] // swap for a link to this on the next open
			var opens, swaps atomic.Int64
			hookBeforeOpen(t, func(name string) {
				if name != tt.path {
					return
				}
				opens.Add(1)
				to := target.Swap(nil)
				if to == nil {
					return
				}
				// The request waits here, its name checked: the swap is
				// certain to fall between the check and the open.
				if err := os.Rename(p, p+".real"); err != nil {
					t.Error(err)
					return
				}
				if err := os.Symlink(*to, p); err != nil {
					t.Error(err)
					return
				}
				swaps.Add(1)
			})
			_, base := start(t, dir, Options{})
			if r := get(t, base+"/"+tt.path); r.status != http.StatusOK || r.body != "public" {
				t.Fatalf("before any swap: got %d %q, want 200 \"public\"", r.status, r.body)
			}
			for i, to := range tt.targets {
				target.Store(&to)
				r := get(t, base+"/"+tt.path)
				if swaps.Load() != int64(i+1) {
					t.Fatalf("the hook swapped %d times after %d requests, want %d: the race was not run", swaps.Load(), i+1, i+1)
				}
				if strings.Contains(r.body, "SECRET") || r.status == http.StatusOK {
					t.Errorf("%s swapped for a link to %s between the check and the open: got %d %q, want a refusal", tt.swapped, to, r.status, r.body)
				}
				// Put the real file or folder back for the next target.
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(p+".real", p); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := opens.Load(), int64(len(tt.targets)+1); got != want {
				t.Errorf("open was called %d times for %s, want %d", got, tt.path, want)
			}
		})
	}
}

// hookBeforeOpen sets testHookBeforeOpen to fn until the test ends. Call it
// before start: the server's cleanup, registered after, has waited for
// every request by the time the hook is taken away.
func hookBeforeOpen(t *testing.T, fn func(name string)) {
	t.Helper()
	testHookBeforeOpen = fn
	t.Cleanup(func() { testHookBeforeOpen = nil })
}
