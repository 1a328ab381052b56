package server

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hotserve/hotserve/internal/ssetest"
)

func TestStreamHeadersAndFirstEvent(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	s, base := start(t, dir, Options{})
	s.Settle(time.UnixMilli(5000))
	st := ssetest.Open(t, base+"/__hotserve/events")
	h := st.Header
	if h.Get("Content-Type") != "text/event-stream" || h.Get("Cache-Control") != "no-cache" {
		t.Errorf("got Content-Type %q, Cache-Control %q", h.Get("Content-Type"), h.Get("Cache-Control"))
	}
	if st.Retry == "" {
		t.Errorf("no retry: line")
	}
	ev := st.Next(t, 5*time.Second)
	if ev.Data.Build != 5000 || ev.ID != "5000" {
		t.Errorf("got build %d id %q, want 5000", ev.Data.Build, ev.ID)
	}
}

func TestReloadReachesEveryStream(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	s, base := start(t, dir, Options{})
	s.Settle(time.UnixMilli(5000))
	a, b := ssetest.Open(t, base+"/__hotserve/events"), ssetest.Open(t, base+"/__hotserve/events")
	a.Next(t, 5*time.Second)
	b.Next(t, 5*time.Second)

	s.ReloadChange(Change{Paths: []string{"css/site.css", "index.html"}, ModTime: time.UnixMilli(9000)})
	for _, st := range []*ssetest.Stream{a, b} {
		ev := st.Next(t, 5*time.Second)
		if ev.Data.Build != 9000 || ev.Data.Previous != 5000 || strings.Join(ev.Data.Paths, ",") != "css/site.css,index.html" {
			t.Errorf("got %s, want build 9000, previous 5000 and both paths", ev.Raw)
		}
	}

	t.Run("a batch older than the build still raises it by one", func(t *testing.T) {
		s.ReloadChange(Change{Paths: []string{"x"}, ModTime: time.UnixMilli(10)})
		if ev := a.Next(t, 5*time.Second); ev.Data.Build != 9001 {
			t.Errorf("got build %d, want 9001", ev.Data.Build)
		}
	})
}

func TestStreamWaitsForTheWalk(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	s, base := start(t, dir, Options{})
	st := ssetest.Open(t, base+"/__hotserve/events")
	// Before Settle the stream must say nothing about build 0: the first
	// event it sends is the settled build.
	waitFor(t, func() bool { return s.Streams() == 1 })
	s.Settle(time.UnixMilli(7000))
	if ev := st.Next(t, 5*time.Second); ev.Data.Build != 7000 {
		t.Errorf("got build %d, want 7000", ev.Data.Build)
	}
	t.Run("settling again on the same tree changes nothing", func(t *testing.T) {
		s.Settle(time.UnixMilli(7000))
		s.ReloadChange(Change{Paths: []string{"a"}, ModTime: time.UnixMilli(8000)})
		if ev := st.Next(t, 5*time.Second); ev.Data.Build != 8000 || ev.Data.Previous != 7000 {
			t.Errorf("got %s, want build 8000 after 7000", ev.Raw)
		}
	})
}

func TestLastEventID(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	s, base := start(t, dir, Options{})
	s.Settle(time.UnixMilli(5000))
	st := ssetest.Open(t, base+"/__hotserve/events", "Last-Event-ID", "5000")
	waitFor(t, func() bool { return s.Streams() == 1 })
	s.ReloadChange(Change{Paths: []string{"a"}, ModTime: time.UnixMilli(6000)})
	// Had the stream resent build 5000, that would be the first event.
	if ev := st.Next(t, 5*time.Second); ev.Data.Build != 6000 {
		t.Errorf("got build %d first, want 6000: the known build was sent again", ev.Data.Build)
	}
	t.Run("a stale Last-Event-ID gets the current build at once", func(t *testing.T) {
		st := ssetest.Open(t, base+"/__hotserve/events", "Last-Event-ID", "5000")
		if ev := st.Next(t, 5*time.Second); ev.Data.Build != 6000 {
			t.Errorf("got build %d, want 6000", ev.Data.Build)
		}
	})
}

func TestClosedStreamFreesItsGoroutine(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	s, base := start(t, dir, Options{})
	s.Settle(time.UnixMilli(5000))
	st := ssetest.Open(t, base+"/__hotserve/events")
	st.Next(t, 5*time.Second)
	if n := s.Streams(); n != 1 {
		t.Fatalf("got %d streams, want 1", n)
	}
	st.Close()
	waitFor(t, func() bool { return s.Streams() == 0 })
	http.DefaultClient.CloseIdleConnections()
	goleak.VerifyNone(t, goleak.IgnoreCurrent())
}

func TestStreamEndsOnShutdown(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	s, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Settle(time.UnixMilli(1))
	// On shutdown main cancels the server's base context, which every
	// request context derives from.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/__hotserve/events", nil)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { s.ServeHTTP(w, req); close(done) }()
	waitFor(t, func() bool { return s.Streams() == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("serveEvents did not return after its context ended")
	}
}

func TestIdleStreamsArePinged(t *testing.T) {
	defer func(d time.Duration) { pingEvery = d }(pingEvery)
	pingEvery = 10 * time.Millisecond
	dir := site(t, map[string]string{"index.html": page})
	s, base := start(t, dir, Options{})
	s.Settle(time.UnixMilli(1))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/__hotserve/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	for pings := 0; pings < 2; {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d pings: %v", pings, err)
		}
		if line == ": ping\n" {
			pings++
		}
	}
}

// waitFor polls cond until it holds, failing after 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// openStream opens the event stream at base.
func openStream(t *testing.T, base string) *ssetest.Stream {
	t.Helper()
	return ssetest.Open(t, base+"/__hotserve/events")
}

func TestMaxStreamsOption(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	s, base := start(t, dir, Options{MaxStreams: 3})
	s.Settle(time.UnixMilli(1))
	for i := range 3 {
		ssetest.Open(t, base+"/__hotserve/events")
		waitFor(t, func() bool { return s.Streams() == i+1 })
	}
	r := get(t, base+"/__hotserve/events")
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("a 4th stream with MaxStreams 3: got %d, want 503", r.status)
	}
}

// TestFingerprintBesideTheBuild is a restart after cp -p at the stream's
// level: the new server has the build the browser saw last, but another
// fingerprint. The stream must send it although Last-Event-ID names that
// build, and pages must carry it; the same fingerprint sends nothing.
func TestFingerprintBesideTheBuild(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	before, _ := start(t, dir, Options{})
	before.SetFingerprint(1)
	before.Settle(time.UnixMilli(5000))
	seen := before.events.cur.Load().id

	s, base := start(t, dir, Options{})
	s.SetFingerprint(2)
	s.Settle(time.UnixMilli(5000))
	st := ssetest.Open(t, base+"/__hotserve/events", "Last-Event-ID", seen)
	ev := st.Next(t, 5*time.Second)
	if ev.Data.Build != 5000 || ev.Data.Tree != "2" || ev.ID == seen {
		t.Fatalf("got id %q %s, want build 5000 with tree 2", ev.ID, ev.Raw)
	}
	if r := get(t, base+"/"); !strings.Contains(r.body, `data-build="5000" data-tree="2"`) {
		t.Errorf("the page's tag carries no fingerprint: %s", r.body)
	}

	// Same build, same fingerprint: nothing to say.
	st = ssetest.Open(t, base+"/__hotserve/events", "Last-Event-ID", ev.ID)
	waitFor(t, func() bool { return s.Streams() == 2 })
	s.ReloadChange(Change{Paths: []string{"a"}, ModTime: time.UnixMilli(6000)})
	if ev := st.Next(t, 5*time.Second); ev.Data.Build != 6000 {
		t.Errorf("got %s first, want build 6000: the known build was sent again", ev.Raw)
	}
}
