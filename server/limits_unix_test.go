//go:build unix

package server

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStreamCap(t *testing.T) {
	const streams = 1100
	// Both ends of every connection live in this process.
	const need = 2*streams + 256
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < need {
		lim.Cur = min(need, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < need {
			t.Skipf("need %d open files, the limit is %d", need, lim.Cur)
		}
	}
	dir := site(t, map[string]string{"index.html": page})
	s, base := start(t, dir, Options{})
	s.Settle(time.UnixMilli(1))
	addr := strings.TrimPrefix(base, "http://")

	open := func() (net.Conn, int) {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET /__hotserve/events HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		return c, resp.StatusCode
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	counts := map[int]int{}
	startedAt := time.Now()
	for range streams {
		c, code := open()
		counts[code]++
		if code == http.StatusOK {
			conns = append(conns, c)
		} else {
			c.Close()
		}
	}
	t.Logf("%d streams opened in %v", streams, time.Since(startedAt).Round(time.Millisecond))
	if counts[200] != DefaultMaxStreams || counts[503] != streams-DefaultMaxStreams {
		t.Fatalf("got statuses %v, want %d × 200 and %d × 503", counts, DefaultMaxStreams, streams-DefaultMaxStreams)
	}
	if n := s.Streams(); n != DefaultMaxStreams {
		t.Errorf("got %d streams counted, want %d", n, DefaultMaxStreams)
	}

	t.Run("pages are still served at the cap", func(t *testing.T) {
		begin := time.Now()
		r := get(t, base+"/index.html")
		if r.status != 200 || uninject(t, r.body) != page {
			t.Errorf("got %d %q", r.status, r.body)
		}
		if d := time.Since(begin); d > 2*time.Second {
			t.Errorf("a page took %v at the cap", d)
		}
	})
	t.Run("a stream is accepted again once one closes", func(t *testing.T) {
		conns[0].Close()
		conns = conns[1:]
		waitFor(t, func() bool { return s.Streams() == DefaultMaxStreams-1 })
		c, code := open()
		conns = append(conns, c)
		if code != 200 {
			t.Errorf("got %d, want 200", code)
		}
	})
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	waitFor(t, func() bool { return s.Streams() == 0 })
}

func TestStalledStreamDelaysNoOne(t *testing.T) {
	old := writeTimeout
	t.Cleanup(func() { writeTimeout = old }) // after the server's own cleanup
	writeTimeout = time.Second
	dir := site(t, map[string]string{"index.html": page})
	s, base := start(t, dir, Options{})
	s.Settle(time.UnixMilli(1))
	addr := strings.TrimPrefix(base, "http://")

	// A browser tab that stops reading: a small receive buffer that fills
	// and is never drained.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	stalled, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fmt.Fprintf(stalled, "GET /__hotserve/events HTTP/1.1\r\nHost: %s\r\n\r\n", addr)

	healthy := openStream(t, base)
	healthy.Next(t, 5*time.Second)
	waitFor(t, func() bool { return s.Streams() == 2 })

	// Big events fill the stalled socket's buffers quickly.
	paths := make([]string, 1000)
	for i := range paths {
		paths[i] = fmt.Sprintf("assets/very/long/path/to/some/generated/file-%04d-%s.js", i, strings.Repeat("x", 16))
	}
	var worst time.Duration
	for i := range 200 {
		build := int64(1000 + i)
		sent := time.Now()
		s.ReloadChange(Change{Paths: paths, ModTime: time.UnixMilli(build)})
		for {
			ev := healthy.Next(t, 5*time.Second)
			if ev.Data.Build >= build {
				break
			}
		}
		worst = max(worst, time.Since(sent))
	}
	t.Logf("slowest event to the healthy stream: %v", worst)
	if worst >= writeTimeout {
		t.Errorf("the healthy stream waited %v for an event, want less than the write deadline %v", worst, writeTimeout)
	}
	// The stalled stream's write times out and its handler ends.
	begin := time.Now()
	waitFor(t, func() bool { return s.Streams() == 1 })
	t.Logf("the stalled stream was dropped %v after the last event", time.Since(begin).Round(time.Millisecond))
}
