//go:build !unix

package watcher

import "io/fs"

// fileID is not known here, so symbolic links to directories are not
// followed and the poller compares sizes and times only.
func fileID(fs.FileInfo) (fileKey, bool) { return fileKey{}, false }
