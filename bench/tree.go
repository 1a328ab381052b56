package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// writeTree writes 50,000 files in 2,500 folders (50 × 50, 20 files each),
// plus a node_modules of 10,000 files in 500 folders, and returns the number
// of folders hotserve should watch and the path of a deep file.
func writeTree(dir string) (watchable int, deep string, err error) {
	body := []byte(strings.Repeat("x", 200))
	mk := func(d string, files int, ext string) error {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		for f := range files {
			if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%02d%s", f, ext)), body, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>tree</title><p>tree"), 0o644); err != nil {
		return 0, "", err
	}
	for a := range 50 {
		for b := range 50 {
			if err := mk(filepath.Join(dir, fmt.Sprintf("s%02d", a), fmt.Sprintf("d%02d", b)), 20, ".html"); err != nil {
				return 0, "", err
			}
		}
	}
	for a := range 500 {
		if err := mk(filepath.Join(dir, "node_modules", fmt.Sprintf("pkg%03d", a)), 20, ".js"); err != nil {
			return 0, "", err
		}
	}
	// root + 50 + 2,500 folders.
	return 1 + 50 + 2500, filepath.Join(dir, "s49", "d49", "f19.html"), nil
}

// treeRows starts hotserve on the big tree again and again and measures how
// soon it answers, how soon a deep change reaches an event stream, its peak
// memory and its inotify watches.
func treeRows(bin, work string, runs int) ([]*row, error) {
	dir := filepath.Join(work, "tree")
	watchable, deep, err := writeTree(dir)
	if err != nil {
		return nil, err
	}
	first := &row{name: "50,000 files + 10,000-file node_modules: start → first 200", target: "≤ 40 ms", unit: "ms", ok: atMost(40),
		note: "from exec to the first 200 for /"}
	change := &row{name: "… start → a change in a deep file reaches an SSE client", target: "≤ 500 ms", unit: "ms", ok: atMost(500)}
	peak := &row{name: "… peak RSS", target: "≤ 25 MiB", unit: "MiB", ok: atMost(25)}
	watches := &row{name: "… inotify watches", target: fmt.Sprintf("≤ %d (folders not ignored)", watchable), unit: "",
		ok: atMost(float64(watchable))}
	for i := range runs {
		start := time.Now()
		hot, err := startProc(bin, "--quiet", "--port", "0", dir)
		if err != nil {
			return nil, err
		}
		ok, err := waitOK(hot.url+"/", 10*time.Second)
		if err != nil {
			hot.stop()
			return nil, err
		}
		first.add(float64(ok.Sub(start)) / float64(time.Millisecond))
		s, err := dialSSE(hot.url)
		if err == nil {
			// The first event comes once the walk has settled the build.
			_, err = s.nextBuild(time.Now().Add(30 * time.Second))
		}
		if err == nil {
			err = os.WriteFile(deep, fmt.Appendf(nil, "<p>%d", i), 0o644)
		}
		if err == nil {
			_, err = s.nextBuild(time.Now().Add(30 * time.Second))
		}
		if err != nil {
			hot.stop()
			return nil, err
		}
		change.add(float64(time.Since(start)) / float64(time.Millisecond))
		peak.add(hot.peakMiB())
		watches.add(float64(hot.inotifyWatches()))
		s.close()
		hot.stop()
	}
	return []*row{first, change, peak, watches}, nil
}
