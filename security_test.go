package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestListensOnLoopbackByDefault(t *testing.T) {
	// The kernel's socket table says where hotserve listens, without
	// sending anything to an address other than loopback.
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp on this system: the bound address cannot be read")
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<p>x")
	for _, tc := range []struct {
		name string
		args []string
		want string // the local address in /proc/net/tcp's hex form
	}{
		{"by default only loopback", []string{dir}, "0100007F"},
		{"with --host 0.0.0.0 every address", []string{"--host", "0.0.0.0", dir}, "all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := startInProcess(t, tc.args...)
			if !strings.HasPrefix(in.url, "http://127.0.0.1:") {
				t.Fatalf("got URL %s, want one on 127.0.0.1", in.url)
			}
			port, _ := strconv.Atoi(in.url[strings.LastIndexByte(in.url, ':')+1:])
			got := listeningOn(t, port)
			if len(got) != 1 {
				t.Fatalf("got %d listening sockets on port %d (%v), want 1", len(got), port, got)
			}
			if addr := got[0]; tc.want == "all" && strings.Trim(addr, "0") != "" || tc.want != "all" && addr != tc.want {
				t.Errorf("listening on %s, want %s", addr, tc.want)
			}
		})
	}
}

// listeningOn returns the local addresses of the sockets listening on
// port, in the hex form of /proc/net/tcp and tcp6 (127.0.0.1 is 0100007F,
// every address all zeros).
func listeningOn(t *testing.T, port int) []string {
	t.Helper()
	var addrs []string
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != "0A" { // 0A: LISTEN
				continue
			}
			host, hexPort, _ := strings.Cut(f[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && int(p) == port {
				addrs = append(addrs, host)
			}
		}
	}
	return addrs
}

func TestAllowHost(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<p>x")
	t.Run("from the flag", func(t *testing.T) {
		in := startInProcess(t, "--allow-host", "dev.test", "--allow-host", ".tunnel.example", dir)
		for host, want := range map[string]int{
			"dev.test":            200,
			"a.tunnel.example":    200,
			"evil.example":        403,
			"dev.test.evil":       403,
			"localhost":           200,
			"[::1" + "]:1":        200,
			"rebind.evil.example": 403,
		} {
			if got := get(t, in.url+"/", "Host", host); got != want {
				t.Errorf("Host %s: got %d, want %d", host, got, want)
			}
		}
		if !strings.Contains(in.stderr.String(), `refused a request for host "evil.example"`) {
			t.Errorf("the refusal was not logged with the flag to allow it: %q", in.stderr.String())
		}
	})
	t.Run("from the environment", func(t *testing.T) {
		t.Setenv("HOTSERVE_ALLOW_HOST", "env.test")
		in := startInProcess(t, dir)
		if got := get(t, in.url+"/", "Host", "env.test"); got != 200 {
			t.Errorf("got %d, want 200", got)
		}
		if got := get(t, in.url+"/__hotserve/events", "Host", "other.test"); got != 403 {
			t.Errorf("events for another host: got %d, want 403", got)
		}
	})
}

// TestSlowHeadersAreCut opens a connection that sends the start of a request
// and never finishes its headers: hotserve must close it at the stated 10 s
// (ReadHeaderTimeout), not before, and keep serving others meanwhile.
func TestSlowHeadersAreCut(t *testing.T) {
	skipSlow(t, "waits out the 10 s header timeout")
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<p>x")
	in := startInProcess(t, dir)
	c, err := net.Dial("tcp", strings.TrimPrefix(in.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	begin := time.Now()
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
	if got := get(t, in.url+"/", "Host", "localhost"); got != 200 {
		t.Errorf("another client: got %d, want 200", got)
	}
	c.SetReadDeadline(time.Now().Add(12 * time.Second))
	_, err = io.ReadAll(bufio.NewReader(c))
	took := time.Since(begin)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the connection was still open after %v", took)
	}
	t.Logf("a connection that never finished its headers was closed after %v", took.Round(time.Millisecond))
	if took > readHeaderTimeout+time.Second {
		t.Errorf("closed after %v, want within %v", took, readHeaderTimeout)
	}
	if took < readHeaderTimeout-time.Second {
		t.Errorf("closed after %v, before the stated %v", took, readHeaderTimeout)
	}
}

func TestEventsCarryNoContentOrAbsolutePaths(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>v1")
	in := startInProcess(t, dir)
	st, _ := in.events(t)
	const secret = "SECRET-CONTENT-6f1d"
	write(t, filepath.Join(dir, "deep", "er", "notes.txt"), secret)
	ev := st.Next(t, 10*time.Second)
	if strings.Contains(ev.Raw, secret) || strings.Contains(ev.Raw, dir) || strings.Contains(ev.Raw, os.TempDir()) {
		t.Errorf("the event carries content or an absolute path: %s", ev.Raw)
	}
	for _, p := range ev.Data.Paths {
		if filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "..") {
			t.Errorf("got path %q, want one relative to the folder", p)
		}
	}
	if !slices.Contains(ev.Data.Paths, "deep/er/notes.txt") {
		t.Errorf("got %v, want deep/er/notes.txt", ev.Data.Paths)
	}
}

func TestFolderReplacedIsServedAgain(t *testing.T) {
	for _, replace := range []string{"rm -rf site && mkdir site", "mv site site.old && mkdir site"} {
		t.Run(replace, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "site")
			write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>v1")
			write(t, filepath.Join(dir, "old.css"), "x")
			in := startInProcess(t, dir)
			st, _ := in.events(t)
			if body := fetch(t, in.url+"/index.html"); !strings.Contains(body, "<p>v1") {
				t.Fatalf("got %q", body)
			}

			if strings.HasPrefix(replace, "rm") {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Rename(dir, dir+".old"); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>v2")
			write(t, filepath.Join(dir, "v2.css"), "new")
			for {
				ev := st.Next(t, 10*time.Second)
				if slices.Contains(ev.Data.Paths, "v2.css") {
					break
				}
			}
			if body := fetch(t, in.url+"/index.html"); !strings.Contains(body, "<p>v2") {
				t.Errorf("after the event: got %q, want the new page", body)
			}
			if body := fetch(t, in.url+"/old.css"); body != "404 page not found\n" {
				t.Errorf("a file of the old folder: got %q, want 404", body)
			}
			write(t, filepath.Join(dir, "later.css"), "l")
			if ev := st.Next(t, 3*time.Second); !slices.Equal(ev.Data.Paths, []string{"later.css"}) {
				t.Errorf("got %v, want later.css: the new folder is not watched (%s)", ev.Data.Paths, in.stderr.String())
			}
		})
	}
}

func TestPollFlag(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>v1")
	in := startInProcess(t, "--poll", "50ms", dir)
	st, _ := in.events(t)
	write(t, filepath.Join(dir, "css", "site.css"), "body{}")
	if ev := st.Next(t, 10*time.Second); !slices.Equal(ev.Data.Paths, []string{"css", "css/site.css"}) {
		t.Errorf("got %v, want css and css/site.css", ev.Data.Paths)
	}
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
