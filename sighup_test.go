//go:build unix

package main

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/hotserve/hotserve/internal/ssetest"
)

func TestSIGHUPReloadsEveryPage(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/index.html", "<!doctype html><title>x</title>")
	cmd := exec.Command(binary, "--port", "0", "--quiet", dir)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed: %q", out.String())
		}
		url = urlPattern.FindString(out.String())
	}
	st := ssetest.Open(t, url+"__hotserve/events")
	first := st.Next(t, 10*time.Second)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	ev := st.Next(t, 10*time.Second)
	if !ev.Data.Reload || ev.Data.Build <= first.Data.Build {
		t.Errorf("after SIGHUP got %s, want a full reload with a new build", ev.Raw)
	}
	if cmd.ProcessState != nil {
		t.Fatal("hotserve exited on SIGHUP")
	}
}
