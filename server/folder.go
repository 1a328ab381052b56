package server

import (
	"os"
	"sync/atomic"
)

// folder is one folder the server serves files from: the site's own (the
// dir given to New) or a mount's. Everything read from it goes through its
// os.Root, so neither "..", encoded or not, nor a symbolic link can reach
// outside it. The site and every mount are served by the same code
// (files.go) with the same rules; only the prefix and SPA differ.
type folder struct {
	dir    string                  // as given, for reopening and for messages
	prefix string                  // the URL path it is served under, without a trailing slash; "" for the site
	spa    bool                    // unknown routes get its index.html; see Options.SPA
	root   atomic.Pointer[os.Root] // swapped by reopen; each request loads it once
}

// openFolder opens dir, to be served under the URL path prefix.
func openFolder(dir, prefix string, spa bool) (*folder, error) {
	root, err := os.OpenRoot(dir)
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
	root, err := os.OpenRoot(fd.dir)
	if err != nil {
		return err
	}
	return fd.root.Swap(root).Close()
}

// close releases the folder's handle.
func (fd *folder) close() error { return fd.root.Load().Close() }
