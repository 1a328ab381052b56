package server

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMount(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	lib := site(t, map[string]string{"lib.css": "p{}", "docs/index.html": page, ".env": "SECRET=1", "key.pem": "x"})
	if err := os.Symlink(filepath.Join(dir, "index.html"), filepath.Join(lib, "out.html")); err != nil {
		t.Fatal(err)
	}
	_, base := start(t, dir, Options{Mounts: []Mount{{Path: "/vendor", Dir: lib}}})
	tests := []struct {
		name   string
		path   string
		status int
		body   string
	}{
		{name: "a file in the mount is served under its prefix", path: "/vendor/lib.css", status: 200, body: "p{}"},
		{name: "the mount's own URL redirects to its folder", path: "/vendor", status: 301},
		{name: "a dotfile in the mount is not served", path: "/vendor/.env", status: 404},
		{name: "a key in the mount is not served", path: "/vendor/key.pem", status: 404},
		{name: "a link out of the mount is not followed", path: "/vendor/out.html", status: 404},
		{name: "dot-dot cannot leave the mount", path: "/vendor/../vendor/../index.html", status: 200, body: page},
		{name: "the main folder is served for the rest", path: "/index.html", status: 200, body: page},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := raw(t, base, tt.path)
			if resp.status != tt.status {
				t.Fatalf("got %d, want %d", resp.status, tt.status)
			}
			if tt.body == page {
				resp.body = uninject(t, resp.body)
			}
			if tt.body != "" && resp.body != tt.body {
				t.Errorf("got %q, want %q", resp.body, tt.body)
			}
		})
	}
	if resp := get(t, base+"/vendor/docs/", "Sec-Fetch-Dest", "document"); resp.status != 200 || uninject(t, resp.body) != page {
		t.Errorf("a page in the mount is not injected: %d %q", resp.status, resp.body)
	}
}

func TestBadRoutes(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{name: "a mount without a prefix is refused", opts: Options{Mounts: []Mount{{Path: "/", Dir: t.TempDir()}}}},
		{name: "a mount under the reserved prefix is refused", opts: Options{Mounts: []Mount{{Path: "/__hotserve/x", Dir: t.TempDir()}}}},
		{name: "a mount of a missing folder is refused", opts: Options{Mounts: []Mount{{Path: "/v", Dir: filepath.Join(t.TempDir(), "nope")}}}},
		{name: "a backend without a URL is refused", opts: Options{Backends: []Backend{{Path: "/api"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := New("", tt.opts); err == nil {
				s.Close()
				t.Error("got no error")
			}
		})
	}
}
