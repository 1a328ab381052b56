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

// flip swaps name between a regular file holding "public" and a symbolic
// link to each of targets in turn, with atomic renames, until ctx is done.
// It returns how many swaps it made.
func flip(ctx context.Context, t *testing.T, dir, name string, targets []string, dirs bool) int {
	tmp := filepath.Join(dir, "flip.tmp")
	dst := filepath.Join(dir, name)
	n := 0
	for ctx.Err() == nil {
		target := targets[n%len(targets)]
		os.RemoveAll(tmp)
		var err error
		if n%2 == 0 {
			err = os.Symlink(target, tmp)
		} else if dirs {
			if err = os.Mkdir(tmp, 0o755); err == nil {
				err = os.WriteFile(filepath.Join(tmp, "x.txt"), []byte("public"), 0o644)
			}
		} else {
			err = os.WriteFile(tmp, []byte("public"), 0o644)
		}
		if err == nil {
			if dirs {
				// rename cannot replace a non-empty folder: take it away first.
				os.Rename(dst, dst+".old")
				os.RemoveAll(dst + ".old")
			}
			err = os.Rename(tmp, dst)
		}
		if err != nil {
			t.Error(err)
			return n
		}
		n++
	}
	return n
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
