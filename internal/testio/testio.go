// Package testio holds the small pieces of I/O that tests in several
// packages share, so that each lives once.
package testio

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer that a test can read while the code under test
// writes to it from other goroutines, as a log's output or a program's
// stdout. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
