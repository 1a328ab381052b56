//go:build unix

package watcher

import (
	"io/fs"
	"syscall"
)

// fileID returns the device and inode of fi, which name a directory
// whatever path reaches it: symbolic-link loops are detected by them, and
// the poller tells a directory replaced by another from one that changed.
func fileID(fi fs.FileInfo) (fileKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	return fileKey{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true
}
