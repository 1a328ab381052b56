package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// postReload asks in for a reload as a build tool does, and returns the
// status.
func postReload(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url+"/__hotserve/reload", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestTriggerIsLoggedLikeSIGHUP(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><title>x</title>")
	in := startInProcess(t, dir)
	if code := postReload(t, in.url, ""); code != http.StatusNoContent {
		t.Fatalf("got %d, want 204", code)
	}
	waitForMatch(t, in.stderr, regexp.MustCompile(`(?m)^hotserve: \d\d:\d\d:\d\d reload requested by POST /__hotserve/reload \(0 browsers connected\)$`))
	if code := postReload(t, in.url, `{"paths": ["css/site.css"]}`); code != http.StatusNoContent {
		t.Fatalf("got %d, want 204", code)
	}
	waitForMatch(t, in.stderr, regexp.MustCompile(`(?m)^hotserve: \d\d:\d\d:\d\d reload requested by POST /__hotserve/reload: css/site.css \(0 browsers connected\)$`))

	t.Run("with --no-reload it is noted and changes nothing", func(t *testing.T) {
		in := startInProcess(t, "--no-reload", dir)
		if code := postReload(t, in.url, ""); code != http.StatusNotFound {
			t.Errorf("got %d, want 404", code)
		}
		waitFor(t, in.stderr, "reload requested by POST /__hotserve/reload, but --no-reload is on")
	})
}

func TestSymlinkOutOfDIRIsLoggedOnce(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "site")
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><title>x</title>")
	write(t, filepath.Join(parent, "lib", "a.js"), "a")
	if err := os.Symlink("../lib", filepath.Join(dir, "shared")); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	in := startInProcess(t, dir)
	for _, p := range []string{"/shared/a.js", "/shared/a.js", "/shared/b.js", "/shared/"} {
		resp, err := http.Get(in.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404", p, resp.StatusCode)
		}
	}
	link, lib := filepath.Join(dir, "shared"), filepath.Join(parent, "lib")
	want := fmt.Sprintf("hotserve: warning: %s leads out of %s (a symbolic link to %s), so requests through it get 404; to serve that folder, add --mount /shared=%s\n", link, dir, lib, lib)
	waitFor(t, in.stderr, want)
	// The requests were answered before the line was looked for, and the
	// log is written before the answer: a second line would be there.
	if n := strings.Count(in.stderr.String(), "leads out of"); n != 1 {
		t.Errorf("got %d lines about the link, want 1:\n%s", n, in.stderr.String())
	}
}

// infoLine is the form of every line hotserve logs that is not a warning:
// a change or reload with its time, and the backends it proxies to.
var infoLine = regexp.MustCompile(`^hotserve: (warning: |\d\d:\d\d:\d\d |proxying )`)

// checkLines fails if a line of stderr is neither a warning that says so
// nor one of the known kinds of news.
func checkLines(t *testing.T, stderr string) {
	t.Helper()
	for line := range strings.SplitSeq(strings.TrimSpace(stderr), "\n") {
		if line != "" && !infoLine.MatchString(line) {
			t.Errorf("line %q is a warning that does not say so", line)
		}
	}
}

func TestEveryWarningSaysWarning(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><title>x</title>")
	t.Run("a busy default port", func(t *testing.T) {
		listenOn(t, defaultPort)
		p := startBinary(t, dir)
		waitFor(t, p.stderr, fmt.Sprintf("hotserve: warning: port %d is in use; using ", defaultPort))
		checkLines(t, p.stderr.String())
	})
	t.Run("what net/http logs", func(t *testing.T) {
		t.Setenv("XDG_CACHE_HOME", t.TempDir())
		in := startInProcess(t, "--https", dir)
		// Bytes that are neither TLS nor HTTP make the TLS handshake
		// fail, which net/http logs.
		conn, err := net.Dial("tcp", strings.TrimPrefix(in.url, "https://"))
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		conn.Read(make([]byte, 1))
		conn.Close()
		waitFor(t, in.stderr, "hotserve: warning: http: TLS handshake error")
		checkLines(t, in.stderr.String())
	})
}
