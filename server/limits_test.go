package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestTriggerBodyLimit sends /__hotserve/reload a body of exactly the
// stated 64 KiB, then one byte more.
func TestTriggerBodyLimit(t *testing.T) {
	_, base := start(t, site(t, map[string]string{"index.html": page}), Options{})
	body := func(n int) string {
		const open, end = `{"paths": ["`, `"]}`
		return open + strings.Repeat("a", n-len(open)-len(end)) + end
	}
	if r := post(t, base+"/__hotserve/reload", body(maxTriggerBody)); r.status != http.StatusNoContent {
		t.Errorf("%d bytes: got %d, want 204", maxTriggerBody, r.status)
	}
	if r := post(t, base+"/__hotserve/reload", body(maxTriggerBody+1)); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("%d bytes: got %d, want 413", maxTriggerBody+1, r.status)
	}
}
