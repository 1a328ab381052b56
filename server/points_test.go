package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInjectedPageFollowsEveryEdit(t *testing.T) {
	// Same size, same modification time, different place for the tag: a
	// cache keyed by anything but the bytes would serve a stale point.
	versions := []string{
		"<!doctype html><html><head><title>a</title></head><body>x</body></html>",
		"<!doctype html><html><!--ppppppppp--><head></head><body>y</body></html>",
		"<!doctype html><!--ppppppp--><html><head><title>c</title></head></html>",
	}
	dir := site(t, map[string]string{"index.html": versions[0]})
	_, base := start(t, dir, Options{})
	p := filepath.Join(dir, "index.html")
	mtime := time.Now().Add(-time.Hour)
	for round := range 2 {
		for i, v := range versions {
			if len(v) != len(versions[0]) {
				t.Fatalf("version %d has %d bytes, want %d", i, len(v), len(versions[0]))
			}
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, mtime, mtime)
			r := get(t, base+"/", "Sec-Fetch-Dest", "document")
			if got := uninject(t, r.body); got != v {
				t.Fatalf("round %d, version %d: without the tag got %q, want %q", round, i, got, v)
			}
			if got, want := strings.Index(r.body, "<script"), strings.Index(v, "<head>")+len("<head>"); got != want {
				t.Errorf("round %d, version %d: tag at %d, want %d", round, i, got, want)
			}
		}
	}
}

func TestRangeOfAnInjectedPage(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	_, base := start(t, dir, Options{})
	whole := get(t, base+"/").body
	for _, rng := range []struct{ header, want string }{
		{"bytes=0-0", whole[:1]},
		{"bytes=5-", whole[5:]},
		{"bytes=-7", whole[len(whole)-7:]},
	} {
		r := get(t, base+"/", "Range", rng.header)
		if r.status != 206 || r.body != rng.want {
			t.Errorf("%s: got %d %q, want 206 %q", rng.header, r.status, r.body, rng.want)
		}
	}
}
