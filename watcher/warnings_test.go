package watcher

import (
	"context"
	"errors"
	"io/fs"
	"log"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hotserve/hotserve/internal/testio"
)

// Every warning the watcher logs is made to happen here, through the loop's
// own code with faults put between it and the kernel, and its whole line
// checked as hotserve prints it (main's logger adds "hotserve: "). Package
// main's TestEveryPrintedLineIsKnown sends the watcher's warnings here.

// prefix is what main's logger puts before every line.
const prefix = "hotserve: "

// hooked is a fakeWatcher that runs before each Add it is given.
type hooked struct {
	fakeWatcher
	before func(name string)
}

func (h *hooked) Add(name string) error {
	h.before(name)
	return h.fakeWatcher.Add(name)
}

// faultLoop is a loop on a new folder holding files (see makeTree), whose
// Add of the paths in fail (relative to the folder) fails with those
// errors, logging to the returned buffer as main's logger does.
func faultLoop(t *testing.T, files map[string]string, fail map[string]error) (*loop, string, *testio.Buffer) {
	t.Helper()
	dir := t.TempDir()
	makeTree(t, dir, files)
	fw := &fakeWatcher{fail: map[string]error{}}
	for rel, err := range fail {
		fw.fail[filepath.Join(dir, rel)] = err
	}
	var logs testio.Buffer
	l := newLoop(Config{Dir: dir, ErrorLog: log.New(&logs, prefix, 0)}, dir, fw)
	l.pollEvery = DefaultPoll // as Watch sets it
	return l, dir, &logs
}

// watcherWarnings has one entry per warning in this package, by
// testio.Printed.Key: how to make it happen, and the whole line wanted as a
// regular expression.
var watcherWarnings = map[string]func(t *testing.T) (logs *testio.Buffer, want string){
	"loop.go run: warning: watch %s: %v": func(t *testing.T) (*testio.Buffer, string) {
		var logs testio.Buffer
		synctest.Test(t, func(t *testing.T) {
			r := startRun(t, t.TempDir(), Config{Dir: "site"})
			r.errs <- errors.New("fsnotify: queue or buffer overflow")
			r.stop()
			logs.Write([]byte(prefix + r.logBuf.String()))
		})
		return &logs, regexp.QuoteMeta("hotserve: warning: watch site: fsnotify: queue or buffer overflow")
	},
	"loop.go handle: warning: %v": func(t *testing.T) (*testio.Buffer, string) {
		// A new link to a folder, which the system refuses to watch.
		l, dir, logs := faultLoop(t, map[string]string{"real/a.css": ""}, map[string]error{"link": syscall.EINVAL})
		if err := os.Symlink("real", filepath.Join(dir, "link")); err != nil {
			t.Skipf("cannot make a symbolic link here: %v", err)
		}
		l.handle(fsnotify.Event{Name: filepath.Join(dir, "link"), Op: fsnotify.Create})
		return logs, regexp.QuoteMeta("hotserve: warning: watch " + filepath.Join(dir, "link") + ": invalid argument")
	},
	"loop.go handle: warning: %v (2)": func(t *testing.T) (*testio.Buffer, string) {
		// A new folder, which the system refuses to watch.
		l, dir, logs := faultLoop(t, map[string]string{"new/a.css": ""}, map[string]error{"new": syscall.EINVAL})
		l.handle(fsnotify.Event{Name: filepath.Join(dir, "new"), Op: fsnotify.Create})
		return logs, regexp.QuoteMeta("hotserve: warning: watch " + filepath.Join(dir, "new") + ": invalid argument")
	},
	"loop.go walk: warning: watch %s: %v": func(t *testing.T) (*testio.Buffer, string) {
		// A folder that is gone by the time the walk reaches it.
		l, dir, logs := faultLoop(t, nil, nil)
		if err := l.walk(filepath.Join(dir, "gone"), func(string, fs.DirEntry) {}); err != nil {
			t.Fatal(err)
		}
		_, err := os.Lstat(filepath.Join(dir, "gone"))
		return logs, regexp.QuoteMeta("hotserve: warning: watch " + filepath.Join(dir, "gone") + ": " + unwrapPath(err).Error())
	},
	"loop.go watchDir: warning: %v": func(t *testing.T) (*testio.Buffer, string) {
		l, dir, logs := faultLoop(t, map[string]string{"b/x.css": ""}, map[string]error{"b": &fs.PathError{Op: "inotify_add_watch", Path: "b", Err: syscall.ENOENT}})
		if err := l.walk(dir, func(string, fs.DirEntry) {}); err != nil {
			t.Fatal(err)
		}
		return logs, regexp.QuoteMeta("hotserve: warning: watch " + filepath.Join(dir, "b") + ": " + syscall.ENOENT.Error())
	},
	"loop.go follow: warning: watch %s: %v": func(t *testing.T) (*testio.Buffer, string) {
		// A new link to a folder that is removed once it is watched,
		// before it is read.
		l, dir, logs := faultLoop(t, map[string]string{"real/a.css": ""}, nil)
		link := filepath.Join(dir, "link")
		if err := os.Symlink("real", link); err != nil {
			t.Skipf("cannot make a symbolic link here: %v", err)
		}
		l.w = &hooked{before: func(name string) {
			if name == link {
				os.RemoveAll(filepath.Join(dir, "real"))
			}
		}}
		l.handle(fsnotify.Event{Name: link, Op: fsnotify.Create})
		_, err := os.ReadDir(link)
		if err == nil {
			t.Fatal("the linked folder can still be read")
		}
		return logs, regexp.QuoteMeta("hotserve: warning: watch " + link + ": " + unwrapPath(err).Error())
	},
	"loop.go rescan: warning: %v": func(t *testing.T) (*testio.Buffer, string) {
		// After an overflow, a folder the system refuses to watch.
		l, dir, logs := faultLoop(t, map[string]string{"sub/a.css": ""}, map[string]error{"sub": syscall.EINVAL})
		l.rescan()
		return logs, regexp.QuoteMeta("hotserve: warning: watch " + filepath.Join(dir, "sub") + ": invalid argument")
	},
	"poll.go refused: warning: watch %s: %v: %s; directories that cannot be watched are polled every %v instead": func(t *testing.T) (*testio.Buffer, string) {
		l, dir, logs := faultLoop(t, map[string]string{"sub/a.css": ""}, map[string]error{"sub": syscall.ENOSPC})
		if err := l.walk(dir, func(string, fs.DirEntry) {}); err != nil {
			t.Fatal(err)
		}
		// The hint is the system's own: inotify's sysctl on Linux.
		return logs, regexp.QuoteMeta("hotserve: warning: watch " + filepath.Join(dir, "sub") + ": " + syscall.ENOSPC.Error() + ": " + limitHint(true) +
			"; directories that cannot be watched are polled every 500ms instead")
	},
	"poll.go lose: warning: watch %s: the folder was removed or renamed; waiting for it to come back": func(t *testing.T) (*testio.Buffer, string) {
		l, dir, logs := faultLoop(t, nil, nil)
		l.handle(fsnotify.Event{Name: dir, Op: fsnotify.Remove})
		return logs, regexp.QuoteMeta("hotserve: warning: watch " + dir + ": the folder was removed or renamed; waiting for it to come back")
	},
	"poll.go reroot: warning: %v": func(t *testing.T) (*testio.Buffer, string) {
		// The folder is back, with a folder the system refuses to watch.
		l, dir, logs := faultLoop(t, map[string]string{"sub/a.css": ""}, map[string]error{"sub": syscall.EINVAL})
		l.lose()
		if !l.reroot() {
			t.Fatal("the folder is not back")
		}
		return logs, regexp.QuoteMeta("hotserve: warning: watch " + filepath.Join(dir, "sub") + ": invalid argument")
	},
	"watcher.go watch: warning: watch %s: %v: %s; polling every %v instead": func(t *testing.T) (*testio.Buffer, string) {
		dir := t.TempDir()
		var logs testio.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		withoutDescriptors(t, func() {
			go func() { done <- watch(ctx, Config{Dir: dir, ErrorLog: log.New(&logs, prefix, 0)}, nil) }()
			for deadline := time.Now().Add(wait); !strings.Contains(logs.String(), "polling every") && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		})
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
			t.Fatalf("Watch did not return within %v of cancel", wait)
		}
		// The error says "too many open files" once, then the hint.
		return &logs, regexp.QuoteMeta("hotserve: warning: watch "+dir+": ") +
			`(couldn't initialize inotify: )?too many open files: (the inotify instance limit|raise the open-file limit).+; polling every 500ms instead`
	},
}

func TestEveryWarningSaysWarning(t *testing.T) {
	lines, err := testio.PrintedLines(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lines {
		if _, ok := watcherWarnings[p.Key]; p.Warning() && !ok {
			t.Errorf("%s: a new warning: add it to watcherWarnings with a way to make it happen\n\t%s", p.Pos, p.Key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(watcherWarnings)) {
		t.Run(key, func(t *testing.T) {
			i := slices.IndexFunc(lines, func(p testio.Printed) bool { return p.Key == key })
			if i < 0 {
				t.Fatalf("the watcher's code no longer prints %q", key)
			}
			logs, want := watcherWarnings[key](t)
			var got string
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				got = logs.String()
				if regexp.MustCompile(`(?m)^`+want+`$`).MatchString(got) || time.Now().After(deadline) {
					break
				}
			}
			for line := range strings.SplitSeq(strings.TrimSuffix(got, "\n"), "\n") {
				if lines[i].Line(prefix).MatchString(line) && regexp.MustCompile(`^`+want+`$`).MatchString(line) {
					return
				}
			}
			t.Errorf("got log\n%s\nwant a line %s", got, want)
		})
	}
}
