package server

import (
	"os"
	"sync/atomic"
	"syscall"
)

// folder is one folder the server serves files from: the site's own (the
// dir given to New) or a mount's. Everything read from it goes through its
// os.Root, so neither "..", encoded or not, nor a symbolic link can reach
// outside it. The site and every mount are served by the same code
// (files.go) with the same rules; only the prefix and SPA differ.
type folder struct {
	dir    string               // as given, for reopening and for messages
	prefix string               // the URL path it is served under, without a trailing slash; "" for the site
	spa    bool                 // unknown routes get its index.html; see Options.SPA
	root   atomic.Pointer[tree] // swapped by reopen; each request loads it once
}

// tree is an open folder: the os.Root that confines every path, and the
// folder's own descriptor, opened once, from which open_unix.go walks each
// request's path. The walk reaches the descriptor through dot's Control,
// which keeps it open until the walk is done even if reopen closes the
// tree meanwhile, so a closed descriptor's number is never reused under
// a walk.
type tree struct {
	*os.Root
	file *os.File        // the folder itself
	dot  syscall.RawConn // file's descriptor
}

func openTree(dir string) (*tree, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	f, err := root.Open(".")
	if err != nil {
		root.Close()
		return nil, err
	}
	dot, err := f.SyscallConn()
	if err != nil {
		f.Close()
		root.Close()
		return nil, err
	}
	return &tree{Root: root, file: f, dot: dot}, nil
}

// Close closes the folder's descriptor and its os.Root.
func (t *tree) Close() error {
	t.file.Close()
	return t.Root.Close()
}

// openFolder opens dir, to be served under the URL path prefix.
func openFolder(dir, prefix string, spa bool) (*folder, error) {
	root, err := openTree(dir)
	if err != nil {
		return nil, err
	}
	fd := &folder{dir: dir, prefix: prefix, spa: spa}
	fd.root.Store(root)
	return fd, nil
}

// reopen opens the folder again by its name and serves from the new handle
// from then on; see Server.Reopen. If the folder cannot be opened, the old
// handle stays.
func (fd *folder) reopen() error {
	root, err := openTree(fd.dir)
	if err != nil {
		return err
	}
	return fd.root.Swap(root).Close()
}

// close releases the folder's handle.
func (fd *folder) close() error { return fd.root.Load().Close() }
