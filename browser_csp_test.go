package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// cspPage is a static page whose own <meta> sets policy. Its inline
// scripts show which scripts the policy lets run.
const cspPage = `<!doctype html>
<html><head>
<meta http-equiv="Content-Security-Policy" content="%s">
<title>csp</title><link rel="stylesheet" href="css/site.css"></head>
<body><h1 id="title">one</h1>
<script>window.inline = true</script>
<script nonce="hotserve">window.nonced = true</script>
</body></html>`

const (
	sharedBlocked = "[hotserve] the SharedWorker did not start: this page's Content-Security-Policy (worker-src) blocks it; using one tab's event stream instead"
	workerBlocked = "[hotserve] the worker did not start: this page's Content-Security-Policy (worker-src) blocks it; using an event stream in the page instead"
)

// TestBrowserStrictPolicies loads a page under each Content-Security-Policy
// README names and checks what it says: the page reloads on an edit, in the
// connection mode the policy leaves, and the console says in one line why a
// mode was skipped, or that the tab cannot update at all.
func TestBrowserStrictPolicies(t *testing.T) {
	browser := browser(t)
	for _, c := range []struct {
		policy string
		header bool // sent with --header instead of in a <meta>
		proxy  bool // sent by the app hotserve proxies, instead of in a <meta>
		setup  []chromedp.Action[chromedp.Void]
		mode   string   // the connection mode the tab ends in
		inline bool     // whether an inline script without the nonce runs
		lines  []string // what the tab logs about its mode, one line a mode skipped
		stuck  bool     // no mode can work: the last line must say so
	}{
		{policy: "script-src 'self'", mode: "shared-worker"},
		{policy: "default-src 'self'", mode: "shared-worker"},
		// hotserve puts the nonce on its tag.
		{policy: "script-src 'nonce-hotserve'", proxy: true, mode: "leader",
			lines: []string{sharedBlocked}},
		{policy: "script-src 'nonce-hotserve'", header: true, mode: "leader",
			lines: []string{sharedBlocked}},
		// The page's policy does not bind the worker's own stream.
		{policy: "connect-src 'none'", mode: "shared-worker", inline: true},
		{policy: "script-src 'self'; worker-src 'none'", header: true, mode: "leader",
			lines: []string{sharedBlocked}},
		{policy: "script-src 'nonce-hotserve'", mode: "leader",
			lines: []string{sharedBlocked}},
		{policy: "worker-src 'none'", mode: "leader", inline: true,
			lines: []string{sharedBlocked}},
		{policy: "worker-src 'none'", setup: []chromedp.Action[chromedp.Void]{withoutSharedWorker}, mode: "leader", inline: true,
			lines: []string{workerBlocked}},
		{policy: "worker-src 'none'", setup: []chromedp.Action[chromedp.Void]{withoutWebLocks}, mode: "direct", inline: true,
			lines: []string{workerBlocked}},
		{policy: "worker-src 'none'; connect-src 'none'", mode: "leader", inline: true, stuck: true,
			lines: []string{sharedBlocked, "[hotserve] the event stream did not open either: this page's Content-Security-Policy (connect-src) blocks it; this tab will not update by itself"}},
	} {
		name := c.policy
		if len(c.setup) > 0 {
			name += ", " + c.mode
		}
		if c.header {
			name += ", in a header"
		}
		if c.proxy {
			name += ", from the app"
		}
		t.Run(name, func(t *testing.T) {
			dir := site(t)
			page := filepath.Join(dir, "csp.html")
			args := []string{dir}
			switch {
			case c.header:
				args = []string{"--header", "Content-Security-Policy: " + c.policy, dir}
			case c.proxy:
				files := http.FileServer(http.Dir(dir))
				app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Security-Policy", c.policy)
					files.ServeHTTP(w, r)
				}))
				t.Cleanup(app.Close)
				args = []string{"--proxy", app.URL, dir}
			}
			if c.header || c.proxy {
				write(t, page, strings.Replace(cspPage, "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n", "", 1))
			} else {
				write(t, page, fmt.Sprintf(cspPage, c.policy))
			}
			in := startInProcess(t, args...)

			tab, cancel := chromedp.NewContext(browser)
			t.Cleanup(cancel)
			if err := chromedp.Do(tab, c.setup...); err != nil {
				t.Fatal(err)
			}
			console := record(tab)
			nctx, ncancel := context.WithTimeout(tab, 20*time.Second)
			defer ncancel()
			if err := chromedp.Do(nctx, chromedp.Navigate(in.url+"/csp.html")); err != nil {
				t.Fatal(err)
			}
			want := `"connected"`
			if c.stuck {
				want = `"blocked"`
			}
			waitJS(t, tab, `document.readyState === "complete" && window.__hotserve?.state === `+want)
			if got := eval[bool](t, tab, `window.inline === true`); got != c.inline {
				t.Errorf("an inline script ran: %v, want %v: the policy is not in force as expected", got, c.inline)
			}
			if strings.Contains(c.policy, "'nonce-") && !eval[bool](t, tab, `window.nonced === true`) {
				t.Error("the script with the policy's nonce did not run")
			}
			if got := eval[string](t, tab, `__hotserve.mode`); got != c.mode {
				t.Errorf("got mode %q, want %q", got, c.mode)
			}
			var ours []string
			for _, l := range console.lines() {
				if strings.HasPrefix(l, "[hotserve] ") && l != "[hotserve] connected" {
					ours = append(ours, l)
				}
			}
			if !slices.Equal(ours, c.lines) {
				t.Errorf("the tab logged %q, want %q", ours, c.lines)
			}
			if c.stuck {
				return
			}
			mark(t, tab)
			edit(t, page, `<h1 id="title">one</h1>`, `<h1 id="title">two</h1>`)
			waitJS(t, tab, reloaded+` && document.getElementById("title").textContent === "two"`)
			if c.proxy {
				return // the test's app answers with 304s by the second
			}
			restyle(t, dir, 1)
			waitJS(t, tab, restyled(1))
		})
	}
}
