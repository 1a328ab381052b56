package watcher

import "time"

// debouncer decides when the open batch closes. It only does arithmetic on
// the times it is given, so the rule can be tested on its own; the run loop
// owns the one timer that acts on the deadlines it returns.
//
// A batch closes Debounce after its last event, or MaxWait after its first
// one, whichever comes first; a quick batch (one of paths changed in place)
// closes QuickDebounce after its last event, until slowDown makes it wait
// the full Debounce.
type debouncer struct {
	quiet   time.Duration
	quick   time.Duration // quiet time of a quick batch; zero: no batch is quick
	maxWait time.Duration
	first   time.Time // first event of the open batch; zero when no batch is open
	last    time.Time // latest event of the open batch
	slow    bool      // the open batch has had an event that was not quick
}

// event records an event at now, quick if it concerns only paths changed
// in place, and returns the new deadline.
func (d *debouncer) event(now time.Time, quick bool) time.Time {
	if d.first.IsZero() {
		d.first = now
		d.slow = false
	}
	d.slow = d.slow || !quick
	d.last = now
	return d.deadline()
}

// slowDown makes the open batch wait the full quiet time.
func (d *debouncer) slowDown() {
	d.slow = true
}

// quickly reports whether the open batch closes after the quick time.
func (d *debouncer) quickly() bool {
	return !d.slow && d.quick > 0 && d.quick < d.quiet
}

// deadline returns when the open batch closes, or the zero time if none is
// open.
func (d *debouncer) deadline() time.Time {
	if d.first.IsZero() {
		return time.Time{}
	}
	wait := d.quiet
	if d.quickly() {
		wait = d.quick
	}
	quiet := d.last.Add(wait)
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
	d.first, d.last, d.slow = time.Time{}, time.Time{}, false
}
