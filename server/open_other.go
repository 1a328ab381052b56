//go:build !(linux || android || darwin || ios || freebsd || netbsd || openbsd)

package server

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// open opens name, a cleaned slash path, for a request: a regular file or a
// folder, nothing else. The deny rules are applied to the name as requested
// and again to what it resolves to through symbolic links, and the resolved
// name is what is opened. Linux, macOS and the BSDs walk the path descriptor by
// descriptor instead (open_unix.go), which also holds while a name is
// swapped between a file and a link; this form checks names, then opens.
func open(root *tree, name string) (*os.File, fs.FileInfo, error) {
	if denied(name) {
		return nil, nil, errDenied
	}
	real, err := resolve(root.Root, name)
	if err != nil {
		return nil, nil, err
	}
	if real != name && denied(real) {
		return nil, nil, errDenied
	}
	if testHookBeforeOpen != nil {
		testHookBeforeOpen(name)
	}
	f, err := root.Open(real)
	if err != nil {
		return nil, nil, err
	}
	return checkOpened(f, name)
}

// resolve returns name, a cleaned slash path inside root, with every symbolic
// link in it replaced by its target, so that the deny rules can be applied to
// what would really be opened: an innocent.txt → .env link inside the folder
// is refused like .env itself. It walks the path one component at a time
// with Lstat and Readlink, never leaving the root.
//
// A path that leads out of the root fails with a *fs.PathError wrapping
// errEscapes and naming the last link followed, the one to tell the user of.
func resolve(root *os.Root, name string) (string, error) {
	var done []string
	todo := strings.Split(name, "/")
	links := 0
	via := name // the last link followed
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				return "", &fs.PathError{Op: "resolve", Path: via, Err: errEscapes}
			}
			done = done[:len(done)-1]
			continue
		}
		p := path.Join(append(done, c)...)
		fi, err := root.Lstat(p)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		if links++; links > maxLinks {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: syscall.ELOOP}
		}
		target, err := root.Readlink(p)
		if err != nil {
			return "", err
		}
		via = p
		if filepath.IsAbs(target) || filepath.VolumeName(target) != "" {
			return "", &fs.PathError{Op: "resolve", Path: via, Err: errEscapes}
		}
		todo = append(strings.Split(filepath.ToSlash(target), "/"), todo...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}
