package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"image"
	imgpng "image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/urfave/cli/v2"
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

func TestProxyErrorPageReloadsAfterTheFix(t *testing.T) {
	b := browser(t)
	var fixed atomic.Bool
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if !fixed.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `<!doctype html><html><head><title>TypeError</title></head><body><h1 id="title">TypeError: x is undefined</h1></body></html>`)
			return
		}
		io.WriteString(w, appPage)
	}))
	t.Cleanup(app.Close)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.js"), "x.y\n")
	in := startInProcess(t, "--proxy", app.URL, dir)
	tab := openTab(t, b, in.url+"/")
	if got := eval[string](t, tab, `document.title`); got != "TypeError" {
		t.Fatalf("got title %q, want the app's error page", got)
	}
	mark(t, tab)
	fixed.Store(true)
	write(t, filepath.Join(dir, "app.js"), "x = {y: 1}\n")
	waitJS(t, tab, reloaded+` && document.getElementById("title")?.textContent === "from the app"`)
}

func TestProxyStylesheetFromTheFolderIsSwappedAndNeverStale(t *testing.T) {
	b := browser(t)
	dir := t.TempDir()
	css := filepath.Join(dir, "style.css")
	write(t, css, "h1 { letter-spacing: 1px }\n")
	write(t, filepath.Join(dir, "server.py"), "# the app\n")
	// The app serves its stylesheet from the folder, as python3 -m
	// http.server does: Last-Modified is the file's time, here days old,
	// and there is no Cache-Control, so a browser may keep it for hours.
	days := time.Now().Add(-72 * time.Hour)
	if err := os.Chtimes(css, days, days); err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/style.css" {
			http.ServeFile(w, r, css)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body><h1>app</h1></body></html>`)
	}))
	t.Cleanup(app.Close)
	in := startInProcess(t, "--proxy", app.URL, dir)
	tab := openTab(t, b, in.url+"/")
	waitJS(t, tab, restyled(1))

	// An edit of the stylesheet alone is swapped in, without a reload.
	mark(t, tab)
	write(t, css, "h1 { letter-spacing: 2px }\n")
	waitJS(t, tab, restyled(2))
	kept(t, tab, "a stylesheet the page loaded changed")

	// With a source file in the same batch the page reloads, and the
	// stylesheet it links (its first URL, not the swapped one) is fresh.
	write(t, css, "h1 { letter-spacing: 3px }\n")
	write(t, filepath.Join(dir, "server.py"), "# the app, changed\n")
	waitJS(t, tab, reloaded)
	waitJS(t, tab, `document.querySelectorAll("link[rel=stylesheet]").length === 1`)
	if !eval[bool](t, tab, restyled(3)) {
		t.Errorf("after the reload h1 has letter-spacing %s, want 3px: the stylesheet came from a stale cache",
			eval[string](t, tab, `getComputedStyle(document.querySelector("h1")).letterSpacing`))
	}
}

func TestProxyOverHTTP2ForwardsHeaders(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", cache)
	type seen struct{ proto, forwardedFor, forwardedHost, forwardedProto, host string }
	got := make(chan seen, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- seen{r.Proto, r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Proto"), r.Host}:
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, appPage)
	}))
	t.Cleanup(app.Close)
	in := startInProcess(t, "--https", "--proxy", app.URL, t.TempDir())
	pem, err := os.ReadFile(filepath.Join(cache, "hotserve", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in cert.pem")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	req, _ := http.NewRequest("GET", in.url+"/", nil)
	req.Header.Set("Sec-Fetch-Dest", "document")
	// A browser's own claims are not passed on as the proxy's.
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.ProtoMajor != 2 || !strings.Contains(string(body), `<head><script src="/__hotserve/client.js"`) {
		t.Errorf("got %s with %q, want HTTP/2 and the page with the script", resp.Proto, body)
	}
	u, _ := url.Parse(in.url)
	app2, _ := url.Parse(app.URL)
	want := seen{"HTTP/1.1", "127.0.0.1", u.Host, "https", app2.Host}
	select {
	case s := <-got:
		if s != want {
			t.Errorf("the backend saw %+v, want %+v", s, want)
		}
	default:
		t.Error("the backend saw no request")
	}
}

func TestProxyInsecureFlag(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  string
		want bool
	}{
		{name: "off by default", args: []string{"--proxy", "https://dev.example.test:8443"}},
		{name: "the flag sets it for every backend", args: []string{"--proxy-insecure", "--proxy", "https://dev.example.test:8443", "--proxy", "/api=https://api.example.test"}, want: true},
		{name: "so does the environment", args: []string{"--proxy", "https://dev.example.test:8443"}, env: "true", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("HOTSERVE_PROXY_INSECURE", tt.env)
			}
			var stderr bytes.Buffer
			app := newApp(surroundings{stdout: io.Discard, stderr: &stderr})
			var cfg *config
			app.Action = func(c *cli.Context) (err error) {
				cfg, err = parse(c)
				return err
			}
			if err := app.Run(append(append([]string{"hotserve"}, tt.args...), t.TempDir())); err != nil {
				t.Fatalf("%v %s", err, stderr.String())
			}
			if len(cfg.opts.Backends) == 0 {
				t.Fatal("no backends")
			}
			for _, b := range cfg.opts.Backends {
				if b.Insecure != tt.want {
					t.Errorf("backend %s: got Insecure %v, want %v", b.URL, b.Insecure, tt.want)
				}
			}
		})
	}
}

func TestProxyRedirectAndCookieStayOnHotserve(t *testing.T) {
	b := browser(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			// An app that names its own address, as many build absolute
			// URLs from Host.
			w.Header().Add("Set-Cookie", "session=abc; Domain=127.0.0.1; Path=/; SameSite=Lax")
			http.Redirect(w, r, "http://"+r.Host+"/account", http.StatusFound)
			return
		}
		session := "none"
		if c, err := r.Cookie("session"); err == nil {
			session = c.Value
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><title>account</title></head><body><p id="session">`+session+`</p></body></html>`)
	}))
	t.Cleanup(app.Close)
	in := startInProcess(t, "--proxy", app.URL, t.TempDir())
	u, _ := url.Parse(in.url)
	// The browser knows hotserve as localhost; the app's cookie names
	// 127.0.0.1, which the browser would not keep for localhost.
	local := "http://localhost:" + u.Port()
	tab := openTab(t, b, local+"/login")
	if got := eval[string](t, tab, `location.href`); got != local+"/account" {
		t.Errorf("the redirect went to %s, want %s/account", got, local)
	}
	if got := eval[string](t, tab, `document.getElementById("session").textContent`); got != "abc" {
		t.Errorf("the app got session %q, want the cookie it set", got)
	}
}

func TestProxyStreamedShellShowsBeforeTheRest(t *testing.T) {
	b := browser(t)
	release := make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// A shell far shorter than 512 bytes, then a long computation.
		io.WriteString(w, `<!doctype html><html><head><title>shell</title></head><body><h1 id="title">loading</h1>`)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, `<p id="rest">done</p></body></html>`)
	}))
	t.Cleanup(app.Close)
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	in := startInProcess(t, "--proxy", app.URL, t.TempDir())
	tab, cancel := chromedp.NewContext(b)
	t.Cleanup(cancel)
	// Navigate without waiting for the load event, which cannot come
	// while the app holds the rest back.
	eval[string](t, tab, `location.href = `+strconv.Quote(in.url+"/"))
	// Each evaluation is bounded: while no response has come, the tab
	// has no document to evaluate in, and Chromium does not answer.
	shown := `document.getElementById("title")?.textContent === "loading" && document.readyState === "loading" && window.__hotserve?.state === "connected"`
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ectx, ecancel := context.WithTimeout(tab, time.Second)
		ok, err := chromedp.Run(ectx, chromedp.Evaluate[bool](shown))
		ecancel()
		if err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shell was not shown, with a connected client, while the app held the rest back (last error: %v)", err)
		}
	}
	unblock()
	waitJS(t, tab, `document.getElementById("rest")?.textContent === "done" && document.readyState === "complete"`)
}

// png is a w×h black PNG image.
func png(t *testing.T, w, h int) string {
	t.Helper()
	var b bytes.Buffer
	if err := imgpng.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// imageApp starts an app that serves a page showing img/dot.png and, through
// style.css, img/bg.png, and serves those from dir as python3 -m
// http.server does: Last-Modified in whole seconds, no Cache-Control. It
// returns its URL.
func imageApp(t *testing.T, dir string) string {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.ServeFile(w, r, filepath.Join(dir, filepath.FromSlash(r.URL.Path)))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head>
<body><h1>app</h1><img id="dot" src="/img/dot.png" alt=""><div id="bg"></div></body></html>`)
	}))
	t.Cleanup(app.Close)
	return app.URL
}

func TestProxyImageFromTheFolderIsSwapped(t *testing.T) {
	b := browser(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "img", "dot.png"), png(t, 1, 1))
	write(t, filepath.Join(dir, "img", "bg.png"), png(t, 1, 1))
	write(t, filepath.Join(dir, "style.css"), `#bg { width: 10px; height: 10px; background-image: url("img/bg.png") }`+"\n")
	write(t, filepath.Join(dir, "server.py"), "# the app\n")
	in := startInProcess(t, "--proxy", imageApp(t, dir), dir)
	tab := openTab(t, b, in.url+"/")
	waitJS(t, tab, `document.getElementById("dot").naturalWidth === 1 && getComputedStyle(document.getElementById("bg")).backgroundImage.includes("/img/bg.png")`)
	mark(t, tab)
	eval[bool](t, tab, `window.dot = document.getElementById("dot"), true`)

	// An edit of the images alone shows the new ones in the same
	// elements, without a reload.
	write(t, filepath.Join(dir, "img", "dot.png"), png(t, 2, 2))
	write(t, filepath.Join(dir, "img", "bg.png"), png(t, 2, 2))
	waitJS(t, tab, `document.getElementById("dot").naturalWidth === 2`)
	waitJS(t, tab, `getComputedStyle(document.getElementById("bg")).backgroundImage.includes("bg.png?hotserve=")`)
	if !eval[bool](t, tab, `window.dot === document.getElementById("dot")`) {
		t.Error("the <img> element was replaced, want the same element with a fresh URL")
	}
	kept(t, tab, "images the page loaded changed")
	// The new background is what the page shows: loaded again, it is 2 px.
	got, err := chromedp.Run(tab, chromedp.Evaluate[float64](`new Promise(resolve => {
		const img = new Image();
		img.onload = () => resolve(img.naturalWidth);
		img.onerror = () => resolve(-1);
		img.src = getComputedStyle(document.getElementById("bg")).backgroundImage.slice(5, -2);
	})`, chromedp.EvalAwaitPromise))
	if err != nil || got != 2 {
		t.Errorf("the background image's new URL gives an image %v px wide (%v), want 2", got, err)
	}
}

func TestProxyReloadBringsAnImageChangedInTheSameSecond(t *testing.T) {
	b := browser(t)
	dir := t.TempDir()
	// Both versions of the image were modified in the same second, so
	// the app's Last-Modified (whole seconds) is the same for both: a
	// browser that revalidates its copy is told 304, Not Modified.
	second := time.Now().Add(-time.Hour).Truncate(time.Second)
	img := filepath.Join(dir, "img", "dot.png")
	write(t, img, png(t, 1, 1))
	if err := os.Chtimes(img, second, second.Add(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "server.py"), "# the app\n")
	in := startInProcess(t, "--proxy", imageApp(t, dir), dir)
	tab := openTab(t, b, in.url+"/")
	waitJS(t, tab, `document.getElementById("dot").naturalWidth === 1`)
	mark(t, tab)

	// The new version, saved as editors do (written aside, then renamed
	// over), with its time set before it lands; then a source file, so
	// that the page reloads.
	saved := filepath.Join(t.TempDir(), "dot.png")
	write(t, saved, png(t, 2, 2))
	if err := os.Chtimes(saved, second, second.Add(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(saved, img); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "server.py"), "# the app, changed\n")
	waitJS(t, tab, reloaded+` && document.getElementById("dot").complete && document.getElementById("dot").naturalWidth > 0`)
	if got := eval[float64](t, tab, `document.getElementById("dot").naturalWidth`); got != 2 {
		t.Errorf("after the reload the image is %v px wide, want 2: it came from the browser's cache", got)
	}
}
