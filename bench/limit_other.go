//go:build !unix

package main

import "errors"

// raiseFileLimit fails: the benchmarks drive wrk and read /proc, which only
// a Unix machine has. The file exists so that go vet ./... passes on every
// system CI runs on.
func raiseFileLimit() error {
	return errors.New("the benchmarks run on Linux: they need wrk and /proc")
}
