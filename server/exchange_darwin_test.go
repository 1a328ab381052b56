package server

import "golang.org/x/sys/unix"

// exchange swaps the entries at a and b in one step: b is never missing,
// as it is for a moment when a folder is taken away to rename another over
// its name.
func exchange(a, b string) error {
	return unix.RenamexNp(a, b, unix.RENAME_SWAP)
}
