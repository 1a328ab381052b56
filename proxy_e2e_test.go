package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// appPage is what the test backend serves.
const appPage = `<!doctype html><html><head><title>app</title></head><body><h1 id="title">from the app</h1></body></html>`

// serveApp starts a backend on addr and returns a function that stops it.
func serveApp(t *testing.T, addr string) func() {
	t.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend cannot listen on %s again: %v", addr, err)
		}
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, appPage)
	})}
	go srv.Serve(ln)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			srv.Close()
		}
	}
	t.Cleanup(stop)
	return stop
}

func TestProxyBackendDownThenUp(t *testing.T) {
	b := browser(t)
	addr := "127.0.0.1:" + freePort(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "main.go"), "package main\n")
	in := startInProcess(t, "--proxy", "http://"+addr, dir)

	// Nothing listens yet: the tab gets the waiting page, which reloads
	// itself once the app answers.
	tab, cancel := chromedp.NewContext(b)
	t.Cleanup(cancel)
	// Every document the tab loads notes whether it was the waiting page
	// while the test had armed the check, so that a reload into the waiting
	// page is seen however briefly it showed.
	if err := chromedp.Do(tab, onNewDocument(`addEventListener("DOMContentLoaded", function () {
		if (sessionStorage.armed && document.title.startsWith("Waiting for")) sessionStorage.sawWaiting = "yes";
	})`)); err != nil {
		t.Fatal(err)
	}
	nctx, ncancel := context.WithTimeout(tab, 20*time.Second)
	defer ncancel()
	if err := chromedp.Do(nctx, chromedp.Navigate(in.url+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `document.title.startsWith("Waiting for http://`+addr+`")`)
	stop := serveApp(t, addr)
	waitJS(t, tab, `document.getElementById("title")?.textContent === "from the app" && window.__hotserve?.state === "connected"`)

	// The app goes down for a rebuild and a source file changes: the tab
	// must not reload into the waiting page, but once the app is back.
	stop()
	mark(t, tab)
	eval[string](t, tab, `sessionStorage.armed = "yes"`)
	write(t, filepath.Join(dir, "main.go"), "package main // changed\n")
	waitLog(t, in, "changed: main.go")
	kept(t, tab, "a change while the app was down")
	serveApp(t, addr)
	waitJS(t, tab, reloaded+` && document.getElementById("title")?.textContent === "from the app"`)
	if saw := eval[string](t, tab, `sessionStorage.sawWaiting || "no"`); saw != "no" {
		t.Error("the tab reloaded into the waiting page while the app was down; it must wait until the app is back")
	}
}

func TestWatchFlagReloadsEveryPageWithoutPaths(t *testing.T) {
	dir, tpl := t.TempDir(), t.TempDir()
	in := startInProcess(t, "--watch", tpl, dir)
	st, _ := in.events(t)
	write(t, filepath.Join(tpl, "secret-name.tmpl"), "x")
	ev := st.Next(t, 10*time.Second)
	if !ev.Data.Reload || len(ev.Data.Paths) != 0 || strings.Contains(ev.Raw, "secret-name") || strings.Contains(ev.Raw, tpl) {
		t.Errorf("got %s, want a full reload that names nothing", ev.Raw)
	}
}

func TestMountFlag(t *testing.T) {
	dir, lib := t.TempDir(), t.TempDir()
	write(t, filepath.Join(lib, "lib.css"), "p{}")
	in := startInProcess(t, "--mount", "/vendor="+lib, dir)
	if got := fetch(t, in.url+"/vendor/lib.css"); got != "p{}" {
		t.Fatalf("got %q", got)
	}
	st, _ := in.events(t)
	write(t, filepath.Join(lib, "lib.css"), "p{color:red}")
	ev := st.Next(t, 10*time.Second)
	if !slices.Equal(ev.Data.Paths, []string{"vendor/lib.css"}) || ev.Data.Reload {
		t.Errorf("got %s, want vendor/lib.css announced", ev.Raw)
	}
}

func TestHTTPSWithHTTP2AndTwelveTabs(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", cache) // macOS takes the cache folder from HOME
	b := browserWith(t, chromedp.Flag("ignore-certificate-errors", true))
	dir := site(t)
	in := startInProcess(t, "--https", dir)
	if !strings.HasPrefix(in.url, "https://") {
		t.Fatalf("got URL %s, want https", in.url)
	}
	tabs := make([]context.Context, 12)
	for i := range tabs {
		tabs[i] = openTab(t, b, in.url+"/")
	}
	if got := eval[string](t, tabs[0], `performance.getEntriesByType("navigation")[0].nextHopProtocol`); got != "h2" {
		t.Errorf("got protocol %q, want h2", got)
	}
	mark(t, tabs...)
	edit(t, filepath.Join(dir, "index.html"), "Hello from hotserve", "Changed over h2")
	for _, tab := range tabs {
		waitJS(t, tab, reloaded+` && document.getElementById("title")?.textContent === "Changed over h2"`)
	}
	// The certificate is in the cache folder, never in DIR.
	if _, err := os.Stat(filepath.Join(cache, "hotserve", "cert.pem")); err != nil {
		t.Errorf("certificate not cached: %v", err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
	if len(matches) != 0 {
		t.Errorf("wrote into DIR: %q", matches)
	}
}
