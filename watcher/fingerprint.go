package watcher

import (
	"encoding/binary"
	"hash/fnv"
	"io/fs"
	"strings"

	"github.com/hotserve/hotserve/internal/deny"
)

// fingerprint sums a hash of the path, size and modification time of every
// file in the tree, so that any change, to an older time included, changes
// the sum, and a walk of an unchanged tree after a restart gives the same
// sum as the one kept up to date while watching. A sum of per-file hashes,
// unlike one hash of a sorted listing, is updated in constant time per
// changed path.
type fingerprint struct {
	files  map[string]uint64 // slash path → its term of sum
	sum    uint64
	hidden func(rel string) bool
}

func newFingerprint(hidden func(string) bool) *fingerprint {
	return &fingerprint{files: make(map[string]uint64), hidden: hidden}
}

// record sets what rel is now. A folder's own size and time change with its
// entries, which are recorded themselves, so a folder counts for nothing.
func (f *fingerprint) record(rel string, fi fs.FileInfo) {
	if rel == "." || fi.IsDir() || irregular(fi) || f.hidden(rel) {
		f.remove(rel)
		return
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(fi.Size()))
	binary.LittleEndian.PutUint64(b[8:], uint64(fi.ModTime().UnixNano()))
	// FNV, not maphash: two processes must agree on every file's hash.
	h := fnv.New64a()
	h.Write([]byte(rel))
	h.Write(b[:])
	f.remove(rel)
	f.files[rel] = h.Sum64()
	f.sum += f.files[rel]
}

// drop forgets rel and, if it was a folder, everything that was in it.
// Only a path that was not a file can have been a folder: a whole scan is
// made for those alone.
func (f *fingerprint) drop(rel string) {
	if _, ok := f.files[rel]; ok {
		f.remove(rel)
		return
	}
	prefix := rel + "/"
	for p := range f.files {
		if strings.HasPrefix(p, prefix) {
			f.remove(p)
		}
	}
}

func (f *fingerprint) remove(rel string) {
	if v, ok := f.files[rel]; ok {
		f.sum -= v
		delete(f.files, rel)
	}
}

// irregular reports whether fi is a named pipe, socket or device: never
// served (deny.Irregular), so never announced or counted. Only its metadata
// is ever read; nothing here opens a file.
func irregular(fi fs.FileInfo) bool { return deny.Irregular(fi.Mode()) }
