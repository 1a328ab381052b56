package watcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fsnotify/fsnotify"
)

func TestDebouncer(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name         string
		events       []time.Time
		held         bool // the batch holds only new files
		now          time.Time
		wantDeadline time.Time // zero: no batch open
		wantDue      bool
	}{
		{name: "without events nothing is due", now: ms(1000)},
		{
			name:         "a single event is due after the quiet time",
			events:       []time.Time{ms(0)},
			now:          ms(5),
			wantDeadline: ms(5),
			wantDue:      true,
		},
		{
			name:         "a single event is not due before the quiet time",
			events:       []time.Time{ms(0)},
			now:          ms(4),
			wantDeadline: ms(5),
		},
		{
			name:         "each event moves the deadline",
			events:       []time.Time{ms(0), ms(3), ms(6)},
			now:          ms(10),
			wantDeadline: ms(11),
		},
		{
			name:         "the deadline never passes MaxWait after the first event",
			events:       []time.Time{ms(0), ms(150), ms(298)},
			now:          ms(300),
			wantDeadline: ms(300),
			wantDue:      true,
		},
		{
			name:         "a held batch is not due after the quiet time",
			events:       []time.Time{ms(0), ms(3)},
			held:         true,
			now:          ms(8),
			wantDeadline: ms(103),
		},
		{
			name:         "a held batch is due after the hold",
			events:       []time.Time{ms(0), ms(3)},
			held:         true,
			now:          ms(103),
			wantDeadline: ms(103),
			wantDue:      true,
		},
		{
			name:         "a held batch closes at MaxWait too",
			events:       []time.Time{ms(0), ms(250)},
			held:         true,
			now:          ms(300),
			wantDeadline: ms(300),
			wantDue:      true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := debouncer{quiet: 5 * time.Millisecond, hold: 100 * time.Millisecond, maxWait: 300 * time.Millisecond}
			for _, e := range tt.events {
				d.event(e)
			}
			if got := d.deadline(tt.held); !got.Equal(tt.wantDeadline) {
				t.Errorf("got deadline %v, want %v", got, tt.wantDeadline)
			}
			if got := d.due(tt.now, tt.held); got != tt.wantDue {
				t.Errorf("got due %v, want %v", got, tt.wantDue)
			}
			d.reset()
			if d.due(tt.now.Add(time.Hour), tt.held) {
				t.Error("got due after reset, want not due")
			}
		})
	}
}

// fakeWatcher records the watches the loop asks for.
type fakeWatcher struct {
	added, removed []string
	fail           map[string]error // Add of these paths fails
}

func (f *fakeWatcher) Add(name string) error {
	if err := f.fail[name]; err != nil {
		return err
	}
	f.added = append(f.added, name)
	return nil
}

func (f *fakeWatcher) Remove(name string) error { f.removed = append(f.removed, name); return nil }

// flushAt is a batch and when it was announced, relative to the loop's start.
type flushAt struct {
	at    time.Duration
	paths []string
}

// fakeRun is the run loop fed from channels instead of fsnotify, so that
// inside a synctest bubble its one timer runs on fake time.
type fakeRun struct {
	events  chan fsnotify.Event
	errs    chan error
	watcher fakeWatcher
	logBuf  bytes.Buffer
	flushes []flushAt // written by the loop; read only after stop
	stop    func()
}

func startRun(t *testing.T, dir string, cfg Config) *fakeRun {
	t.Helper()
	r := &fakeRun{events: make(chan fsnotify.Event), errs: make(chan error)}
	start := time.Now()
	cfg.OnChange = func(b Batch) {
		r.flushes = append(r.flushes, flushAt{at: time.Since(start), paths: b.Paths})
	}
	cfg.ErrorLog = log.New(&r.logBuf, "", 0)
	l := newLoop(cfg, dir, &r.watcher)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.run(ctx, r.events, r.errs) }()
	r.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run returned %v, want nil", err)
		}
	}
	return r
}

// writeEvents sends a Write event for a new name under dir every interval,
// n times. The sends are unbuffered, so each one is received before the
// fake clock moves on.
func (r *fakeRun) writeEvents(dir string, n int, interval time.Duration) {
	for i := range n {
		if i > 0 {
			time.Sleep(interval) // fake time inside the bubble
		}
		r.events <- fsnotify.Event{Name: filepath.Join(dir, fmt.Sprintf("f%04d.css", i)), Op: fsnotify.Write}
	}
}

func TestRunLoopTiming(t *testing.T) {
	tests := []struct {
		name     string
		debounce time.Duration
		events   int
		interval time.Duration
		want     []time.Duration // when each batch is announced
	}{
		{
			name:   "a single event is announced after the default 5 ms",
			events: 1,
			want:   []time.Duration{5 * time.Millisecond},
		},
		{
			name:     "fifty events a millisecond apart give one batch",
			events:   50,
			interval: time.Millisecond,
			want:     []time.Duration{54 * time.Millisecond},
		},
		{
			name:     "events further apart than the quiet time give one batch each",
			events:   3,
			interval: 10 * time.Millisecond,
			want:     []time.Duration{5 * time.Millisecond, 15 * time.Millisecond, 25 * time.Millisecond},
		},
		{
			name:     "a longer debounce merges what the default would split",
			debounce: 50 * time.Millisecond,
			events:   3,
			interval: 10 * time.Millisecond,
			want:     []time.Duration{70 * time.Millisecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				r := startRun(t, dir, Config{Debounce: tt.debounce})
				r.writeEvents(dir, tt.events, tt.interval)
				time.Sleep(time.Second) // fake time: lets every timer fire
				r.stop()

				var got []time.Duration
				var paths []string
				for _, f := range r.flushes {
					got = append(got, f.at)
					paths = append(paths, f.paths...)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("got batches at %v, want %v", got, tt.want)
				}
				if len(paths) != tt.events {
					t.Errorf("got %d paths in all batches, want %d", len(paths), tt.events)
				}
			})
		})
	}
}

func TestRunLoopAnnouncesAtLeastEveryMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const events = 1000
		dir := t.TempDir()
		r := startRun(t, dir, Config{})
		r.writeEvents(dir, events, time.Millisecond) // the last one at 999 ms
		time.Sleep(time.Second)
		r.stop()

		// With a batch at most every 300 ms and the last 5 ms after the last
		// event, there are exactly four; whether an event that arrives at
		// the very moment a batch closes joins it or the next one is up to
		// select, which moves later batches by a millisecond.
		if len(r.flushes) != 4 {
			t.Fatalf("got %d batches, want 4: %v", len(r.flushes), r.flushes)
		}
		var prev time.Duration
		seen := make(map[string]bool)
		for _, f := range r.flushes {
			if gap := f.at - prev; gap > DefaultMaxWait {
				t.Errorf("got a batch %v after the previous one, want at most %v", gap, DefaultMaxWait)
			}
			prev = f.at
			for _, p := range f.paths {
				if seen[p] {
					t.Errorf("got %s in two batches", p)
				}
				seen[p] = true
			}
		}
		if want := 999*time.Millisecond + DefaultDebounce; prev != want {
			t.Errorf("got the last batch at %v, want %v", prev, want)
		}
		if len(seen) != events {
			t.Errorf("got %d paths, want %d", len(seen), events)
		}
	})
}

func TestRunLoopSurvivesErrors(t *testing.T) {
	tests := []struct {
		name        string
		files       map[string]string
		send        func(r *fakeRun, dir string)
		wantLog     string
		wantPaths   []string // all paths announced, in order
		wantAdded   []string // watches added, relative to dir
		wantBatches int      // if not zero, how many batches
		wantRoots   int      // how often OnRoot is called
	}{
		{
			name: "an fsnotify error is logged and later events are still announced",
			send: func(r *fakeRun, dir string) {
				r.errs <- errors.New("something broke")
				r.events <- fsnotify.Event{Name: filepath.Join(dir, "a.css"), Op: fsnotify.Write}
			},
			wantLog:   "something broke",
			wantPaths: []string{"a.css"},
		},
		{
			name:  "an event overflow rescans the folder and announces what changed",
			files: map[string]string{"x.css": "x", "new/y.css": "y", "node_modules/z.js": "z"},
			send: func(r *fakeRun, dir string) {
				r.errs <- fmt.Errorf("read: %w", fsnotify.ErrEventOverflow)
			},
			wantLog:     "overflow",
			wantPaths:   []string{"new", "new/y.css", "x.css"},
			wantAdded:   []string{".", "new"},
			wantBatches: 1,
		},
		{
			name: "a removed folder that comes back empty is announced once",
			send: func(r *fakeRun, dir string) {
				r.events <- fsnotify.Event{Name: dir, Op: fsnotify.Remove}
			},
			wantLog:     "removed or renamed; waiting for it to come back",
			wantPaths:   []string{"."},
			wantAdded:   []string{"."},
			wantBatches: 1,
			wantRoots:   1,
		},
		{
			name:  "a folder replaced by another is watched again and everything in it announced",
			files: map[string]string{"index.html": "v2", "css/site.css": "x"},
			send: func(r *fakeRun, dir string) {
				r.events <- fsnotify.Event{Name: dir, Op: fsnotify.Rename}
			},
			wantLog:     "the folder is back",
			wantPaths:   []string{"css", "css/site.css", "index.html"},
			wantAdded:   []string{".", "css"},
			wantBatches: 1,
			wantRoots:   1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				makeTree(t, dir, tt.files)
				roots := 0
				r := startRun(t, dir, Config{OnRoot: func() { roots++ }})
				tt.send(r, dir)
				time.Sleep(time.Second) // fake time
				r.stop()

				if !strings.Contains(r.logBuf.String(), tt.wantLog) {
					t.Errorf("got log %q, want it to contain %q", r.logBuf.String(), tt.wantLog)
				}
				var paths []string
				for _, f := range r.flushes {
					paths = append(paths, f.paths...)
				}
				if !slices.Equal(paths, tt.wantPaths) {
					t.Errorf("got paths %q, want %q", paths, tt.wantPaths)
				}
				if tt.wantBatches != 0 && len(r.flushes) != tt.wantBatches {
					t.Errorf("got %d batches, want %d", len(r.flushes), tt.wantBatches)
				}
				if roots != tt.wantRoots {
					t.Errorf("OnRoot was called %d times, want %d", roots, tt.wantRoots)
				}
				var added []string
				for _, a := range r.watcher.added {
					rel, _ := filepath.Rel(dir, a)
					added = append(added, filepath.ToSlash(rel))
				}
				slices.Sort(added)
				if !slices.Equal(added, tt.wantAdded) {
					t.Errorf("got watches %q, want %q", added, tt.wantAdded)
				}
			})
		})
	}
}

func TestRunLoopHoldsBatchesOfNewFiles(t *testing.T) {
	type event struct {
		at   time.Duration
		name string
		op   fsnotify.Op
	}
	tests := []struct {
		name    string
		maxWait time.Duration
		files   map[string]string // on disk when the batch closes
		events  []event
		want    []flushAt
	}{
		{
			name:   "a new file is announced at the cap, not after the quiet time",
			files:  map[string]string{"new.html": "<p>"},
			events: []event{{at: 0, name: "new.html", op: fsnotify.Create}},
			want:   []flushAt{{at: DefaultMaxWait, paths: []string{"new.html"}}},
		},
		{
			name: "a file created and removed within the cap is not announced",
			events: []event{
				{at: 0, name: "scratch.txt", op: fsnotify.Create},
				{at: 30 * time.Millisecond, name: "scratch.txt", op: fsnotify.Remove},
			},
		},
		{
			name:  "a change to a file that is not new ends the hold",
			files: map[string]string{"index.html": "<p>"},
			events: []event{
				{at: 0, name: "index.html.1a2b3c4d", op: fsnotify.Create},
				{at: 30 * time.Millisecond, name: "index.html.1a2b3c4d", op: fsnotify.Rename},
				{at: 30 * time.Millisecond, name: "index.html", op: fsnotify.Write},
			},
			want: []flushAt{{at: 30*time.Millisecond + DefaultDebounce, paths: []string{"index.html"}}},
		},
		{
			name:  "new files that keep coming are announced at the cap and after it",
			files: map[string]string{"a.css": "a", "b.css": "b"},
			events: []event{
				{at: 0, name: "a.css", op: fsnotify.Create},
				{at: 400 * time.Millisecond, name: "b.css", op: fsnotify.Create},
			},
			want: []flushAt{
				{at: DefaultMaxWait, paths: []string{"a.css"}},
				{at: 400*time.Millisecond + DefaultMaxWait, paths: []string{"b.css"}},
			},
		},
		{
			name:    "with a longer MaxWait the hold is a quiet time after the last new file",
			maxWait: time.Minute,
			files:   map[string]string{"a.css": "a", "b.css": "b"},
			events: []event{
				{at: 0, name: "a.css", op: fsnotify.Create},
				{at: 200 * time.Millisecond, name: "b.css", op: fsnotify.Create},
			},
			want: []flushAt{{at: 200*time.Millisecond + holdNew, paths: []string{"a.css", "b.css"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				makeTree(t, dir, tt.files)
				r := startRun(t, dir, Config{MaxWait: tt.maxWait})
				var now time.Duration
				for _, e := range tt.events {
					time.Sleep(e.at - now) // fake time
					now = e.at
					r.events <- fsnotify.Event{Name: filepath.Join(dir, e.name), Op: e.op}
				}
				time.Sleep(time.Second)
				r.stop()
				if !slices.EqualFunc(r.flushes, tt.want, func(a, b flushAt) bool {
					return a.at == b.at && slices.Equal(a.paths, b.paths)
				}) {
					t.Errorf("got batches %v, want %v", r.flushes, tt.want)
				}
			})
		})
	}
}
