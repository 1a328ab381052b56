//go:build unix

package main

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hotserve/hotserve/internal/ssetest"
)

func TestSIGHUPReloadsEveryPage(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><title>x</title>")
	p := startBinary(t, "--port", "0", "--quiet", dir)
	st := ssetest.Open(t, p.url+"__hotserve/events")
	first := st.Next(t, 10*time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	ev := st.Next(t, 10*time.Second)
	if !ev.Data.Reload || ev.Data.Build <= first.Data.Build {
		t.Errorf("after SIGHUP got %s, want a full reload with a new build", ev.Raw)
	}
	if !p.running(t) {
		t.Fatalf("hotserve stopped after SIGHUP: %v", p.err)
	}

	t.Run("with --no-reload SIGHUP is noted and changes nothing", func(t *testing.T) {
		p := startBinary(t, "--port", "0", "--no-reload", dir)
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, p.stderr, "reload requested by signal, but --no-reload is on")
		if !p.running(t) {
			t.Fatalf("hotserve stopped after SIGHUP: %v", p.err)
		}
	})
}
