package server

import (
	"net/http"
	"strings"
	"testing"
)

// A policy set with Options.Header binds pages from their first byte: the
// tag must carry its nonce, on pages read whole and on pages spliced while
// they are sent, or the script is blocked.
func TestHeaderPolicyNonceOnTag(t *testing.T) {
	big := page + "<!--" + strings.Repeat("x", maxBuffered) + "-->"
	dir := site(t, map[string]string{"index.html": page, "big.html": big, "app.js": "x", "sub/a.txt": "a"})
	_, base := start(t, dir, Options{Header: http.Header{"Content-Security-Policy": {"default-src 'self'; script-src 'nonce-r4nd0m'"}}})
	for _, p := range []string{"/index.html", "/big.html"} {
		r := get(t, base+p)
		if !strings.Contains(r.body, `data-build=`) || !strings.Contains(r.body, `nonce="r4nd0m" async></script>`) {
			t.Errorf("%s: the tag lacks the policy's nonce: %.200q", p, r.body)
		}
		if got := uninject(t, r.body); got != map[string]string{"/index.html": page, "/big.html": big}[p] {
			t.Errorf("%s: the page changed beyond the tag", p)
		}
	}
	// hotserve's own pages, a listing and the missing-page page, are
	// under the same policy.
	for _, p := range []string{"/sub/", "/gone.html"} {
		r := get(t, base+p, asNavigation...)
		if !strings.Contains(r.body, `nonce="r4nd0m" async></script>`) {
			t.Errorf("%s: hotserve's page lacks the policy's nonce on its tag: %.300q", p, r.body)
		}
	}
	_, base = start(t, dir, Options{Header: http.Header{"Content-Security-Policy": {"script-src 'self'"}}})
	if r := get(t, base+"/index.html"); strings.Contains(r.body, "nonce=") {
		t.Errorf("a policy without a nonce gave the tag one: %.200q", r.body)
	}
}

// A mount's pages are served by the same code as the site's, under the same
// Options.Header: their tag carries the policy's nonce too. (When a mount
// was a child Server without the headers, its pages got a tag the policy
// blocked.)
func TestHeaderPolicyNonceOnMountTag(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	lib := site(t, map[string]string{"index.html": page})
	_, base := start(t, dir, Options{
		Header: http.Header{"Content-Security-Policy": {"script-src 'nonce-r4nd0m'"}},
		Mounts: []Mount{{Path: "/lib", Dir: lib}},
	})
	r := get(t, base+"/lib/index.html")
	if !strings.Contains(r.body, `nonce="r4nd0m" async></script>`) || r.header.Get("Content-Security-Policy") == "" {
		t.Errorf("the mount's page lacks the policy's nonce on its tag: %.200q", r.body)
	}
}
