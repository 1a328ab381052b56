package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hotserve/hotserve/internal/ssetest"
)

func TestUserHeadersWin(t *testing.T) {
	big := strings.Repeat("x", 300<<10) // past maxBuffered: sent with sendfile
	bigPage := "<!doctype html><title>big</title>" + big
	dir := site(t, map[string]string{"index.html": page, "app.js": "x", "big.txt": big, "big.html": bigPage, "d/a.txt": "a"})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, max-age=5")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	user := http.Header{"Cache-Control": {"max-age=60"}, "Cross-Origin-Resource-Policy": {"cross-origin"}, "X-Extra": {"a", "b"}}
	_, base := start(t, dir, Options{Header: user, Backends: []Backend{{Path: "/api", URL: backend(t, app)}}})
	s, err := New("", Options{Header: user})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	wrapped := httptest.NewServer(s.Wrap(app))
	t.Cleanup(wrapped.Close)

	for _, tc := range []struct {
		name, url string
		header    []string
		status    int
		body      string
	}{
		{"a file", base + "/app.js", nil, 200, "x"},
		{"a big file", base + "/big.txt", nil, 200, big},
		{"a range of a file", base + "/big.txt", []string{"Range", "bytes=0-2"}, 206, "xxx"},
		{"a page", base + "/", asNavigation, 200, ""},
		{"a big page", base + "/big.html", asNavigation, 200, ""},
		{"a page revalidated", base + "/app.js", []string{"If-None-Match", "*"}, 304, ""},
		{"a listing", base + "/d/", asNavigation, 200, ""},
		{"a missing page", base + "/gone.html", asNavigation, 404, ""},
		{"a missing file", base + "/gone.js", asScript, 404, "404 page not found\n"},
		{"a wrong method", base + "/app.js", nil, 405, ""},
		{"a backend's page", base + "/api/x", asNavigation, 200, ""},
		{"a wrapped app's page", wrapped.URL + "/", asNavigation, 200, ""},
		{"the client script", base + "/__hotserve/client.js", nil, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := http.MethodGet
			if tc.status == 405 {
				method = http.MethodPost
			}
			r := do(t, method, tc.url, tc.header...)
			if r.status != tc.status {
				t.Fatalf("got %d, want %d", r.status, tc.status)
			}
			if got := r.header.Values("Cache-Control"); len(got) != 1 || got[0] != "max-age=60" {
				t.Errorf("Cache-Control %q, want the user's max-age=60 alone", got)
			}
			if got := r.header.Get("Cross-Origin-Resource-Policy"); got != "cross-origin" {
				t.Errorf("Cross-Origin-Resource-Policy %q, want the user's", got)
			}
			if got := r.header.Values("X-Extra"); strings.Join(got, ",") != "a,b" {
				t.Errorf("X-Extra %q, want both values", got)
			}
			if tc.body != "" && r.body != tc.body {
				t.Errorf("body of %d bytes differs from the file's %d", len(r.body), len(tc.body))
			}
			if tc.name == "a big page" && uninject(t, r.body) != bigPage {
				t.Errorf("the big page was not sent whole")
			}
		})
	}
}

func TestUserHeadersWinOnPreflights(t *testing.T) {
	dir := site(t, map[string]string{"app.js": "x"})
	_, base := start(t, dir, Options{CORS: true, Header: http.Header{"Access-Control-Max-Age": {"5"}}})
	r := do(t, http.MethodOptions, base+"/app.js")
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Max-Age") != "5" {
		t.Errorf("got %d, Access-Control-Max-Age %q, want 204 with the user's 5", r.status, r.header.Get("Access-Control-Max-Age"))
	}
}

func TestUserHeadersKeepStreamsFlowing(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page})
	s, base := start(t, dir, Options{Header: http.Header{"Cache-Control": {"max-age=60"}}})
	s.Settle(time.UnixMilli(5000))
	st := ssetest.Open(t, base+"/__hotserve/events")
	if got := st.Header.Get("Cache-Control"); got != "max-age=60" {
		t.Errorf("Cache-Control %q, want the user's", got)
	}
	if ev := st.Next(t, 5*time.Second); ev.Data.Build != 5000 {
		t.Errorf("got build %d, want 5000", ev.Data.Build)
	}
	s.Reload()
	if ev := st.Next(t, 5*time.Second); ev.Data.Build <= 5000 {
		t.Errorf("after Reload: got build %d", ev.Data.Build)
	}
}
