//go:build unix

package main

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotserve/hotserve/internal/ssetest"
)

// TestClosedOutputPipeKeepsServing runs hotserve as "hotserve DIR 2>&1 |
// head -n 6" does: its output goes to a pipe whose reader stops after the
// banner. Saves after that are logged into the closed pipe; hotserve
// must go on serving and announcing them.
func TestClosedOutputPipeKeepsServing(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "index.html")
	write(t, page, "<!doctype html><title>x</title>")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := hotserveCmd(t, "--port", "0", "--no-qr", dir)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})

	// Read as head -n 6 would, keeping the URL, then close the pipe.
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for n := 0; n < 6 && sc.Scan(); n++ {
			lines <- sc.Text()
		}
	}()
	var url string
	for line := range lines {
		if url == "" {
			url = urlPattern.FindString(line)
		}
	}
	r.Close()
	if url == "" {
		t.Fatal("hotserve printed no URL in its first 6 lines")
	}

	st := ssetest.Open(t, url+"__hotserve/events")
	last := st.Next(t, 10*time.Second).Data.Build
	for i := range 3 {
		write(t, page, "<!doctype html><title>save "+strings.Repeat("!", i)+"</title>")
		ev := st.Next(t, 10*time.Second)
		if ev.Data.Build <= last {
			t.Fatalf("save %d: got %s after build %d", i, ev.Raw, last)
		}
		last = ev.Data.Build
	}
	select {
	case err := <-done:
		t.Fatalf("hotserve exited after its output pipe closed: %v", err)
	default:
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("hotserve stopped serving after its output pipe closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %s", resp.Status)
	}
}
