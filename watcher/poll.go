package watcher

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// The poller stands in for fsnotify where it cannot be used: everywhere
// when Config.Poll is set or the folder is on a filesystem that inotify does
// not see changes on (detected with statfs at start), and for single
// directories the kernel refused to watch because a limit was reached.
//
// Each polled directory keeps the listing it had at the last tick: the
// names in it with their size, modification time and identity. A tick lists
// each polled directory again and turns the differences into the events
// fsnotify would have sent, which go through the same handle, pending set
// and debouncer. The cost of a tick is one directory read and one lstat
// per entry of the polled directories: proportional to the tree, nothing
// read from the files themselves. No maintained Go package does this, and
// the ones that exist bring their own event loops; this is short enough to
// own.

// DefaultPoll is the polling interval when the folder is polled because of
// its filesystem or a watch limit, and Config.Poll is zero.
const DefaultPoll = 500 * time.Millisecond

// fileKey identifies a file or directory independently of the path that
// reached it.
type fileKey struct{ dev, ino uint64 }

// entry is what the poller remembers of one name in a directory.
type entry struct {
	size  int64
	mtime time.Time
	dir   bool
	id    fileKey
}

// list reads the polled state of dir.
func list(dir string) (map[string]entry, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	m := make(map[string]entry, len(des))
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			continue // gone since the listing; the next tick agrees
		}
		id, _ := fileID(fi)
		m[de.Name()] = entry{size: fi.Size(), mtime: fi.ModTime(), dir: fi.IsDir(), id: id}
	}
	return m, nil
}

// startPolling polls dir from now on, starting from its current listing.
func (l *loop) startPolling(dir string) error {
	m, err := list(dir)
	if err != nil {
		return err
	}
	l.polled[dir] = m
	return nil
}

// poll lists every polled directory once and handles what changed, as
// fsnotify events. It reports whether the open batch grew.
func (l *loop) poll() bool {
	grew := false
	for _, dir := range slices.Sorted(maps.Keys(l.polled)) {
		old, ok := l.polled[dir]
		if !ok {
			continue // forgotten earlier in this tick, with a parent
		}
		cur, err := list(dir)
		if err != nil {
			if dir == l.dir {
				l.lose()
				return true
			}
			// Gone: the parent's listing says so, or the parent's
			// fsnotify watch did. Report what was in it in any case.
			l.forget(dir)
			grew = l.handle(fsnotify.Event{Name: dir, Op: fsnotify.Remove}) || grew
			continue
		}
		l.polled[dir] = cur
		for _, name := range slices.Sorted(maps.Keys(cur)) {
			e, o := cur[name], old[name]
			path := filepath.Join(dir, name)
			_, had := old[name]
			switch {
			case !had:
				grew = l.handle(fsnotify.Event{Name: path, Op: fsnotify.Create}) || grew
			case e.dir != o.dir || e.dir && e.id != o.id:
				// Replaced by another file or directory, as by a rename
				// over it: the new one must be walked.
				grew = l.handle(fsnotify.Event{Name: path, Op: fsnotify.Remove}) || grew
				grew = l.handle(fsnotify.Event{Name: path, Op: fsnotify.Create}) || grew
			case e.dir:
				// A directory's own time changes with every entry
				// added or removed; those are reported by its listing.
			case e.size != o.size || !e.mtime.Equal(o.mtime) || e.id != o.id:
				grew = l.handle(fsnotify.Event{Name: path, Op: fsnotify.Write}) || grew
			}
		}
		for name := range old {
			if _, ok := cur[name]; !ok {
				grew = l.handle(fsnotify.Event{Name: filepath.Join(dir, name), Op: fsnotify.Remove}) || grew
			}
		}
	}
	return grew
}

// refused handles a watch the kernel refused on dir. Running out of
// watches or descriptors is logged once, with the limit and its fix, and
// the directory is polled instead, as is every directory after it: once the
// limit is reached, trying each one again only fails again. It returns the
// error for any other reason.
func (l *loop) refused(dir, rel string, err error) error {
	enospc := errors.Is(err, syscall.ENOSPC)
	if !enospc && !errors.Is(err, syscall.EMFILE) {
		return err
	}
	if !l.limited {
		l.limited = true
		l.log.Printf("warning: watch %s: %v: %s; directories that cannot be watched are polled every %v instead", l.display(rel), unwrapPath(err), limitHint(enospc), l.pollEvery)
	}
	return l.startPolling(dir)
}

// lose is called when the folder itself is removed or renamed away. Every
// watch and listing is dropped, since they belong to a directory that is no
// longer the one named Config.Dir, and the folder is looked for at every
// poll tick until it is back.
func (l *loop) lose() {
	if l.lost {
		return
	}
	l.log.Printf("warning: watch %s: the folder was removed or renamed; waiting for it to come back", l.name)
	for d := range l.watched {
		_ = l.w.Remove(d)
	}
	clear(l.watched)
	clear(l.polled)
	clear(l.ids)
	clear(l.aliases)
	l.lost = true
}

// reroot checks whether the folder is back after lose. If it is, it is
// walked and watched again, OnRoot is called so that the caller can reopen
// it, and everything in it joins the batch. It reports whether it is back.
func (l *loop) reroot() bool {
	dir, err := rootDir(l.name)
	if err != nil {
		return false
	}
	l.lost = false
	l.dir = dir
	l.rootID = rootID(l.name)
	l.real = realPath(dir)
	l.tree = newFingerprint(l.hidden) // what was there is gone; flush records what is
	err = l.walk(dir, func(rel string, _ fs.DirEntry) {
		if rel != "." {
			l.mark(rel, false)
		}
	})
	if err != nil {
		l.log.Printf("warning: %v", err)
	}
	l.log.Printf("watch %s: the folder is back; watching it again", l.name)
	if l.onRoot != nil {
		l.onRoot()
	}
	if len(l.pending) == 0 {
		l.mark(".", false) // an empty folder still changes every page
	}
	return true
}

// replaced reports whether the folder named Config.Dir is gone or is
// another directory than the one watched. inotify does not always say so:
// a directory removed while a process holds it open, as the server's
// os.Root does, sends no IN_DELETE_SELF until that handle is closed.
func (l *loop) replaced() bool {
	fi, err := os.Stat(l.name)
	if err != nil {
		return true
	}
	id, ok := fileID(fi)
	return ok && id != l.rootID
}

// rootID returns the identity of the directory named name, or the zero
// key if it is not known.
func rootID(name string) fileKey {
	fi, err := os.Stat(name)
	if err != nil {
		return fileKey{}
	}
	id, _ := fileID(fi)
	return id
}

// realPath resolves every symbolic link in dir, or returns dir.
func realPath(dir string) string {
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		return r
	}
	return dir
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}
