package server

import (
	"log"
	"strings"
	"testing"

	"github.com/hotserve/hotserve/internal/testio"
)

// syncLog is a log's output, safe to read while requests write to it.
type syncLog = testio.Buffer

func TestIncludesFromThisMachine(t *testing.T) {
	dir := site(t, map[string]string{"index.html": page, "app.js": "var secret = 1"})
	include := func(site, referer string) []string {
		h := []string{"Sec-Fetch-Dest", "script", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Site", site}
		if referer != "" {
			h = append(h, "Referer", referer)
		}
		return h
	}
	for _, tc := range []struct {
		name   string
		header []string
		status int
		corp   string
	}{
		{"a page on localhost:3000 may include a script", include("cross-site", "http://localhost:3000/"), 200, "cross-origin"},
		{"a page on another port of 127.0.0.1 may include a script", include("same-site", "http://127.0.0.1:3000/app/page.html"), 200, "cross-origin"},
		{"a page on ::1 may include a script", include("cross-site", "http://[::1]:3000/"), 200, "cross-origin"},
		{"a page on 127.0.0.2 may include a script", include("cross-site", "http://127.0.0.2:3000/"), 200, "cross-origin"},
		{"a page on a .localhost name may include a script", include("cross-site", "https://app.localhost:5173/"), 200, "cross-origin"},
		{"an Origin on this machine counts too", []string{"Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Site", "cross-site", "Origin", "http://localhost:3000"}, 200, "cross-origin"},
		{"a site on the internet is refused", include("cross-site", "https://evil.example/"), 403, ""},
		{"a site that hides its Referer is refused", include("cross-site", ""), 403, ""},
		{"a site whose name starts with localhost is refused", include("cross-site", "http://localhost.evil.example/"), 403, ""},
		{"a site whose name embeds 127.0.0.1 is refused", include("cross-site", "http://127.0.0.1.nip.io/"), 403, ""},
		{"a LAN address is not this machine", include("cross-site", "http://192.168.1.20:3000/"), 403, ""},
		{"an Origin elsewhere wins over a Referer here", append(include("cross-site", "http://localhost:3000/"), "Origin", "https://evil.example"), 403, ""},
		{"an opaque Origin is not this machine", append(include("cross-site", "http://localhost:3000/"), "Origin", "null"), 403, ""},
		{"a same-site page elsewhere gets same-origin, which the browser enforces", include("same-site", "http://a.example.test/"), 200, "same-origin"},
		{"our own pages get same-origin", []string{"Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Site", "same-origin"}, 200, "same-origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, base := start(t, dir, Options{})
			r := get(t, base+"/app.js", tc.header...)
			if r.status != tc.status {
				t.Fatalf("got %d, want %d", r.status, tc.status)
			}
			if tc.status == 403 {
				if strings.Contains(r.body, "secret") {
					t.Errorf("refused, but the file was sent")
				}
				return
			}
			if got := r.header.Get("Cross-Origin-Resource-Policy"); got != tc.corp {
				t.Errorf("Cross-Origin-Resource-Policy %q, want %q", got, tc.corp)
			}
			if vary := strings.Join(r.header.Values("Vary"), ", "); !strings.Contains(vary, "Origin") || !strings.Contains(vary, "Referer") {
				t.Errorf("Vary %q does not name what the policy was decided by", vary)
			}
		})
	}
	t.Run("a refused include is logged once, with the flag that allows it", func(t *testing.T) {
		var out syncLog
		_, base := start(t, dir, Options{ErrorLog: log.New(&out, "", 0)})
		for range 3 {
			get(t, base+"/app.js", include("cross-site", "https://evil.example/page")...)
		}
		get(t, base+"/app.js", include("cross-site", "http://localhost:3000/")...)
		got := out.String()
		if strings.Count(got, "warning:") != 1 || !strings.Contains(got, "https://evil.example") || !strings.Contains(got, "--cors") || !strings.Contains(got, "/app.js") {
			t.Errorf("got log %q, want one warning naming the page, the file and --cors", got)
		}
	})
}
