package watcher

import "time"

// debouncer decides when the open batch closes. It only does arithmetic on
// the times it is given, so the rule can be tested on its own; the run loop
// owns the one timer that acts on the deadlines it returns.
//
// A batch closes Debounce after its last event, or MaxWait after its first
// one, whichever comes first. A batch that is held, because it holds only
// new files (see fresh in loop.go), has a quiet time of hold instead.
type debouncer struct {
	quiet   time.Duration
	hold    time.Duration
	maxWait time.Duration
	first   time.Time // first event of the open batch; zero when no batch is open
	last    time.Time // latest event of the open batch
}

// holdNew is the quiet time of a batch of new files only, unless Debounce
// is longer. It covers the time a tool takes between creating a temporary
// file and renaming it over the real one, fsync included.
const holdNew = 300 * time.Millisecond

// event records an event at now and returns the earliest the batch may
// close: its deadline if it is not held.
func (d *debouncer) event(now time.Time) time.Time {
	if d.first.IsZero() {
		d.first = now
	}
	d.last = now
	return d.deadline(false)
}

// deadline returns when the open batch closes, or the zero time if none is
// open. held says whether the batch holds only new files.
func (d *debouncer) deadline(held bool) time.Time {
	if d.first.IsZero() {
		return time.Time{}
	}
	quiet := d.last.Add(d.quiet)
	if held {
		quiet = d.last.Add(max(d.quiet, d.hold))
	}
	if capped := d.first.Add(d.maxWait); capped.Before(quiet) {
		return capped
	}
	return quiet
}

// due reports whether a batch is open and should close at now. held says
// whether the batch holds only new files.
func (d *debouncer) due(now time.Time, held bool) bool {
	return !d.first.IsZero() && !now.Before(d.deadline(held))
}

// reset forgets the open batch after it was flushed.
func (d *debouncer) reset() {
	d.first, d.last = time.Time{}, time.Time{}
}
