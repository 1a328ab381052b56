package server

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotserve/hotserve/assets"
)

// shrunk is a file that was size bytes long when it was stat'ed but has
// only its first cut bytes by the time it is read, as when an editor
// truncates a page while it is being served. Seek still reports the old
// size, as an open file's size would have been measured before.
type shrunk struct {
	data []byte
	cut  int64
	pos  int64
}

func (f *shrunk) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.cut {
		return 0, io.EOF
	}
	n := copy(p, f.data[off:f.cut])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *shrunk) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

func (f *shrunk) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += f.pos
	case io.SeekEnd:
		off += int64(len(f.data))
	}
	f.pos = off
	return off, nil
}

type fakeInfo struct {
	name string
	size int64
}

func (fi fakeInfo) Name() string       { return fi.name }
func (fi fakeInfo) Size() int64        { return fi.size }
func (fi fakeInfo) Mode() fs.FileMode  { return 0o644 }
func (fi fakeInfo) ModTime() time.Time { return time.UnixMilli(1) }
func (fi fakeInfo) IsDir() bool        { return false }
func (fi fakeInfo) Sys() any           { return nil }

func TestFileChangingWhileServed(t *testing.T) {
	bigPage := "<!doctype html><html><head><title>t</title></head><body>" + strings.Repeat("<p>paragraph</p>\n", maxBuffered/16) + "</body></html>\n"
	for _, tc := range []struct {
		name    string
		file    string
		content string
		cut     int // bytes left when the file is read
		// complete means the response must be a whole page; otherwise a
		// failed connection is also fine, but never a short body.
		complete bool
	}{
		{"a small page cut short is sent whole as read, with the script", "page.html", page, 50, true},
		{"a small page cut before its head is sent whole as read", "page.html", page, 5, true},
		{"a small page that is now empty is sent empty", "page.html", page, 0, true},
		{"a big page cut short fails the connection", "big.html", bigPage, len(bigPage) / 2, false},
		{"a big page cut before the script fails the connection", "big.html", bigPage, 20, false},
		{"a style sheet cut short fails the connection", "a.css", strings.Repeat("p{}\n", 10000), 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(t.TempDir(), Options{ErrorLog: log.New(io.Discard, "", 0)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.Settle(time.UnixMilli(1))
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				f := &shrunk{data: []byte(tc.content), cut: int64(tc.cut)}
				s.site.serveContent(s, w, r, tc.file, f, fakeInfo{tc.file, int64(len(tc.content))})
			}))
			defer ts.Close()
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := client.Get(ts.URL)
			if err != nil {
				if tc.complete {
					t.Fatal(err)
				}
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				if tc.complete {
					t.Fatalf("got %v after %d bytes, want a complete response", err, len(body))
				}
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("got %v, want an unexpected EOF", err)
				}
				return
			}
			if int64(len(body)) != resp.ContentLength {
				t.Fatalf("got a %d-byte body under Content-Length %d", len(body), resp.ContentLength)
			}
			if !tc.complete {
				t.Fatalf("got a complete %d-byte body from a file cut to %d bytes", len(body), tc.cut)
			}
			got := string(body)
			if n := strings.Count(got, assets.ClientPath); n > 1 {
				t.Fatalf("got %d script tags", n)
			}
			if strings.Contains(got, assets.ClientPath) {
				got = uninject(t, got)
			}
			if got != tc.content[:tc.cut] {
				t.Errorf("got body %q, want the %d bytes read %q", got, tc.cut, tc.content[:tc.cut])
			}
		})
	}
}

func TestReopen(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "site")
	write := func(content string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("v0")
	s, base := start(t, dir, Options{})

	// Requests keep running while the folder is replaced and reopened
	// under them; the race detector checks the swap, and every answer
	// must be a clean 200 or 404.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 4 {
		wg.Go(func() {
			client := &http.Client{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(base + "/a.txt")
				if err != nil {
					t.Error(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
				if err != nil || resp.StatusCode == 200 && !bytes.HasPrefix(body, []byte("v")) {
					t.Errorf("got %d %q %v", resp.StatusCode, body, err)
				}
			}
		})
	}
	for i := 1; i <= 20; i++ {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		write("v" + string(rune('0'+i%10)))
		if err := s.Reopen(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	for code := range statuses {
		if code != 200 && code != 404 {
			t.Errorf("got statuses %v, want only 200 and 404", statuses)
		}
	}
	write("new")
	if r := get(t, base+"/a.txt"); r.body != "new" {
		t.Errorf("after Reopen: got %q, want the new folder's file", r.body)
	}

	t.Run("a folder that is gone keeps the old handle and says why", func(t *testing.T) {
		if err := os.Rename(dir, dir+".old"); err != nil {
			t.Fatal(err)
		}
		if err := s.Reopen(); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("got %v, want a not-exist error", err)
		}
		if r := get(t, base+"/a.txt"); r.body != "new" {
			t.Errorf("got %q, want the file through the old handle", r.body)
		}
	})
}
