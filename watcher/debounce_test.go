package watcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := debouncer{quiet: 5 * time.Millisecond, maxWait: 300 * time.Millisecond}
			for _, e := range tt.events {
				d.event(e, false)
			}
			if got := d.deadline(); !got.Equal(tt.wantDeadline) {
				t.Errorf("got deadline %v, want %v", got, tt.wantDeadline)
			}
			if got := d.due(tt.now); got != tt.wantDue {
				t.Errorf("got due %v, want %v", got, tt.wantDue)
			}
			d.reset()
			if d.due(tt.now.Add(time.Hour)) {
				t.Error("got due after reset, want not due")
			}
		})
	}
}

func TestDebouncerQuick(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }
	d := debouncer{quiet: 5 * time.Millisecond, quick: time.Millisecond, maxWait: 300 * time.Millisecond}
	if got := d.event(ms(0), true); !got.Equal(ms(1)) {
		t.Errorf("a quick event: got deadline %v, want 1 ms after it", got.Sub(t0))
	}
	if got := d.event(ms(0.5), true); !got.Equal(ms(1.5)) {
		t.Errorf("another quick event: got deadline %v, want 1 ms after it", got.Sub(t0))
	}
	if got := d.event(ms(0.7), false); !got.Equal(ms(5.7)) {
		t.Errorf("an event that is not quick: got deadline %v, want 5 ms after it", got.Sub(t0))
	}
	if got := d.event(ms(0.8), true); !got.Equal(ms(5.8)) {
		t.Errorf("a quick event in a slow batch: got deadline %v, want 5 ms after it", got.Sub(t0))
	}
	d.reset()
	d.event(ms(10), true)
	d.slowDown()
	if got := d.deadline(); !got.Equal(ms(15)) {
		t.Errorf("a quick batch slowed down: got deadline %v, want 5 ms after its event", got.Sub(t0))
	}
	d.reset()
	if got := d.event(ms(20), true); !got.Equal(ms(21)) {
		t.Errorf("after a reset: got deadline %v, want the quick time again", got.Sub(t0))
	}
	d = debouncer{quiet: time.Millisecond / 2, quick: time.Millisecond, maxWait: 300 * time.Millisecond}
	if got := d.event(ms(0), true); !got.Equal(ms(0.5)) {
		t.Errorf("a quiet time shorter than the quick one: got deadline %v, want it", got.Sub(t0))
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

// TestRunLoopQuickBatches checks when a batch of paths changed in place
// (Config.InPlace) closes: after QuickDebounce if each file looks saved,
// after the full quiet time if one is empty or gone (the middle of a save)
// or the batch has another kind of path.
func TestRunLoopQuickBatches(t *testing.T) {
	css := func(rel string) bool { return strings.HasSuffix(rel, ".css") }
	tests := []struct {
		name     string
		files    map[string]string // written before the events
		debounce time.Duration
		events   []fsnotify.Event // names relative to the folder, 500 µs apart; an empty one is skipped
		want     []time.Duration
	}{
		{
			name:   "a saved stylesheet closes its batch after the quick time",
			files:  map[string]string{"a.css": "h1 {}"},
			events: []fsnotify.Event{{Name: "a.css", Op: fsnotify.Write}},
			want:   []time.Duration{QuickDebounce},
		},
		{
			name:   "a truncate and a write make one batch",
			files:  map[string]string{"a.css": "h1 {}"},
			events: []fsnotify.Event{{Name: "a.css", Op: fsnotify.Write}, {Name: "a.css", Op: fsnotify.Write}},
			want:   []time.Duration{QuickDebounce + 500*time.Microsecond},
		},
		{
			name:   "an editor's temporary file renamed over a stylesheet is a quick batch",
			files:  map[string]string{"a.css": "h1 {}"},
			events: []fsnotify.Event{{Name: "a.css.tmp", Op: fsnotify.Create}, {Name: "a.css.tmp", Op: fsnotify.Rename}, {Name: "a.css", Op: fsnotify.Create}},
			want:   []time.Duration{time.Millisecond + QuickDebounce}, // a.css.tmp is ignored
		},
		{
			name:   "another temporary file renamed over a stylesheet waits the full quiet time",
			files:  map[string]string{"a.css": "h1 {}"},
			events: []fsnotify.Event{{Name: "a.css.new", Op: fsnotify.Create}, {Name: "a.css.new", Op: fsnotify.Rename}, {Name: "a.css", Op: fsnotify.Create}},
			want:   []time.Duration{time.Millisecond + DefaultDebounce}, // a.css.new is no stylesheet
		},
		{
			name:   "an empty stylesheet waits the full quiet time",
			files:  map[string]string{"a.css": ""},
			events: []fsnotify.Event{{Name: "a.css", Op: fsnotify.Write}},
			want:   []time.Duration{DefaultDebounce},
		},
		{
			name:   "a stylesheet over 64 KiB waits the full quiet time",
			files:  map[string]string{"a.css": strings.Repeat("h1 {}\n", 11000)},
			events: []fsnotify.Event{{Name: "a.css", Op: fsnotify.Write}},
			want:   []time.Duration{DefaultDebounce},
		},
		{
			name:   "a stylesheet that is gone waits the full quiet time",
			events: []fsnotify.Event{{Name: "a.css", Op: fsnotify.Rename}},
			want:   []time.Duration{DefaultDebounce},
		},
		{
			name:   "a stylesheet with a page waits the full quiet time",
			files:  map[string]string{"a.css": "h1 {}", "index.html": "<p>"},
			events: []fsnotify.Event{{Name: "a.css", Op: fsnotify.Write}, {Name: "index.html", Op: fsnotify.Write}},
			want:   []time.Duration{DefaultDebounce + 500*time.Microsecond},
		},
		{
			name:   "a quick batch right after another waits the full quiet time",
			files:  map[string]string{"a.css": "h1 {}"},
			events: []fsnotify.Event{{Name: "a.css", Op: fsnotify.Write}, {}, {}, {}, {Name: "a.css", Op: fsnotify.Write}},
			want:   []time.Duration{QuickDebounce, 2*time.Millisecond + DefaultDebounce},
		},
		{
			name:     "a shorter --debounce wins",
			files:    map[string]string{"a.css": "h1 {}"},
			debounce: 200 * time.Microsecond,
			events:   []fsnotify.Event{{Name: "a.css", Op: fsnotify.Write}},
			want:     []time.Duration{200 * time.Microsecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				for name, content := range tt.files {
					if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				r := startRun(t, dir, Config{Debounce: tt.debounce, InPlace: css})
				for i, ev := range tt.events {
					if i > 0 {
						time.Sleep(500 * time.Microsecond)
					}
					if ev.Name != "" { // an empty one is a pause
						ev.Name = filepath.Join(dir, ev.Name)
						r.events <- ev
					}
				}
				time.Sleep(time.Second)
				r.stop()
				var got []time.Duration
				for _, f := range r.flushes {
					got = append(got, f.at)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("got batches at %v, want %v", got, tt.want)
				}
			})
		})
	}
}
