package watcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// rescanMargin widens the window of modification times that count as
// changes after an event overflow, because filesystem clocks are coarser
// than time.Now (FAT keeps two seconds).
const rescanMargin = 2 * time.Second

// dirWatcher is the part of *fsnotify.Watcher the loop uses, so tests can run
// the loop on fake events without a kernel watcher.
type dirWatcher interface {
	Add(name string) error
	Remove(name string) error
}

// loop is the state owned by the goroutine running Watch. None of it is
// touched from anywhere else, which is why it has no lock.
type loop struct {
	dir      string // the folder as walked and as fsnotify names it
	name     string // Config.Dir as the caller spelled it, for messages
	globs    []string
	onChange func(Batch)
	log      *log.Logger
	w        dirWatcher

	// watched holds every directory with a watch, as an OS path, so that a
	// removed or renamed directory can have its watches, and those of its
	// subdirectories, dropped.
	watched map[string]bool

	// pending maps each slash path of the open batch to whether its first
	// event in the batch was a Create; such a path is transient if it is
	// gone when the batch closes.
	pending map[string]bool

	deb   debouncer
	since time.Time // when the last batch closed; see rescan
}

func newLoop(cfg Config, dir string, w dirWatcher) *loop {
	l := &loop{
		dir:      dir,
		name:     cfg.Dir,
		globs:    cfg.Ignore,
		onChange: cfg.OnChange,
		log:      cfg.ErrorLog,
		w:        w,
		watched:  make(map[string]bool),
		pending:  make(map[string]bool),
		deb:      debouncer{quiet: cfg.Debounce, maxWait: cfg.MaxWait},
		since:    time.Now(),
	}
	if l.log == nil {
		l.log = log.Default()
	}
	if l.deb.quiet <= 0 {
		l.deb.quiet = DefaultDebounce
	}
	if l.deb.maxWait <= 0 {
		l.deb.maxWait = DefaultMaxWait
	}
	return l
}

// run handles events until ctx is done or the event channels close. It owns
// the pending set and the one timer that closes a batch: every event that
// adds to the batch moves the timer to the debouncer's new deadline, and
// when the timer fires the batch is flushed in this same goroutine.
func (l *loop) run(ctx context.Context, events <-chan fsnotify.Event, errs <-chan error) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	arm := func() {
		timer.Reset(time.Until(l.deb.event(time.Now())))
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if l.handle(ev) {
				arm()
			}
		case err, ok := <-errs:
			if !ok {
				return nil
			}
			l.log.Printf("watch %s: %v", l.name, err)
			if errors.Is(err, fsnotify.ErrEventOverflow) && l.rescan() {
				arm()
			}
		case <-timer.C:
			now := time.Now()
			if !l.deb.due(now) {
				if d := l.deb.deadline(); !d.IsZero() {
					timer.Reset(d.Sub(now))
				}
				continue
			}
			l.deb.reset()
			l.flush()
		}
	}
}

// handle applies one event and reports whether it added to the open batch.
func (l *loop) handle(ev fsnotify.Event) bool {
	if ev.Op&^fsnotify.Chmod == 0 {
		return false // chmod-only: touch -a, chmod, or an editor restoring attributes
	}
	rel, ok := l.rel(ev.Name)
	if !ok {
		return false
	}
	gone := ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)
	if rel == "." {
		if gone {
			l.log.Printf("watch %s: directory removed or renamed; further changes are not seen", l.name)
		}
		return false
	}
	if ignored(rel, l.globs) {
		return false
	}
	if gone {
		l.forget(ev.Name)
	}
	created := ev.Has(fsnotify.Create)
	l.mark(rel, created)
	if created {
		// Lstat, not Stat: a link to a directory is reported but not followed.
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			// Watch it again even if its path is watched: a directory
			// renamed over an empty one is a new inode that the old watch
			// does not see. For the same inode, as when mkdir -p races the
			// walk, fsnotify's Add changes nothing.
			delete(l.watched, ev.Name)
			err := l.walk(ev.Name, func(rel string, _ fs.DirEntry) { l.mark(rel, true) })
			if err != nil {
				l.log.Print(err)
			}
		}
	}
	return true
}

// mark adds rel to the open batch, remembering only its first event.
func (l *loop) mark(rel string, created bool) {
	if _, ok := l.pending[rel]; !ok {
		l.pending[rel] = created
	}
}

// forget drops the watches of name and of every directory below it, if name
// was a watched directory. The kernel has usually dropped them already for a
// removal, so errors from Remove are expected and ignored; for a rename the
// watches would otherwise follow the directory and report stale paths.
func (l *loop) forget(name string) {
	if !l.watched[name] {
		return
	}
	prefix := name + string(filepath.Separator)
	for d := range l.watched {
		if d == name || strings.HasPrefix(d, prefix) {
			delete(l.watched, d)
			_ = l.w.Remove(d)
		}
	}
}

// walk adds a watch to top and every directory below it that is not ignored
// and not yet watched, and calls visit with the slash path of every entry
// that is not ignored, top included. Because WalkDir visits a directory
// before reading it, the watch exists before the listing, so an entry is
// either listed or reported by an event, if not both.
//
// Problems with single directories, such as one that vanished or cannot be
// read, are logged. walk returns an error only when the system refuses a
// watch for another reason, typically the watch limit.
func (l *loop) walk(top string, visit func(rel string, d fs.DirEntry)) error {
	return filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
		rel, ok := l.rel(path)
		if !ok {
			return nil
		}
		if err != nil {
			l.log.Printf("watch %s: %v", l.display(rel), unwrapPath(err))
			return nil
		}
		if ignored(rel, l.globs) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() && !l.watched[path] {
			if err := l.w.Add(path); err != nil {
				err = fmt.Errorf("watch %s: %w", l.display(rel), unwrapPath(err))
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ENOTDIR) {
					l.log.Print(err)
					return fs.SkipDir
				}
				return err
			}
			l.watched[path] = true
		}
		visit(rel, d)
		return nil
	})
}

// rescan recovers after the kernel's event queue overflowed and events were
// lost. It drops the watches of directories that are gone, watches
// directories that appeared, and adds to the batch every entry modified
// since the last batch closed. A lost deletion shows up through its parent
// directory's modification time, unless the parent is the folder itself.
// It reports whether the batch is non-empty.
func (l *loop) rescan() bool {
	for d := range l.watched {
		if fi, err := os.Lstat(d); err != nil || !fi.IsDir() {
			l.forget(d)
		}
	}
	since := l.since.Add(-rescanMargin)
	err := l.walk(l.dir, func(rel string, d fs.DirEntry) {
		if rel == "." {
			return
		}
		if info, err := d.Info(); err == nil && info.ModTime().After(since) {
			l.mark(rel, false)
		}
	})
	if err != nil {
		l.log.Print(err)
	}
	return len(l.pending) > 0
}

// flush closes the open batch: it drops transient paths, computes ModTime
// and hands the rest to OnChange.
func (l *loop) flush() {
	l.since = time.Now()
	paths := make([]string, 0, len(l.pending))
	var newest time.Time
	parents := make(map[string]bool)
	for rel, created := range l.pending {
		path := filepath.Join(l.dir, filepath.FromSlash(rel))
		fi, err := os.Lstat(path)
		if created && errors.Is(err, fs.ErrNotExist) {
			continue // created and gone within one batch, like an editor's temporary file
		}
		paths = append(paths, rel)
		if err == nil {
			newest = later(newest, fi.ModTime())
		}
		if parent := filepath.Dir(path); !parents[parent] {
			parents[parent] = true
			if fi, err := os.Lstat(parent); err == nil {
				newest = later(newest, fi.ModTime())
			}
		}
	}
	clear(l.pending)
	if len(paths) == 0 || l.onChange == nil {
		return
	}
	slices.Sort(paths)
	l.onChange(Batch{Paths: paths, ModTime: newest})
}

// rel returns name relative to the folder as a slash path, and false if name
// is not inside it.
func (l *loop) rel(name string) (string, bool) {
	r, err := filepath.Rel(l.dir, name)
	if err != nil {
		return "", false
	}
	r = filepath.ToSlash(r)
	if r == ".." || strings.HasPrefix(r, "../") {
		return "", false
	}
	return r, true
}

// display spells rel the way the caller spelled Config.Dir, for messages.
func (l *loop) display(rel string) string {
	return filepath.Join(l.name, filepath.FromSlash(rel))
}
