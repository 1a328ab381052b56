// Package watcher tells its caller which files under a folder changed, in
// batches, so that a dev server can reload the browsers showing them.
//
// It watches directories, never single files. inotify and its peers are not
// recursive, so every directory gets its own watch, but a file watch would be
// lost the first time an editor saves by writing a temporary file and
// renaming it over the original: the watched inode is gone. A directory watch
// survives that and reports the rename. It also costs one watch per directory
// instead of one per file, which keeps large sites under the kernel's limit.
// Directories created later are watched when their Create event arrives and
// then walked, because `mkdir -p a/b/c` can create the inner directories, and
// even files in them, before the watch on a exists; whatever the walk finds
// counts as changed.
//
// One goroutine, the one running [Watch], owns everything that changes: the
// set of watched directories, the set of pending paths and the single timer
// that closes a batch. Nothing is shared, so nothing needs a lock, and
// [Config.OnChange] is called from that goroutine when a batch closes.
//
// A batch closes after [DefaultDebounce] (5 ms) without events. That is long
// enough to merge the handful of events one save produces (truncate, write,
// rename) and short enough that a stylesheet saved just before a page reaches
// the browser first. A batch is also closed at least every [DefaultMaxWait]
// (300 ms) while events keep coming, so a long build or `git checkout` still
// shows progress instead of waiting for silence. Browsers coalesce reloads
// again on their side, where it is cheap.
//
// A path whose first event in a batch was a Create and that no longer exists
// when the batch closes is dropped as transient. That is how an atomic save
// reports only the real file and not the temporary one, whatever the editor
// names it, without a list of every editor's naming scheme. A file that
// existed before the batch and was deleted is still reported. Because many
// tools fsync the temporary file before the rename, for longer than the
// quiet time, a batch that holds only new files waits 300 ms of quiet
// instead, within the MaxWait cap (with the default cap, 300 ms after its
// first event): a temporary file renamed over its page within that time is one
// change to the page, and a genuinely new file is announced up to 300 ms
// later than a change to one that existed.
//
// A symbolic link to a directory inside the folder makes its changes
// announced under the link's name too; one leading out of the folder, or to
// a directory above itself, is not followed. See follow in loop.go.
//
// Watch never goes deaf silently. Where fsnotify cannot be used it polls
// (see poll.go): everywhere when [Config.Poll] is set or statfs says the
// folder is on a filesystem where inotify misses changes (NFS, SMB, FUSE,
// 9p, …), and for the directories the kernel refused to watch once the
// inotify watch or descriptor limit is reached, which is logged once with
// the fix. When the kernel's event queue overflows, the folder is rescanned
// and what changed is announced in one batch. When the folder itself is
// removed or renamed away, Watch waits for it to exist again, then watches
// it again, calls [Config.OnRoot] and announces everything in it.
package watcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/fsnotify/fsnotify"
)

// Batch is one announced set of changes.
type Batch struct {
	// Paths are the changed paths relative to Config.Dir, slash-separated,
	// sorted and without duplicates. Directories are listed like files; a
	// directory that appears is listed along with everything found in it.
	Paths []string

	// ModTime is the newest modification time among the batch's paths that
	// still exist and their parent directories; a deletion or rename only
	// changes the parent directory's mtime. It is zero if none could be
	// stat'ed.
	ModTime time.Time
}

// Config says what to watch and whom to tell.
type Config struct {
	// Dir is the folder to watch, recursively.
	Dir string

	// Ignore holds extra doublestar globs (github.com/bmatcuk/doublestar/v4).
	// Each is matched against the slash path relative to Dir and, if it has
	// no slash, against the base name, so "*.log" matches at any depth while
	// "build/**" only matches the top-level build. A directory that matches
	// is neither walked nor watched, so nothing below it is reported. They
	// add to the names that are always ignored: .git, .hg, .svn,
	// node_modules and editor temporary files.
	Ignore []string

	// Debounce is the quiet time that closes a batch. Zero means
	// DefaultDebounce. A batch of new files only waits for at least 300
	// ms of quiet, up to the MaxWait cap, so that a temporary file is
	// renamed away first.
	Debounce time.Duration

	// MaxWait is the longest a batch stays open while events keep coming.
	// Zero means DefaultMaxWait.
	MaxWait time.Duration

	// holdNew replaces holdNew (300 ms), the quiet time of a batch of new
	// files only, when not zero. The package's tests of other rules set
	// it below Debounce, which makes such a batch close like any other,
	// so that each new file they make does not cost them 300 ms.
	holdNew time.Duration

	// OnReady, if not nil, is called once from the watcher's goroutine after
	// the initial walk, with the newest modification time of everything that
	// is not ignored, Dir and directories included. Restarting on an
	// unchanged tree gives the same value, so a caller can derive a stable
	// build stamp from it.
	OnReady func(newest time.Time)

	// Poll, if positive, makes Watch poll every directory at this interval
	// instead of using fsnotify. Zero means fsnotify, unless the folder is
	// on a filesystem where it misses changes; then the folder is polled
	// every DefaultPoll and that is logged.
	Poll time.Duration

	// OnRoot, if not nil, is called from the watcher's goroutine when Dir,
	// after it was removed or renamed away, exists again and is watched
	// again, before the batch that announces its content. A server
	// reopens the folder here, since its handle still points at the old
	// directory.
	OnRoot func()

	// Hidden, if not nil, reports whether a slash path relative to Dir is
	// never served, like a server's dotfiles and keys. Changes to such
	// paths are not announced: an editor's save that writes a hidden
	// temporary file and renames it over the page is one change, to the
	// page, even when the rename comes after the batch with the temporary
	// file closed. Hidden paths are left out of the fingerprint too.
	Hidden func(rel string) bool

	// OnFingerprint, if not nil, is called from the watcher's goroutine
	// after the initial walk, before OnReady, and before each OnChange,
	// with a fingerprint of the path, size and modification time of every
	// file that is not ignored or hidden. Restarting on an unchanged tree
	// gives the same value; a file changed while nothing watched, even to
	// an older time (cp -p, git stash pop, a backup restored), gives
	// another, which the newest modification time alone would not show.
	OnFingerprint func(uint64)

	// OnChange is called from the watcher's goroutine for each non-empty
	// batch. It must not block for long: events queue up while it runs. If
	// nil, batches are dropped.
	OnChange func(Batch)

	// ErrorLog receives non-fatal problems, such as a directory that vanished
	// during a walk or an error reported by fsnotify. If nil, log.Default()
	// is used.
	ErrorLog *log.Logger
}

// DefaultDebounce is the quiet time that closes a batch when Config.Debounce
// is zero.
const DefaultDebounce = 5 * time.Millisecond

// DefaultMaxWait is how often a batch is announced at least while events keep
// coming, when Config.MaxWait is zero.
const DefaultMaxWait = 300 * time.Millisecond

// Watch watches cfg.Dir until ctx is done, then closes the fsnotify watcher
// and returns nil.
//
// It returns an error at once, starting with "watch DIR: ", if the folder
// cannot be watched: it is missing or not a directory, a glob in cfg.Ignore is
// malformed, or the operating system refuses a watch during the initial walk
// for a reason other than the directory vanishing, being unreadable or a
// kernel limit (which makes Watch poll instead).
func Watch(ctx context.Context, cfg Config) error {
	return watch(ctx, cfg, nil)
}

// watch is Watch with a hook that tests use to put a dirWatcher between the
// loop and fsnotify, for example one that runs out of watches.
func watch(ctx context.Context, cfg Config, wrap func(dirWatcher) dirWatcher) error {
	if err := ValidateGlobs(cfg.Ignore); err != nil {
		return fmt.Errorf("watch %s: %w", cfg.Dir, err)
	}
	dir, err := rootDir(cfg.Dir)
	if err != nil {
		return fmt.Errorf("watch %s: %w", cfg.Dir, err)
	}
	logger := cfg.ErrorLog
	if logger == nil {
		logger = log.Default()
	}
	if cfg.Poll <= 0 {
		if magic, err := fsType(dir); err == nil && unwatchable[magic] != "" {
			cfg.Poll = DefaultPoll
			logger.Printf("watch %s: the folder is on %s, where file events are not reliable; polling it every %v instead", cfg.Dir, unwatchable[magic], cfg.Poll)
		}
	}
	var w dirWatcher = noWatcher{}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if cfg.Poll <= 0 {
		fw, err := fsnotify.NewWatcher()
		switch {
		case err == nil:
			defer fw.Close()
			w, events, errs = fw, fw.Events, fw.Errors
		case errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENOSPC):
			// Not even one inotify instance: poll everything.
			cfg.Poll = DefaultPoll
			logger.Printf("warning: watch %s: %v: %s; polling every %v instead", cfg.Dir, err, limitHint(errors.Is(err, syscall.ENOSPC)), cfg.Poll)
		default:
			return fmt.Errorf("watch %s: %w", cfg.Dir, err)
		}
	}
	if wrap != nil {
		w = wrap(w)
	}

	l := newLoop(cfg, dir, w)
	var newest time.Time
	err = l.walk(dir, func(rel string, d fs.DirEntry) {
		if info, err := d.Info(); err == nil {
			newest = later(newest, info.ModTime())
			l.tree.record(rel, info)
		}
	})
	if err != nil {
		return err
	}
	if cfg.OnFingerprint != nil {
		cfg.OnFingerprint(l.tree.sum)
	}
	if cfg.OnReady != nil {
		cfg.OnReady(newest)
	}
	return l.run(ctx, events, errs)
}

// noWatcher is the dirWatcher when everything is polled.
type noWatcher struct{}

func (noWatcher) Add(string) error    { return errors.ErrUnsupported }
func (noWatcher) Remove(string) error { return nil }

// rootDir checks that name is a directory and returns the path to walk. A
// symbolic link given as the root is resolved, because WalkDir would
// otherwise report the link and stop; links below the root are not followed.
func rootDir(name string) (string, error) {
	dir := filepath.Clean(name)
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", unwrapPath(err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if dir, err = filepath.EvalSymlinks(dir); err != nil {
			return "", unwrapPath(err)
		}
		if fi, err = os.Stat(dir); err != nil {
			return "", unwrapPath(err)
		}
	}
	if !fi.IsDir() {
		return "", errors.New("not a directory")
	}
	return dir, nil
}

// ValidateGlobs returns an error naming the first malformed glob, so that the
// command line can reject a bad --ignore at once instead of when the first
// file changes.
func ValidateGlobs(globs []string) error {
	for _, g := range globs {
		if !doublestar.ValidatePattern(g) {
			return fmt.Errorf("ignore glob %q: %w", g, doublestar.ErrBadPattern)
		}
	}
	return nil
}

// unwrapPath strips an *fs.PathError so that messages that already start
// with the path don't repeat it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
