package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// sseRows measures the time from a file write to the event arriving on an
// event stream, 20 writes per run, spaced so that each is its own batch.
func sseRows(bin, work string, runs int) ([]*row, error) {
	dir := filepath.Join(work, "sse")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeSite(dir); err != nil {
		return nil, err
	}
	r := &row{name: "file write → event received by an SSE client", target: "≤ debounce + 5 ms (10 ms)", unit: "ms", ok: atMost(10),
		note: "median of 20 writes per run; the median run is shown"}
	for range runs {
		hot, err := startProc(bin, "--quiet", "--port", "0", dir)
		if err != nil {
			return nil, err
		}
		lat, err := writeToEvent(hot, filepath.Join(dir, "site.css"), 20)
		hot.stop()
		if err != nil {
			return nil, err
		}
		r.add(lat)
	}
	return []*row{r}, nil
}

// writeToEvent writes file n times and returns the median milliseconds from
// each write to its event.
func writeToEvent(hot *proc, file string, n int) (float64, error) {
	s, err := dialSSE(hot.url)
	if err != nil {
		return 0, err
	}
	defer s.close()
	if _, err := s.nextBuild(time.Now().Add(10 * time.Second)); err != nil {
		return 0, fmt.Errorf("first event: %w", err)
	}
	row := &row{}
	for i := range n {
		start := time.Now()
		if err := os.WriteFile(file, fmt.Appendf(nil, "p { z-index: %d }\n", i), 0o644); err != nil {
			return 0, err
		}
		if _, err := s.nextBuild(time.Now().Add(5 * time.Second)); err != nil {
			return 0, fmt.Errorf("event %d: %w", i, err)
		}
		row.add(float64(time.Since(start)) / float64(time.Millisecond))
	}
	return row.median(), nil
}

// idleRows measures hotserve's resident memory on the example site with one
// event stream connected, as one open tab holds it.
func idleRows(bin, work string, runs int) ([]*row, error) {
	dir := filepath.Join(work, "idle")
	if err := os.CopyFS(dir, os.DirFS("example")); err != nil {
		return nil, err
	}
	r := &row{name: "idle RSS, example site, one tab connected", target: "≤ 15 MiB", unit: "MiB", ok: atMost(15)}
	for range runs {
		hot, err := startProc(bin, "--quiet", "--port", "0", dir)
		if err != nil {
			return nil, err
		}
		if _, err := waitOK(hot.url+"/", 5*time.Second); err != nil {
			hot.stop()
			return nil, err
		}
		s, err := dialSSE(hot.url)
		if err == nil {
			_, err = s.nextBuild(time.Now().Add(10 * time.Second))
		}
		if err != nil {
			hot.stop()
			return nil, err
		}
		r.add(hot.rssMiB())
		s.close()
		hot.stop()
	}
	return []*row{r}, nil
}
