package main

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestInPlace(t *testing.T) {
	for rel, want := range map[string]bool{
		"site.css": true, "css/Site.CSS": true, "img/logo.png": true, "a.JPEG": true, "icon.svg": true,
		"index.html": false, "app.js": false, "site.css.map": false, "css": false, "data.json": false,
	} {
		if got := inPlace(rel); got != want {
			t.Errorf("inPlace(%q) = %v, want %v", rel, got, want)
		}
	}
}

// TestDebounceFlagAppliesToStylesheets checks that a --debounce of the
// user's own is the quiet time of a batch of stylesheets too, which by
// default goes out after 1 ms.
func TestDebounceFlagAppliesToStylesheets(t *testing.T) {
	dir := t.TempDir()
	in := startInProcess(t, "--debounce", "300ms", dir)
	st, _ := in.events(t)
	write(t, filepath.Join(dir, "a.css"), "h1 {}")
	// A pause no default batch of stylesheets waits through, and well
	// within the 300 ms.
	time.Sleep(30 * time.Millisecond)
	write(t, filepath.Join(dir, "b.css"), "h2 {}")
	if got := st.Next(t, 10*time.Second).Data.Paths; !slices.Equal(got, []string{"a.css", "b.css"}) {
		t.Errorf("got a batch of %v, want a.css and b.css in one", got)
	}
}
