package server

import (
	"io"
	"strings"
	"testing"
)

func TestSpliceReadsAndSeeks(t *testing.T) {
	file := "0123456789abcdefghij"
	tag := "<TAG>"
	for at := 0; at <= len(file); at++ {
		want := file[:at] + tag + file[at:]
		s := &splice{f: strings.NewReader(file), size: int64(len(file)), at: int64(at), tag: []byte(tag)}
		for off := 0; off <= len(want); off++ {
			if _, err := s.Seek(int64(off), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(io.LimitReader(s, 7))
			if err != nil {
				t.Fatal(err)
			}
			if end := min(off+7, len(want)); string(got) != want[off:end] {
				t.Fatalf("at %d, from %d: got %q, want %q", at, off, got, want[off:end])
			}
		}
		if n, _ := s.Seek(0, io.SeekEnd); n != int64(len(want)) {
			t.Errorf("size: got %d, want %d", n, len(want))
		}
	}
}

func TestSpliceOfAShrunkFileFails(t *testing.T) {
	s := &splice{f: strings.NewReader("short"), size: 100, at: 2, tag: []byte("<T>")}
	if _, err := io.ReadAll(s); err != io.ErrUnexpectedEOF {
		t.Errorf("got %v, want io.ErrUnexpectedEOF", err)
	}
}
