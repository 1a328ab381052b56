package server

import (
	"fmt"
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

func TestBigPageIsSentWhole(t *testing.T) {
	big := "<!doctype html><html><head><title>big</title></head><body>" + strings.Repeat("<p>0123456789abcdef</p>\n", maxBuffered/20) + "</body></html>\n"
	if len(big) <= maxBuffered {
		t.Fatalf("the page has %d bytes; it must be bigger than %d to take the streaming path", len(big), maxBuffered)
	}
	dir := site(t, map[string]string{"big.html": big})
	_, base := start(t, dir, Options{})
	whole := get(t, base+"/big.html")
	if got := uninject(t, whole.body); got != big {
		t.Fatalf("without the tag the page differs from the file (%d vs %d bytes)", len(got), len(big))
	}
	if got, want := whole.header.Get("Content-Length"), fmt.Sprint(len(whole.body)); got != want {
		t.Errorf("got Content-Length %s, want %s", got, want)
	}
	at := strings.Index(whole.body, "<script")
	for _, rng := range []struct{ from, to int }{
		{0, 10}, {at - 5, at + 5}, {at + 10, at + 200000}, {len(whole.body) - 100, len(whole.body) - 1},
	} {
		r := get(t, base+"/big.html", "Range", fmt.Sprintf("bytes=%d-%d", rng.from, rng.to))
		if r.status != 206 || r.body != whole.body[rng.from:rng.to+1] {
			t.Errorf("bytes %d-%d: got %d and %d bytes, want 206 and the same bytes", rng.from, rng.to, r.status, len(r.body))
		}
	}
}
