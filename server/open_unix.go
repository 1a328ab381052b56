//go:build linux || android || darwin || ios || freebsd || netbsd || openbsd

package server

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// open opens name, a cleaned slash path, for a request: a regular file or a
// folder, nothing else. The deny rules apply to the name as requested and
// to every name the path resolves to through symbolic links.
//
// The file opened must be the file checked, even while someone swaps a name
// between a file and a link to .env: a check by name followed by an open by
// name loses that race. So the path is walked here one component at a time
// from the root's descriptor, each component checked and then opened with
// O_NOFOLLOW relative to the descriptor of the one before. A link is never
// followed by the kernel: its target is read, checked and walked the same
// way, and a name that turns into a link between the two steps fails the
// open instead of being followed.
//
// Components are opened with O_NONBLOCK, and the result is refused unless
// fstat says it is a regular file or a folder: opening a named pipe without
// it waits for a writer forever, and a device or socket is not a page.
func open(root *tree, name string) (*os.File, fs.FileInfo, error) {
	if denied(name) {
		return nil, nil, errDenied
	}
	if testHookBeforeOpen != nil {
		testHookBeforeOpen(name)
	}
	fd := -1
	var err error
	if cerr := root.dot.Control(func(base uintptr) { fd, err = walkOpen(int(base), name) }); cerr != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: name, Err: cerr}
	}
	if err != nil {
		return nil, nil, err
	}
	return checkOpened(os.NewFile(uintptr(fd), name), name)
}

// walkOpen opens name below the directory descriptor base as open
// describes, and returns the new descriptor. base stays open and owned by
// the caller.
func walkOpen(base int, name string) (int, error) {
	const flags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY
	stack := []int{base} // the directories walked, base first
	defer func() {
		for _, fd := range stack[1:] {
			unix.Close(fd)
		}
	}()
	fail := func(err error) (int, error) { return -1, &fs.PathError{Op: "open", Path: name, Err: err} }
	// An escape names the last link followed, the one to tell the user
	// of; names holds the path walked so far, one name per stack entry.
	var names []string
	via := name
	escapes := func() (int, error) { return -1, &fs.PathError{Op: "open", Path: via, Err: errEscapes} }
	todo := strings.Split(name, "/")
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 1 {
				return escapes()
			}
			unix.Close(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			names = names[:len(names)-1]
			continue
		}
		if deniedSegment(c, false) {
			return -1, errDenied
		}
		dir := stack[len(stack)-1]
		f := flags
		if slices.ContainsFunc(todo, func(c string) bool { return c != "" && c != "." }) {
			// Not the last: it must be a folder, and nothing else is
			// opened on the way to one.
			f |= unix.O_DIRECTORY
		}
		fd, err := openat(dir, c, f)
		if err == nil {
			stack = append(stack, fd)
			names = append(names, c)
			continue
		}
		// O_NOFOLLOW fails on a link (ELOOP on Linux, EMLINK on FreeBSD,
		// EFTYPE on NetBSD); whether it was one is asked separately.
		var st unix.Stat_t
		if unix.Fstatat(dir, c, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return fail(err)
		}
		if links++; links > maxLinks {
			return fail(unix.ELOOP)
		}
		target, err := readlinkat(dir, c)
		if err != nil {
			return fail(err)
		}
		via = path.Join(append(names, c)...)
		if path.IsAbs(target) {
			return escapes()
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if len(stack) == 1 {
		return openat(base, ".", flags)
	}
	fd := stack[len(stack)-1]
	stack = stack[:len(stack)-1]
	return fd, nil
}

func openat(dir int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dir, name, flags, 0)
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}

func readlinkat(dir int, name string) (string, error) {
	for size := 256; size <= 64<<10; size *= 4 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
	return "", unix.ENAMETOOLONG
}
