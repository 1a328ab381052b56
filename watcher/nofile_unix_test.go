//go:build unix

package watcher

import (
	"syscall"
	"testing"
)

// withoutDescriptors runs f with the process's open-file limit at the
// descriptors already open, so that any new one fails with EMFILE, as it
// does for a user whose editor and browser took them all. Nothing else may
// open files meanwhile: tests of this package do not run in parallel.
func withoutDescriptors(t *testing.T, f func()) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	// Descriptors are numbered from the lowest free one: with the limit
	// there, none is left.
	free, err := syscall.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Close(free)
	low := old
	low.Cur = uint64(free)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
			t.Fatal(err)
		}
	}()
	f()
}
