//go:build unix

package watcher

import (
	"os"
	"syscall"
	"testing"
)

// withoutDescriptors runs f with the process's open-file limit at the
// descriptors already open, so that any new one fails with EMFILE, as it
// does for a user whose editor and browser took them all. Nothing else in
// the process opens files meanwhile: no top-level test of this package is
// parallel, so none runs beside the one calling it.
func withoutDescriptors(t *testing.T, f func()) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	// A new descriptor takes the lowest free number: with the limit
	// there, none is left.
	probe, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	free := probe.Fd()
	probe.Close()
	low := old
	setLimit(&low.Cur, free)
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

// setLimit sets an Rlimit field, which is uint64 on most systems and int64
// on FreeBSD.
func setLimit[T int64 | uint64](p *T, n uintptr) { *p = T(n) }
