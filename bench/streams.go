package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/hotserve/hotserve/server"
	"github.com/hotserve/hotserve/watcher"
)

// serveLib runs hotserve's server and watcher in this process, wired as
// main wires them, plus /__bench/stats, which reports goroutines and open
// files: the one thing an outside process cannot read of a Go program. The
// binary caps event streams at server.DefaultMaxStreams (1024) for safety;
// this row measures how the broadcaster copes beyond that, so it raises the
// cap the way a library user can.
func serveLib(dir string) {
	logger := log.New(io.Discard, "", 0)
	srv, err := server.New(dir, server.Options{ErrorLog: logger, MaxStreams: 2 * streamCount})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/__bench/stats", func(w http.ResponseWriter, r *http.Request) {
		ents, _ := os.ReadDir("/proc/self/fd")
		fmt.Fprintf(w, "%d %d %d\n", runtime.NumGoroutine(), len(ents), srv.Streams())
	})
	// Profiles of the same code under load, for BENCHMARKS.md's findings.
	mux.HandleFunc("/__bench/pprof/profile", pprof.Profile)
	mux.Handle("/__bench/pprof/allocs", pprof.Handler("allocs"))
	mux.Handle("/", srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx := context.Background()
	go watcher.Watch(ctx, watcher.Config{Dir: dir, ErrorLog: logger, OnReady: srv.Settle,
		OnChange: func(b watcher.Batch) { srv.ReloadChange(server.Change{Paths: b.Paths, ModTime: b.ModTime}) }})
	fmt.Printf("http://%s/\n", ln.Addr())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	hs.Serve(ln)
}

type stats struct{ goroutines, fds, streams int }

func readStats(base string) (stats, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(base + "/__bench/stats")
	if err != nil {
		return stats{}, err
	}
	defer resp.Body.Close()
	var s stats
	_, err = fmt.Fscan(resp.Body, &s.goroutines, &s.fds, &s.streams)
	return s, err
}

const streamCount = 10000

// streamRows opens 10,000 event streams, announces one change, and measures
// how long it took each stream to get it, the server's memory, and how soon
// its goroutines and files are back to where they were once all disconnect.
func streamRows(self, work string, runs int) ([]*row, error) {
	dir := filepath.Join(work, "streams")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeSite(dir); err != nil {
		return nil, err
	}
	p99 := &row{name: "10,000 event streams: one change reaches all, p99", target: "≤ 200 ms", unit: "ms", ok: atMost(200)}
	rss := &row{name: "10,000 event streams: server RSS", target: "≤ 300 MiB", unit: "MiB", ok: atMost(300)}
	back := &row{name: "10,000 streams disconnect → goroutines and fds at baseline", target: "≤ 5 s", unit: "ms", ok: atMost(5000)}
	for range runs {
		if err := streamRun(self, dir, p99, rss, back); err != nil {
			return nil, err
		}
	}
	return []*row{p99, rss, back}, nil
}

func streamRun(self, dir string, p99, rss, back *row) error {
	lib, err := startProc(self, "-lib", dir)
	if err != nil {
		return err
	}
	defer lib.stop()
	if _, err := waitOK(lib.url+"/", 5*time.Second); err != nil {
		return err
	}
	base, err := readStats(lib.url)
	if err != nil {
		return err
	}

	// Connect in waves so the listen backlog never overflows.
	conns := make([]*sseConn, streamCount)
	var wg sync.WaitGroup
	errc := make(chan error, streamCount)
	sem := make(chan struct{}, 256)
	for i := range conns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := dialSSE(lib.url)
			if err == nil {
				_, err = c.nextBuild(time.Now().Add(60 * time.Second))
			}
			if err != nil {
				errc <- err
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return fmt.Errorf("connecting %d streams: %w", streamCount, err)
	}
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	if s, err := readStats(lib.url); err != nil || s.streams != streamCount {
		return fmt.Errorf("server sees %d streams (%v), want %d", s.streams, err, streamCount)
	}

	got := make([]time.Duration, streamCount)
	errc = make(chan error, streamCount)
	start := time.Now()
	if err := os.WriteFile(filepath.Join(dir, "site.css"), []byte("p { color: red }\n"), 0o644); err != nil {
		return err
	}
	for i, c := range conns {
		wg.Go(func() {
			if _, err := c.nextBuild(time.Now().Add(30 * time.Second)); err != nil {
				errc <- err
				return
			}
			got[i] = time.Since(start)
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return fmt.Errorf("waiting for the change: %w", err)
	}
	slices.Sort(got)
	p99.add(float64(got[len(got)*99/100]) / float64(time.Millisecond))
	rss.add(lib.peakMiB())

	for _, c := range conns {
		c.close()
	}
	closed := time.Now()
	for deadline := closed.Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s, err := readStats(lib.url)
		if err != nil {
			return err
		}
		// The stats request itself holds one goroutine and one socket.
		if s.goroutines <= base.goroutines && s.fds <= base.fds {
			back.add(float64(time.Since(closed)) / float64(time.Millisecond))
			return nil
		}
		if time.Now().After(deadline) {
			back.note = fmt.Sprintf("after 30 s: %d goroutines and %d fds, baseline %d and %d", s.goroutines, s.fds, base.goroutines, base.fds)
			return nil
		}
	}
}
