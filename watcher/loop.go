package watcher

import (
	"cmp"
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
	onPrint  func(uint64)
	hidden   func(rel string) bool
	tree     *fingerprint
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

	// polled holds the directories polled instead of watched, with their
	// last listing; see poll.go.
	polled    map[string]map[string]entry
	pollEvery time.Duration
	pollAll   bool    // poll every directory: Config.Poll or an unwatchable filesystem
	limited   bool    // the kernel refused a watch for lack of watches or descriptors
	lost      bool    // the folder itself is gone; see lose
	rootID    fileKey // the folder's identity when it was walked
	onRoot    func()

	// real is dir with every symbolic link resolved; a linked directory
	// is followed only if its target is below it.
	real string
	// ids maps every directory watched or polled, by identity, to its
	// path, so that a link to one of them is not watched twice and a link
	// loop is not followed.
	ids map[fileKey]string
	// aliases maps the slash path of a directory to the paths of the
	// links that lead to it, so that a change below it is announced under
	// both names: the page may be loaded through either.
	aliases map[string][]string
	links   int // links followed or aliased, at most maxLinks
}

// maxLinks bounds how many linked directories are followed or aliased.
const maxLinks = 256

func newLoop(cfg Config, dir string, w dirWatcher) *loop {
	l := &loop{
		dir:       dir,
		name:      cfg.Dir,
		globs:     cfg.Ignore,
		onChange:  cfg.OnChange,
		onPrint:   cfg.OnFingerprint,
		hidden:    cfg.Hidden,
		log:       cfg.ErrorLog,
		w:         w,
		watched:   make(map[string]bool),
		pending:   make(map[string]bool),
		deb:       debouncer{quiet: cfg.Debounce, hold: cmp.Or(cfg.holdNew, holdNew), maxWait: cfg.MaxWait},
		since:     time.Now(),
		polled:    make(map[string]map[string]entry),
		pollEvery: cfg.Poll,
		pollAll:   cfg.Poll > 0,
		onRoot:    cfg.OnRoot,
		real:      realPath(dir),
		ids:       make(map[fileKey]string),
		aliases:   make(map[string][]string),
	}
	if l.hidden == nil {
		l.hidden = func(string) bool { return false }
	}
	l.tree = newFingerprint(l.hidden)
	if l.pollEvery <= 0 {
		l.pollEvery = DefaultPoll
	}
	if l.name == "" {
		l.name = dir
	}
	l.rootID = rootID(l.name)
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
	// Each tick polls what is polled and checks that the folder is still
	// the one named Config.Dir: see replaced.
	ticker := time.NewTicker(l.pollEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			var grew bool
			switch {
			case l.lost:
				grew = l.reroot()
			case l.replaced():
				l.lose()
				grew = l.reroot()
			default:
				grew = l.poll()
			}
			if grew {
				arm()
			}
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
			l.log.Printf("warning: watch %s: %v", l.name, err)
			if errors.Is(err, fsnotify.ErrEventOverflow) && l.rescan() {
				arm()
			}
		case <-timer.C:
			// Whether the batch is held is decided here, once the
			// quiet time has passed, rather than on every event: a
			// checkout sends thousands in a row.
			now := time.Now()
			held := l.fresh()
			if !l.deb.due(now, held) {
				if d := l.deb.deadline(held); !d.IsZero() {
					timer.Reset(d.Sub(now))
				}
				continue
			}
			l.deb.reset()
			l.flush()
		}
	}
}

// fresh reports whether the open batch holds only paths that are new: each
// was created during the batch and is not a file the tree knew when the
// last batch closed. Such a batch is held: its quiet time is holdNew (300
// ms) instead of Debounce, within the same MaxWait cap, so with the default
// cap it closes 300 ms after its first event. Most tools save by
// writing a temporary file and renaming it over the real one, and many
// wait for an fsync in between, longer than Debounce: the temporary file,
// under whatever name (write-file-atomic's index.html.1a2b3c4d, QSaveFile's
// random suffix, sed -i's sedAb12Cd), is new and would be announced alone,
// then vanish. Held, its batch is still open when the rename comes; the
// rename names a known file, which ends the hold, and flush drops the
// temporary file as transient. The same drops a scratch file created and
// removed within the hold. What it costs is that a genuinely new file, or
// a checkout that only adds files, is announced up to 300 ms late (after
// its first event, with the default cap) rather than after Debounce, while any change to a file that
// existed is as fast as before.
func (l *loop) fresh() bool {
	for rel, created := range l.pending {
		if !created {
			return false
		}
		if _, known := l.tree.files[rel]; known {
			return false
		}
	}
	return len(l.pending) > 0
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
			l.lose()
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
	before := len(l.pending)
	l.mark(rel, created)
	if created {
		fi, err := os.Lstat(ev.Name)
		if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			if err := l.follow(ev.Name, func(rel string, _ fs.DirEntry) { l.mark(rel, true) }); err != nil {
				l.log.Printf("warning: %v", err)
			}
		}
		if err == nil && fi.IsDir() {
			// Watch it again even if its path is watched: a directory
			// renamed over an empty one is a new inode that the old watch
			// does not see. For the same inode, as when mkdir -p races the
			// walk, fsnotify's Add changes nothing.
			delete(l.watched, ev.Name)
			delete(l.polled, ev.Name)
			err := l.walk(ev.Name, func(rel string, _ fs.DirEntry) { l.mark(rel, true) })
			if err != nil {
				l.log.Printf("warning: %v", err)
			}
		}
	}
	return !l.hidden(rel) || len(l.pending) > before
}

// mark adds rel to the open batch, remembering only its first event, and
// the same path under every link that leads to a directory above it.
//
// Hidden paths are not added: browsers never load them.
func (l *loop) mark(rel string, created bool) {
	if _, ok := l.pending[rel]; !ok && !l.hidden(rel) {
		l.pending[rel] = created
	}
	for target, links := range l.aliases {
		rest, ok := strings.CutPrefix(rel, target+"/")
		if !ok {
			continue
		}
		for _, link := range links {
			if _, ok := l.pending[link+"/"+rest]; !ok && !l.hidden(link+"/"+rest) {
				l.pending[link+"/"+rest] = created
			}
		}
	}
}

// forget drops the watches and listings of name and of every directory
// below it, if name was a watched or polled directory. The kernel has
// usually dropped the watches already for a removal, so errors from Remove
// are expected and ignored; for a rename the watches would otherwise follow
// the directory and report stale paths. What a polled directory held is
// added to the batch, as fsnotify would have reported each removal.
func (l *loop) forget(name string) {
	for d := range l.watched {
		if within(d, name) {
			delete(l.watched, d)
			_ = l.w.Remove(d)
		}
	}
	for d, entries := range l.polled {
		if !within(d, name) {
			continue
		}
		for n := range entries {
			if rel, ok := l.rel(filepath.Join(d, n)); ok && !ignored(rel, l.globs) {
				l.mark(rel, false)
			}
		}
		delete(l.polled, d)
	}
	for id, p := range l.ids {
		if within(p, name) {
			delete(l.ids, id)
		}
	}
	if rel, ok := l.rel(name); ok {
		under := func(p string) bool { return p == rel || strings.HasPrefix(p, rel+"/") }
		for target, links := range l.aliases {
			links = slices.DeleteFunc(links, under)
			if len(links) == 0 || under(target) {
				delete(l.aliases, target)
			} else {
				l.aliases[target] = links
			}
		}
	}
}

// walk adds a watch to top and every directory below it that is not ignored
// and not yet watched, and calls visit with the slash path of every entry
// that is not ignored, top included. Because WalkDir visits a directory
// before reading it, the watch exists before the listing, so an entry is
// either listed or reported by an event, if not both. Linked directories
// are followed afterwards, as follow allows.
//
// Problems with single directories, such as one that vanished or cannot be
// read, are logged, and a directory the kernel refuses to watch for lack of
// watches is polled instead. walk returns an error only when the system
// refuses a watch for another reason.
func (l *loop) walk(top string, visit func(rel string, d fs.DirEntry)) error {
	var links []string
	err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
		rel, ok := l.rel(path)
		if !ok {
			return nil
		}
		if err != nil {
			l.log.Printf("warning: watch %s: %v", l.display(rel), unwrapPath(err))
			return nil
		}
		if ignored(rel, l.globs) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() && rel != "." && l.hidden(rel) {
			// Nothing below a folder that is never served (.venv,
			// .cache) is announced or fingerprinted: no watch either.
			// A link to it from a served name is followed as that name.
			return fs.SkipDir
		}
		if d.Type()&fs.ModeSymlink != 0 {
			links = append(links, path)
		}
		if d.IsDir() {
			if err := l.watchDir(path, rel, d); err != nil {
				return err
			}
		}
		visit(rel, d)
		return nil
	})
	if err != nil {
		return err
	}
	for _, link := range links {
		if err := l.follow(link, visit); err != nil {
			return err
		}
	}
	return nil
}

// watchDir watches or polls the directory at path, unless it already is.
// It returns fs.SkipDir if the directory cannot be watched and should not
// be walked.
func (l *loop) watchDir(path, rel string, d fs.DirEntry) error {
	if l.watched[path] || l.polled[path] != nil {
		return nil
	}
	if fi, err := d.Info(); err == nil {
		if id, ok := fileID(fi); ok {
			l.ids[id] = path
		}
	}
	var err error
	switch {
	case l.pollAll || l.limited:
		err = l.startPolling(path)
	default:
		if err = l.w.Add(path); err == nil {
			l.watched[path] = true
		} else {
			err = l.refused(path, rel, err)
		}
	}
	if err != nil {
		err = fmt.Errorf("watch %s: %w", l.display(rel), unwrapPath(err))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ENOTDIR) {
			l.log.Printf("warning: %v", err)
			return fs.SkipDir
		}
		return err
	}
	return nil
}

// follow handles a symbolic link found in the folder. A link to a directory
// inside the folder that is watched already becomes an alias: a change below
// the directory is announced under both names, since a page may be loaded
// through either. A link to a directory inside the folder that is not
// watched (because it is ignored under its own name) is watched under the
// link's name. A link out of the folder is not followed, as the server would
// not serve through it either, and a link to a directory above itself,
// which would make a loop, is ignored. Identities, not names, decide what
// is watched already, so no walk can go round a loop.
func (l *loop) follow(link string, visit func(rel string, d fs.DirEntry)) error {
	fi, err := os.Stat(link)
	if err != nil || !fi.IsDir() || l.links >= maxLinks {
		return nil // dangling, a link to a file, or too many
	}
	id, ok := fileID(fi)
	real, err := filepath.EvalSymlinks(link)
	if !ok || err != nil || !within(real, l.real) {
		return nil
	}
	rel, _ := l.rel(link)
	target, _ := filepath.Rel(l.real, real)
	target = filepath.ToSlash(target)
	if target == "." || strings.HasPrefix(rel+"/", target+"/") {
		return nil // a link into its own ancestry: a loop
	}
	l.links++
	if _, seen := l.ids[id]; seen {
		if !slices.Contains(l.aliases[target], rel) {
			l.aliases[target] = append(l.aliases[target], rel)
		}
		return nil
	}
	if err := l.watchDir(link, rel, fs.FileInfoToDirEntry(fi)); err != nil {
		if err == fs.SkipDir {
			return nil
		}
		return err
	}
	des, err := os.ReadDir(link)
	if err != nil {
		l.log.Printf("warning: watch %s: %v", l.display(rel), unwrapPath(err))
		return nil
	}
	for _, de := range des {
		if err := l.walk(filepath.Join(link, de.Name()), visit); err != nil {
			return err
		}
	}
	return nil
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
	l.tree = newFingerprint(l.hidden) // deletions were lost too
	err := l.walk(l.dir, func(rel string, d fs.DirEntry) {
		if rel == "." {
			return
		}
		info, err := d.Info()
		if err != nil {
			return
		}
		l.tree.record(rel, info)
		if info.ModTime().After(since) {
			l.mark(rel, false)
		}
	})
	if err != nil {
		l.log.Printf("warning: %v", err)
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
		if err == nil {
			l.tree.record(rel, fi)
		} else if errors.Is(err, fs.ErrNotExist) {
			l.tree.drop(rel)
		}
		if created && errors.Is(err, fs.ErrNotExist) {
			continue // created and gone within one batch, like an editor's temporary file
		}
		if err == nil && irregular(fi) {
			continue // a named pipe, socket or device: never served
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
	if l.onPrint != nil {
		l.onPrint(l.tree.sum)
	}
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
