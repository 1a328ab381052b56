package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A tab that lands on a missing page keeps the script, and shows the page
// once the file appears: after a typo'd link, a git checkout of a branch
// without it, or an rm and a re-create.
func TestBrowserMissingPageRecovers(t *testing.T) {
	browser := browser(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), `<!doctype html><title>home</title><h1 id="t">home</h1>`)
	write(t, filepath.Join(dir, "page.html"), `<!doctype html><title>page</title><h1 id="t">page one</h1>`)
	in := startInProcess(t, dir)
	const notFound = `document.title === "404 Not Found" && window.__hotserve?.state === "connected"`

	t.Run("a missing page reloads when the file is created", func(t *testing.T) {
		tab := openTab(t, browser, in.url+"/new.html")
		waitJS(t, tab, notFound)
		write(t, filepath.Join(dir, "new.html"), `<!doctype html><title>new</title><h1 id="t">created</h1>`)
		waitJS(t, tab, `document.getElementById("t")?.textContent === "created"`)
	})
	t.Run("a missing folder reloads when its index.html is created", func(t *testing.T) {
		tab := openTab(t, browser, in.url+"/docs/")
		waitJS(t, tab, notFound)
		write(t, filepath.Join(dir, "docs", "index.html"), `<!doctype html><title>docs</title><h1 id="t">docs</h1>`)
		waitJS(t, tab, `document.getElementById("t")?.textContent === "docs"`)
	})
	t.Run("a page removed and made again comes back", func(t *testing.T) {
		tab := openTab(t, browser, in.url+"/page.html")
		waitJS(t, tab, `document.getElementById("t")?.textContent === "page one"`)
		// git checkout of a branch without the page: the tab reloads
		// into the 404 page, which keeps listening.
		if err := os.Remove(filepath.Join(dir, "page.html")); err != nil {
			t.Fatal(err)
		}
		waitJS(t, tab, notFound)
		// ...and back: the page is there again.
		write(t, filepath.Join(dir, "page.html"), `<!doctype html><title>page</title><h1 id="t">page two</h1>`)
		waitJS(t, tab, `document.getElementById("t")?.textContent === "page two"`)
	})
}

// A page served by another program on this machine (a dev server on :3000,
// under 127.0.0.1 or localhost) may show images and run scripts from
// hotserve on another port.
func TestBrowserIncludesFromAnotherPort(t *testing.T) {
	browser := browser(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "img.svg"), svg(7, 5))
	write(t, filepath.Join(dir, "lib.js"), `window.libLoaded = true;`)
	in := startInProcess(t, dir)
	port := in.url[strings.LastIndexByte(in.url, ':')+1:]

	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		from := r.URL.Query().Get("from")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>other</title>
<img id="i" src="%[1]s/img.svg" onerror="window.imgFailed = true">
<script src="%[1]s/lib.js" onerror="window.libFailed = true"></script>`, from)
	}))
	t.Cleanup(other.Close)
	otherPort := other.URL[strings.LastIndexByte(other.URL, ':')+1:]

	for _, page := range []string{"127.0.0.1", "localhost"} {
		for _, ours := range []string{"127.0.0.1", "localhost"} {
			t.Run("a page on "+page+" including from "+ours, func(t *testing.T) {
				tab := openPage(t, browser, fmt.Sprintf("http://%s:%s/?from=http://%s:%s", page, otherPort, ours, port))
				waitJS(t, tab, `(document.getElementById("i").complete && document.getElementById("i").naturalWidth > 0 || window.imgFailed === true) && (window.libLoaded === true || window.libFailed === true)`)
				if w := eval[int](t, tab, `document.getElementById("i").naturalWidth`); w != 7 {
					t.Errorf("the image did not load (naturalWidth %d)", w)
				}
				if !eval[bool](t, tab, `window.libLoaded === true`) {
					t.Error("the script did not run")
				}
			})
		}
	}
}

// openPage opens url in a new tab and waits until it has loaded; unlike
// openTab it expects no hotserve client in it.
func openPage(t *testing.T, browser context.Context, url string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	// The first Do opens the tab; under a timeout, its end would close it.
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	nctx, ncancel := context.WithTimeout(tab, 20*time.Second)
	defer ncancel()
	if err := chromedp.Do(nctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
	waitJS(t, tab, `document.readyState === "complete"`)
	return tab
}

// Under --spa a route with a dot in it is the app, and the tab on it
// reloads when index.html changes. The missing script must be a 404, not
// the app: nosniff would make Chromium refuse index.html as a script too,
// so onerror alone cannot tell them apart.
func TestBrowserSPARouteWithDot(t *testing.T) {
	browser := browser(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), `<!doctype html><title>app</title><h1 id="t">one</h1><script src="/gone.js" onerror="window.gone = true"></script>`)
	in := startInProcess(t, "--spa", dir)
	tab := openTab(t, browser, in.url+"/users/john.doe")
	waitJS(t, tab, `document.getElementById("t")?.textContent === "one" && window.gone === true && performance.getEntriesByName(location.origin + "/gone.js")[0]?.responseStatus === 404`)
	write(t, filepath.Join(dir, "index.html"), `<!doctype html><title>app</title><h1 id="t">two</h1>`)
	waitJS(t, tab, `document.getElementById("t")?.textContent === "two"`)
}

// A tab opened under a host name hotserve was not told about shows the
// flag that allows it. The name resolves to 127.0.0.1 inside Chromium only.
func TestBrowserRefusedHostNamesTheFlag(t *testing.T) {
	browser := browserWith(t, chromedp.Flag("host-resolver-rules", "MAP myapp.test 127.0.0.1"))
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), `<!doctype html><title>home</title>`)
	in := startInProcess(t, dir)
	port := in.url[strings.LastIndexByte(in.url, ':')+1:]
	tab := openPage(t, browser, "http://myapp.test:"+port+"/")
	text := eval[string](t, tab, `document.body.innerText`)
	if !strings.Contains(text, "--allow-host myapp.test") {
		t.Errorf("the page does not name the flag: %q", text)
	}
	if eval[bool](t, tab, `!!document.querySelector("script")`) {
		t.Error("the refusal carries a script")
	}
}
