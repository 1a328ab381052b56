package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotserve/hotserve/assets"
)

// Change is one batch of changed files, as a watcher reports it.
type Change struct {
	// Paths are the changed paths relative to the served folder,
	// slash-separated. They are sent to browsers as they are.
	Paths []string
	// ModTime is the newest modification time in the batch. If zero, the
	// time of the call is used.
	ModTime time.Time
	// Full makes every open page reload, whatever it uses. It is for
	// changes to files that are not served as they are (templates, a
	// backend's sources, a folder added with --watch), whose paths mean
	// nothing to a page; Paths may then be empty.
	Full bool
}

// state is one published build. It is never modified after it is stored, so
// requests and event streams read it without a lock.
type state struct {
	build    int64
	previous int64
	tree     string        // fingerprint of the files, or ""; see SetFingerprint
	id       string        // the event's id: build, and tree if any
	tag      []byte        // the script tag that carries build and tree
	event    []byte        // the SSE event announcing build, ready to write
	changed  chan struct{} // closed when a newer state replaces this one
	settled  bool          // false until the initial walk or a reload set the build
}

// broadcaster publishes the latest build to every event stream. It holds
// state, not messages: publishing swaps in a new state and closes the old
// one's changed channel, which wakes every stream at once. Nothing is queued
// per client and nothing here ever blocks on a socket, so one slow browser
// cannot delay another (STYLE.md, "Concurrency model").
type broadcaster struct {
	mu      sync.Mutex // serialises publishers; readers use cur alone
	cur     atomic.Pointer[state]
	streams atomic.Int64
	tree    atomic.Pointer[string] // the fingerprint the next state carries
	// reloadHTML is Options.ReloadHTML: every event then tells pages to
	// reload for an HTML change, not morph it.
	reloadHTML bool
	// nonce is the nonce of a Content-Security-Policy set with
	// Options.Header, put on every tag: such a policy binds a page from
	// its first byte, and a nonce-only one would block the script without
	// a word.
	nonce string
}

func newBroadcaster(reloadHTML bool, nonce string) *broadcaster {
	b := &broadcaster{reloadHTML: reloadHTML, nonce: nonce}
	b.cur.Store(b.newState(0, 0, "", nil, false, false))
	return b
}

func (b *broadcaster) newState(build, previous int64, tree string, paths []string, full, settled bool) *state {
	if paths == nil {
		paths = []string{}
	}
	data, _ := json.Marshal(assets.Event{Build: build, Previous: previous, Tree: tree, Paths: paths, Reload: full, ReloadHTML: b.reloadHTML}) // cannot fail: ints, bools and strings only
	// A restart can bring the same build with another tree: the id holds
	// both, so that a reconnecting browser's Last-Event-ID does not stop
	// the new tree from being sent.
	id := strconv.FormatInt(build, 10)
	if tree != "" {
		id += "." + tree
	}
	event := make([]byte, 0, len(id)+len(data)+16)
	event = append(event, "id: "...)
	event = append(event, id...)
	event = append(event, "\ndata: "...)
	event = append(event, data...)
	event = append(event, "\n\n"...)
	return &state{
		build:    build,
		previous: previous,
		tree:     tree,
		id:       id,
		tag:      assets.TagWithTree(build, tree, b.nonce),
		event:    event,
		changed:  make(chan struct{}),
		settled:  settled,
	}
}

// publish replaces the current state by one whose build is computed from the
// current build by next. It returns without publishing when next reports
// false. It never blocks on a stream.
func (b *broadcaster) publish(next func(cur int64) (int64, bool), paths []string, full bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.cur.Load()
	build, ok := next(old.build)
	var tree string
	if t := b.tree.Load(); t != nil {
		tree = *t
	}
	switch {
	case ok:
		b.cur.Store(b.newState(build, old.build, tree, paths, full, true))
	case !old.settled:
		// Same build, but streams waiting for the first settled state
		// may now send it.
		b.cur.Store(b.newState(old.build, old.previous, tree, nil, false, true))
	default:
		return
	}
	close(old.changed)
}

// Reload announces that the files at paths changed, as ReloadChange does.
// Paths are URL paths without the leading slash ("css/site.css"): a page
// swaps a changed stylesheet or image in place and reloads if it shows or
// used any other changed file. With no paths, every open page reloads.
// Reload never blocks.
func (s *Server) Reload(paths ...string) {
	s.ReloadChange(Change{Paths: paths, Full: len(paths) == 0})
}

// ReloadChange announces a batch of changes: the build becomes the newest
// modification time in the batch in Unix milliseconds, or the previous build
// plus one if that is not higher, so every batch gets a new, higher build.
//
// When a backend serves the whole site (a Backend with Path "/"), the
// announcement waits until that backend accepts connections again, so that
// open pages reload once it is back from a restart, not into an error page.
// Batches held meanwhile are merged. ReloadChange never blocks.
func (s *Server) ReloadChange(c Change) {
	if s.gate != nil {
		s.gate.hold(c)
		return
	}
	s.publish(c)
}

func (s *Server) publish(c Change) {
	mod := c.ModTime
	if mod.IsZero() {
		mod = time.Now()
	}
	ms := mod.UnixMilli()
	s.events.publish(func(cur int64) (int64, bool) { return max(cur+1, ms), true }, c.Paths, c.Full)
}

// Settle sets the build from a walk of the whole folder: newest is the newest
// modification time of anything in it. Restarting hotserve with nothing
// changed therefore gives the same build, and open pages do not reload; a
// change made while hotserve was stopped gives a higher one, and they do.
//
// Event streams send nothing until the first Settle or Reload, so that a page
// reconnecting to a restarting server is not told about the provisional build
// 0 that pages get while the walk runs. Settle never lowers the build.
func (s *Server) Settle(newest time.Time) {
	ms := newest.UnixMilli()
	s.events.publish(func(cur int64) (int64, bool) { return ms, ms > cur }, nil, false)
}

// SetFingerprint sets the fingerprint of the served files (see
// watcher.Config.OnFingerprint) that the next Settle or Reload publishes
// beside the build. Pages carry it in their script tag; after a restart,
// a page whose fingerprint differs from the new server's reloads even if
// the build did not move, as when a file was replaced by an older one
// (cp -p, git stash pop) while hotserve was stopped. Call it before Settle
// and before each Reload. It never blocks.
func (s *Server) SetFingerprint(fp uint64) {
	t := strconv.FormatUint(fp, 36)
	s.events.tree.Store(&t)
}

// Build returns the current build id.
func (s *Server) Build() int64 { return s.events.cur.Load().build }

// Streams returns how many event streams are open: roughly, how many
// browser tabs are listening.
func (s *Server) Streams() int { return int(s.events.streams.Load()) }

// pingEvery keeps idle streams open through proxies that cut silent
// connections. A variable so that a test need not wait 20 s.
var pingEvery = 20 * time.Second

// writeTimeout bounds every write to a stream; a browser that stops reading
// is dropped instead of holding a goroutine forever. A variable so that a
// test need not wait 5 s.
var writeTimeout = 5 * time.Second

// DefaultMaxStreams is how many event streams may be open at once unless
// Options.MaxStreams says otherwise; more are answered 503. Each stream
// holds a socket and a goroutine, and a page on any site could open
// thousands. 1024 is far more browsers than a developer keeps open (a
// browser holds one stream for all its tabs), and leaves descriptors for
// ordinary requests under a typical 4096-file limit.
const DefaultMaxStreams = 1024

const (
	// retryMillis is the reconnect delay EventSource uses after a lost
	// connection, e.g. while hotserve restarts.
	retryMillis = 500
)

var (
	retryLine = []byte("retry: " + strconv.Itoa(retryMillis) + "\n\n")
	pingLine  = []byte(": ping\n\n")
)

// serveEvents streams builds to one browser as server-sent events. It returns
// when the browser goes away, a write fails or times out, or the server's
// base context is cancelled on shutdown.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if !allowed(w, r, http.MethodGet) {
		return
	}
	// Which files change, and when, is nobody else's business; a foreign
	// page can also use streams to exhaust the cap below.
	if !sameOrigin(r) {
		http.Error(w, "403 forbidden", http.StatusForbidden)
		return
	}
	if s.events.streams.Add(1) > int64(s.maxStreams) {
		s.events.streams.Add(-1)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "503 too many event streams", http.StatusServiceUnavailable)
		return
	}
	defer s.events.streams.Add(-1)

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	write := func(b []byte) bool {
		if err := rc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(retryLine) {
		return
	}

	// A browser that reconnects says which build it saw last; it is not
	// told that build again.
	sent := r.Header.Get("Last-Event-ID")
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		cur := s.events.cur.Load()
		if cur.settled && cur.id != sent {
			if !write(cur.event) {
				return
			}
			sent = cur.id
		}
		select {
		case <-cur.changed:
		case <-ping.C:
			if !write(pingLine) {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}
