package watcher

import "time"

// debouncer decides when the open batch closes. It only does arithmetic on
// the times it is given, so the rule can be tested on its own; the run loop
// owns the one timer that acts on the deadlines it returns.
//
// A batch closes Debounce after its last event, or MaxWait after its first
// one, whichever comes first.
type debouncer struct {
	quiet   time.Duration
	maxWait time.Duration
	first   time.Time // first event of the open batch; zero when no batch is open
	last    time.Time // latest event of the open batch
}

// event records an event at now and returns the new deadline.
func (d *debouncer) event(now time.Time) time.Time {
	if d.first.IsZero() {
		d.first = now
	}
	d.last = now
	return d.deadline()
}

// deadline returns when the open batch closes, or the zero time if none is
// open.
func (d *debouncer) deadline() time.Time {
	if d.first.IsZero() {
		return time.Time{}
	}
	quiet := d.last.Add(d.quiet)
	if capped := d.first.Add(d.maxWait); capped.Before(quiet) {
		return capped
	}
	return quiet
}

// due reports whether a batch is open and should close at now.
func (d *debouncer) due(now time.Time) bool {
	return !d.first.IsZero() && !now.Before(d.deadline())
}

// reset forgets the open batch after it was flushed.
func (d *debouncer) reset() {
	d.first, d.last = time.Time{}, time.Time{}
}
