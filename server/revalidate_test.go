package server

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestProxyRevalidatesAFileEditedInTheSecondOfTheBrowsersCopy(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "dot.png")
	second := time.Now().Add(-time.Hour).Truncate(time.Second)
	save := func(content string, at time.Time) {
		t.Helper()
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(file, at, at); err != nil {
			t.Fatal(err)
		}
	}
	save("one", second.Add(100*time.Millisecond))
	// The app serves the folder's files as python3 -m http.server does:
	// Last-Modified in whole seconds, If-Modified-Since honoured.
	s, base := start(t, dir, Options{Backends: []Backend{{URL: backend(t, http.FileServer(http.Dir(dir)))}}})
	var site Source
	for _, src := range s.Sources() {
		if src.Site {
			site = src
		}
	}
	first := get(t, base+"/dot.png")
	lastModified := first.header.Get("Last-Modified")
	if first.body != "one" || lastModified == "" {
		t.Fatalf("got %q with Last-Modified %q, want the file and its time", first.body, lastModified)
	}
	if got := get(t, base+"/dot.png", "If-Modified-Since", lastModified); got.status != http.StatusNotModified {
		t.Errorf("an unchanged file: got %d, want 304", got.status)
	}

	// Saved again in the same second: the app cannot tell the copies apart.
	save("two", second.Add(500*time.Millisecond))
	s.Announce(site, []string{"dot.png"}, second.Add(500*time.Millisecond))
	if got := get(t, base+"/dot.png", "If-Modified-Since", lastModified); got.status != http.StatusOK || got.body != "two" {
		t.Errorf("a file saved again in the second of the browser's copy: got %d %q, want 200 \"two\"", got.status, got.body)
	}
	// That answer gave the browser the new file, dated the same second:
	// its next conditions are the app's to judge again, or every reload
	// would fetch the file whole from then on.
	if got := get(t, base+"/dot.png", "If-Modified-Since", lastModified); got.status != http.StatusNotModified {
		t.Errorf("after the new file was sent once: got %d, want the app's 304", got.status)
	}
	s.Announce(site, []string{"dot.png"}, second.Add(500*time.Millisecond))
	// A copy older than that second is the app's to judge.
	older := second.Add(-time.Minute).UTC().Format(http.TimeFormat)
	if got := get(t, base+"/dot.png", "If-Modified-Since", older); got.status != http.StatusOK || got.body != "two" {
		t.Errorf("an older copy: got %d %q, want 200 \"two\"", got.status, got.body)
	}
	save("two", second.Add(-2*time.Minute))
	if got := get(t, base+"/dot.png", "If-Modified-Since", older); got.status != http.StatusNotModified {
		t.Errorf("a copy newer than the file, which was not announced again: got %d, want the app's 304", got.status)
	}
}
