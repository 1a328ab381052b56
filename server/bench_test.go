package server

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// eventSink is a ResponseWriter for a stream that reports every event it is
// sent, so a benchmark can wait for all streams to have one.
type eventSink struct {
	h       http.Header
	events  *sync.WaitGroup
	refused *atomic.Int32 // streams answered with another status than 200
}

func (s *eventSink) Header() http.Header { return s.h }
func (s *eventSink) Flush()              {}

// WriteHeader counts a refused stream as done, so that the benchmark fails
// instead of waiting for an event that will never come.
func (s *eventSink) WriteHeader(code int) {
	if code != http.StatusOK {
		s.refused.Add(1)
		s.events.Done()
	}
}
func (s *eventSink) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("id: ")) {
		s.events.Done()
	}
	return len(p), nil
}

// BenchmarkBroadcast10k measures one Reload reaching 10,000 open streams:
// every stream handler wakes and writes the new event.
func BenchmarkBroadcast10k(b *testing.B) {
	const streams = 10000
	// Above the default cap of 1024 streams, as a program that serves many
	// browsers on purpose would set it.
	s, err := New(b.TempDir(), Options{ErrorLog: log.New(io.Discard, "", 0), MaxStreams: streams})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Settle(time.UnixMilli(1))

	ctx, cancel := context.WithCancel(context.Background())
	var events, done sync.WaitGroup
	var refused atomic.Int32
	events.Add(streams)
	for range streams {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/__hotserve/events", nil)
		req.Host = "localhost"
		w := &eventSink{h: http.Header{}, events: &events, refused: &refused}
		done.Go(func() { s.ServeHTTP(w, req) })
	}
	events.Wait() // every stream has its first event, or was refused
	if n := refused.Load(); n > 0 {
		cancel()
		done.Wait()
		b.Fatalf("%d of %d streams were refused", n, streams)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		events.Add(streams)
		s.Reload("css/site.css")
		events.Wait()
	}
	b.StopTimer()
	cancel()
	done.Wait()
}

// discard is a ResponseWriter that keeps nothing, to measure the server's
// own cost of answering a request.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkServe measures answering one GET without the network: a 2 KB
// page with injection, and the same page and a 2 KB stylesheet served as
// they are.
func BenchmarkServe(b *testing.B) {
	dir := b.TempDir()
	html := "<!doctype html>\n<html><head><title>b</title></head><body>" + strings.Repeat("<p>lorem ipsum dolor sit amet</p>\n", 60) + "</body></html>\n"
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(html), 0o644)
	os.WriteFile(filepath.Join(dir, "site.css"), []byte(strings.Repeat("p { color: red; }\n", 115)), 0o644)
	for _, tc := range []struct {
		name, path string
		opts       Options
	}{
		{"InjectedPage2KB", "/index.html", Options{}},
		{"PlainPage2KB", "/index.html", Options{NoReload: true}},
		{"CSS2KB", "/site.css", Options{}},
		// --header wraps the ResponseWriter so the user's values win.
		{"CSS2KBWithHeader", "/site.css", Options{Header: http.Header{"Cache-Control": {"max-age=60"}}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tc.opts.ErrorLog = log.New(io.Discard, "", 0)
			s, err := New(dir, tc.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.Settle(time.UnixMilli(1))
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			req.Host = "localhost" // httptest's example.com is refused, as DNS rebinding
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("%s: got status %d, want 200", tc.path, w.Code)
			}
			b.ReportAllocs()
			for b.Loop() {
				s.ServeHTTP(&discard{h: http.Header{}}, req)
			}
		})
	}
}
