//go:build !(linux || android || darwin || ios || freebsd || netbsd || openbsd)

package server

import (
	"io/fs"
	"os"
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
