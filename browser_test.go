package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// These tests drive the client (assets/client.js and assets/worker.js) in
// headless Chromium against hotserve running in this process. They share one
// browser; each subtest serves its own copy of the example site on its own
// port, so its tabs have their own SharedWorker, Web Lock and console.
//
// A test that checks that a tab did NOT reload never waits a fixed time:
// after the change the tab must ignore, it makes a stylesheet change that
// every tab applies in place (restyle), waits until the tab shows it, and
// only then checks that the tab's marker survived. Events arrive in order,
// so by then the ignored change has been handled.

// fixtures are added to the example site for these tests.
var fixtures = map[string]string{
	"styles.html": `<!doctype html>
<html><head><title>styles</title>
<link rel="stylesheet" href="css/a.css">
<link rel="stylesheet" href="css/b.css">
<link rel="stylesheet" href="css/outer.css">
<style>@import "css/imported.css";</style>
</head><body><h1>Styles</h1><p id="p">cascade</p><p id="imported">imported</p><p id="inner">inner</p></body></html>`,
	"css/a.css":        "h1 { color: rgb(255, 0, 0) } p { color: rgb(255, 0, 0) }",
	"css/b.css":        "p { color: rgb(0, 0, 255) }",
	"css/outer.css":    `@import "inner.css";`,
	"css/inner.css":    "#inner { color: rgb(255, 0, 0) }",
	"css/imported.css": "#imported { color: rgb(255, 0, 0) }",

	"images.html": `<!doctype html>
<html><head><title>images</title>
<style>#bg { width: 10px; height: 10px; background-image: url("img/bg.svg") }</style>
</head><body>
<img id="logo" src="img/one.svg" alt="">
<img id="set" srcset="img/set.svg 1x" alt="">
<picture><source srcset="img/pic.svg"><img id="pic" src="img/one.svg" alt=""></picture>
<div id="bg"></div>
</body></html>`,
	"img/one.svg": svg(10, 10),
	"img/set.svg": svg(10, 10),
	"img/pic.svg": svg(10, 10),
	"img/bg.svg":  svg(10, 10),

	// The image that makes this page tall arrives after the load event, too
	// late for the browser's own scroll restoration.
	"long.html": `<!doctype html>
<html><head><title>long</title></head><body style="margin: 0">
<p>top</p><img id="late" alt="">
<script>
addEventListener("load", function () {
  setTimeout(function () { document.getElementById("late").src = "img/tall.svg"; }, 100);
});
</script>
</body></html>`,
	"img/tall.svg": svg(10, 5000),

	"csp.html": `<!doctype html>
<html><head>
<meta http-equiv="Content-Security-Policy" content="script-src 'self'">
<title>csp</title><link rel="stylesheet" href="css/site.css">
</head><body><h1 id="title">CSP</h1><script>window.inline = true</script></body></html>`,

	"frame.html": `<!doctype html>
<html><head><title>frame</title><link rel="stylesheet" href="css/site.css"></head>
<body><h1>Frame</h1><iframe id="f" src="about.html"></iframe></body></html>`,

	"bare.html": `<!doctype html><title>bare</title><link rel="stylesheet" href="css/site.css"><h1 id="title">bare one</h1>`,
}

func svg(w, h int) string {
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d"><rect width="%d" height="%d"/></svg>`, w, h, w, h)
}

// site copies the example site and the fixtures into a new folder.
func site(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("example")); err != nil {
		t.Fatal(err)
	}
	for name, content := range fixtures {
		write(t, filepath.Join(dir, name), content)
	}
	return dir
}

// edit replaces old by new in the file at path.
func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	write(t, path, strings.Replace(string(b), old, new, 1))
}

// restyle rewrites css/site.css so that h1 gets letter-spacing n px; every
// page of the example links it, and applies the change in place.
func restyle(t *testing.T, dir string, n int) {
	t.Helper()
	write(t, filepath.Join(dir, "css", "site.css"), fmt.Sprintf(":root { --accent: #0b7285 }\nh1 { letter-spacing: %dpx }\n", n))
}

func restyled(n int) string {
	return fmt.Sprintf(`getComputedStyle(document.querySelector("h1")).letterSpacing === "%dpx"`, n)
}

// kept checks that the tab was not reloaded since mark and has no reload
// pending.
func kept(t *testing.T, tab context.Context, what string) {
	t.Helper()
	ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](`window.marker === true && !__hotserve.reloading`))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Errorf("%s: the page reloaded (or is about to)", what)
	}
}

// mark sets window.marker, which a reload drops.
func mark(t *testing.T, tabs ...context.Context) {
	t.Helper()
	for _, tab := range tabs {
		if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`window.marker = true`)); err != nil {
			t.Fatal(err)
		}
	}
}

const reloaded = `window.marker === undefined && document.readyState === "complete"`

// openTab opens url in a new tab of the browser, after running setup in it
// (scripts for every new document), and waits until the page has loaded and
// its client is connected. Closing happens when the test ends.
func openTab(t *testing.T, browser context.Context, url string, setup ...chromedp.Action[chromedp.Void]) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab, setup...); err != nil {
		t.Fatal(err)
	}
	nctx, ncancel := context.WithTimeout(tab, 20*time.Second)
	defer ncancel()
	if err := chromedp.Do(nctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
	waitJS(t, tab, `document.readyState === "complete" && window.__hotserve?.state === "connected"`)
	return tab
}

// onNewDocument runs src in every document of the tab before its scripts.
func onNewDocument(src string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return chromedp.Void{}, err
	}
}

var (
	withoutSharedWorker = onNewDocument(`delete window.SharedWorker`)
	withoutWebLocks     = onNewDocument(`delete window.SharedWorker; delete Navigator.prototype.locks`)
)

func eval[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitLog waits until hotserve has logged want, n times if n is given.
func waitLog(t *testing.T, in *instance, want string, n ...int) {
	t.Helper()
	times := 1
	if len(n) > 0 {
		times = n[0]
	}
	for deadline := time.Now().Add(10 * time.Second); strings.Count(in.stderr.String(), want) < times; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("hotserve did not log %q: %q", want, in.stderr.String())
		}
	}
}

func TestBrowserClient(t *testing.T) {
	browser := browser(t)

	t.Run("twelve tabs share one stream through a SharedWorker and all reload", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		tabs := make([]context.Context, 12)
		for i := range tabs {
			tabs[i] = openTab(t, browser, in.url+"/")
		}
		for i, tab := range tabs {
			if mode := eval[string](t, tab, `__hotserve.mode`); mode != "shared-worker" {
				t.Fatalf("tab %d: got mode %q, want shared-worker", i, mode)
			}
		}
		mark(t, tabs...)
		edit(t, filepath.Join(dir, "index.html"), "Hello from hotserve", "Twelve")
		for _, tab := range tabs {
			waitJS(t, tab, reloaded+` && document.getElementById("title").textContent === "Twelve"`)
		}
		// The server counts its open streams when it logs a change.
		waitLog(t, in, "changed: index.html (1 browser connected)")
	})

	t.Run("twelve tabs share one stream through the tab holding the Web Lock", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		tabs := make([]context.Context, 12)
		for i := range tabs {
			tabs[i] = openTab(t, browser, in.url+"/", withoutSharedWorker)
		}
		leader := -1
		for i, tab := range tabs {
			switch mode := eval[string](t, tab, `__hotserve.mode`); {
			case mode == "leader" && leader < 0:
				leader = i
			case mode != "follower":
				t.Fatalf("tab %d: got mode %q, want one leader and followers", i, mode)
			}
		}
		if leader < 0 {
			t.Fatal("no tab leads")
		}
		mark(t, tabs...)
		edit(t, filepath.Join(dir, "index.html"), "Hello from hotserve", "Twelve")
		for _, tab := range tabs {
			waitJS(t, tab, reloaded+` && document.getElementById("title").textContent === "Twelve" && __hotserve.state === "connected"`)
		}
		waitLog(t, in, "changed: index.html (1 browser connected)")

		// Close whichever tab leads now; another must take over within a
		// second, and the rest still reload.
		var rest []context.Context
		var lead context.Context
		for _, tab := range tabs {
			if lead == nil && eval[string](t, tab, `__hotserve.mode`) == "leader" {
				lead = tab
			} else {
				rest = append(rest, tab)
			}
		}
		if lead == nil {
			t.Fatal("no tab leads after the reload")
		}
		chromedp.Cancel(lead)
		start := time.Now()
		for leads := false; !leads; {
			for _, tab := range rest {
				if eval[string](t, tab, `__hotserve.mode`) == "leader" {
					leads = true
				}
			}
			if time.Since(start) > time.Second {
				t.Fatal("no tab took over within 1s")
			}
		}
		t.Logf("a new leader took over after %v", time.Since(start))
		mark(t, rest...)
		edit(t, filepath.Join(dir, "index.html"), "Twelve", "Eleven")
		for _, tab := range rest {
			waitJS(t, tab, reloaded+` && document.getElementById("title").textContent === "Eleven"`)
		}
		waitLog(t, in, "changed: index.html", 2)
		if n := strings.Count(in.stderr.String(), "changed: index.html (1 browser connected)"); n != 2 {
			t.Errorf("got %d changes logged with one stream open, want 2: %q", n, in.stderr.String())
		}
	})

	t.Run("without SharedWorker and Web Locks a tab holds its own stream", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/", withoutWebLocks)
		if mode := eval[string](t, tab, `__hotserve.mode`); mode != "direct" {
			t.Fatalf("got mode %q, want direct", mode)
		}
		restyle(t, dir, 1)
		waitJS(t, tab, restyled(1))
		waitLog(t, in, "changed: css/site.css (1 browser connected)")

		// A hidden tab lets go of its connection, and takes it up again
		// when it is shown.
		eval[bool](t, tab, `dispatchEvent(new PageTransitionEvent("pagehide", {persisted: true})), true`)
		restyle(t, dir, 2)
		waitLog(t, in, "changed: css/site.css (0 browsers connected)")
		eval[bool](t, tab, `dispatchEvent(new PageTransitionEvent("pageshow", {persisted: true})), true`)
		waitJS(t, tab, restyled(2)+` && __hotserve.state === "connected"`)
		restyle(t, dir, 3)
		waitJS(t, tab, restyled(3))
		waitLog(t, in, "changed: css/site.css (1 browser connected)", 2)

		mark(t, tab)
		edit(t, filepath.Join(dir, "index.html"), "Hello from hotserve", "Direct")
		waitJS(t, tab, reloaded+` && document.getElementById("title").textContent === "Direct"`)
	})

	t.Run("a stylesheet change applies in place, keeping the cascade and the page's state", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/styles.html")
		mark(t, tab)
		color := func(id string) string {
			return fmt.Sprintf(`getComputedStyle(document.getElementById(%q)).color`, id)
		}
		// The original link may go only once its copy has loaded: no moment
		// without the styles.
		eval[bool](t, tab, `window.flash = null, new MutationObserver(ms => ms.forEach(m => m.removedNodes.forEach(n => {
			if (n.localName === "link") window.flash = !(m.nextSibling && m.nextSibling.sheet);
		}))).observe(document.head, {childList: true}), true`)
		// b.css, linked after a.css, keeps overriding p: the new copy of
		// a.css must take a.css's place, not go last.
		write(t, filepath.Join(dir, "css", "a.css"), "h1 { color: rgb(0, 128, 0) } p { color: rgb(0, 128, 0) }")
		waitJS(t, tab, `getComputedStyle(document.querySelector("h1")).color === "rgb(0, 128, 0)"`)
		if got := eval[string](t, tab, color("p")); got != "rgb(0, 0, 255)" {
			t.Errorf("#p: got %s, want b.css's rgb(0, 0, 255): the cascade order changed", got)
		}
		links := eval[[]string](t, tab, `Array.from(document.querySelectorAll("link")).map(l => new URL(l.href).pathname)`)
		if want := []string{"/css/a.css", "/css/b.css", "/css/outer.css"}; fmt.Sprint(links) != fmt.Sprint(want) {
			t.Errorf("got links %v, want %v: one of each, in order", links, want)
		}
		waitJS(t, tab, `window.flash !== null`)
		if eval[bool](t, tab, `window.flash`) {
			t.Error("the original link was removed before its copy had loaded")
		}
		kept(t, tab, "after a.css changed")

		write(t, filepath.Join(dir, "css", "imported.css"), "#imported { color: rgb(0, 128, 0) }")
		waitJS(t, tab, color("imported")+` === "rgb(0, 128, 0)"`)
		kept(t, tab, "after a stylesheet a <style> imports changed")

		write(t, filepath.Join(dir, "css", "inner.css"), "#inner { color: rgb(0, 128, 0) }")
		waitJS(t, tab, color("inner")+` === "rgb(0, 128, 0)"`)
		kept(t, tab, "after a stylesheet a linked stylesheet imports changed")
	})

	t.Run("an image change applies in place", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/images.html")
		waitJS(t, tab, `["logo", "set", "pic"].every(id => document.getElementById(id).naturalWidth === 10)`)
		mark(t, tab)
		for _, name := range []string{"one.svg", "set.svg", "pic.svg", "bg.svg"} {
			write(t, filepath.Join(dir, "img", name), svg(100, 10))
		}
		waitJS(t, tab, `["logo", "set", "pic"].every(id => document.getElementById(id).naturalWidth === 100)`)
		waitJS(t, tab, `getComputedStyle(document.getElementById("bg")).backgroundImage.includes("bg.svg?hotserve=")`)
		kept(t, tab, "after images changed")
	})

	t.Run("a changed page updates the tabs showing it or framing it, and no others", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		home := openTab(t, browser, in.url+"/")
		about := openTab(t, browser, in.url+"/about.html")
		framing := openTab(t, browser, in.url+"/frame.html")
		mark(t, home, about, framing)

		// "/" shows index.html.
		edit(t, filepath.Join(dir, "index.html"), "Hello from hotserve", "Home changed")
		waitJS(t, home, reloaded+` && document.getElementById("title").textContent === "Home changed"`)
		restyle(t, dir, 1)
		for _, tab := range []context.Context{home, about, framing} {
			waitJS(t, tab, restyled(1))
		}
		kept(t, about, "about.html after index.html changed")
		kept(t, framing, "frame.html after index.html changed")

		// about.html runs no script of its own: it is morphed in its tab,
		// and in the frame by the frame's own client.
		mark(t, home, about, framing)
		edit(t, filepath.Join(dir, "about.html"), "<h1>About</h1>", "<h1>About changed</h1>")
		waitJS(t, about, `document.querySelector("h1").textContent === "About changed"`)
		waitJS(t, framing, `document.getElementById("f").contentDocument?.querySelector("h1")?.textContent === "About changed"`)
		kept(t, about, "about.html after it changed (a morph)")
		kept(t, framing, "frame.html after the page in its frame changed")
		restyle(t, dir, 2)
		waitJS(t, home, restyled(2))
		kept(t, home, "index.html after about.html changed")
	})

	t.Run("a script reloads the pages that use it and no others", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		home := openTab(t, browser, in.url+"/") // runs js/app.js
		about := openTab(t, browser, in.url+"/about.html")
		mark(t, home, about)
		write(t, filepath.Join(dir, "js", "app.js"), `document.getElementById("clock").textContent = "new script";`)
		waitJS(t, home, reloaded+` && document.getElementById("clock").textContent === "new script"`)
		restyle(t, dir, 1)
		waitJS(t, about, restyled(1))
		kept(t, about, "about.html after js/app.js changed")

		// A file no page uses changes nothing.
		mark(t, home)
		write(t, filepath.Join(dir, "data.json"), `{"unused": true}`)
		restyle(t, dir, 2)
		waitJS(t, home, restyled(2))
		kept(t, home, "index.html after an unused file appeared")
	})

	t.Run("the scroll position survives a reload, also when the page grows after load", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/long.html")
		waitJS(t, tab, `document.getElementById("late").naturalHeight === 5000`)
		waitJS(t, tab, `scrollTo(0, 2000), scrollY === 2000`)
		mark(t, tab)
		edit(t, filepath.Join(dir, "long.html"), "<p>top</p>", "<p>top, changed</p>")
		waitJS(t, tab, reloaded+` && document.getElementById("late").naturalHeight === 5000 && scrollY === 2000`)
	})

	t.Run("a restart with nothing changed does not reload, one after a change reloads once", func(t *testing.T) {
		dir := site(t)
		port := freePort(t)
		// The last --port given wins, so every start has the same address.
		in := startInProcess(t, "--port", port, dir)
		url := in.url
		tab := openTab(t, browser, url+"/")
		console := record(tab)
		// After an update in place the page's data-build is older than the
		// server's build; only the last build the tab saw counts.
		restyle(t, dir, 1)
		waitJS(t, tab, restyled(1))
		mark(t, tab)

		in.stop()
		waitJS(t, tab, `__hotserve.state === "lost"`)
		in = startInProcess(t, "--port", port, dir)
		if in.url != url {
			t.Fatalf("restarted at %s, want %s", in.url, url)
		}
		waitJS(t, tab, `__hotserve.state === "connected"`)
		restyle(t, dir, 2)
		waitJS(t, tab, restyled(2))
		kept(t, tab, "after a restart with nothing changed")

		in.stop()
		waitJS(t, tab, `__hotserve.state === "lost"`)
		edit(t, filepath.Join(dir, "index.html"), "Hello from hotserve", "Changed while stopped")
		if in = startInProcess(t, "--port", port, dir); in.url != url {
			t.Fatalf("restarted at %s, want %s", in.url, url)
		}
		waitJS(t, tab, reloaded+` && document.getElementById("title").textContent === "Changed while stopped" && __hotserve.state === "connected"`)
		mark(t, tab)
		restyle(t, dir, 3)
		waitJS(t, tab, restyled(3))
		kept(t, tab, "after the reload that followed the restart")

		// One line per state change, however long hotserve was away.
		got := console.lines()
		for prefix, want := range map[string]int{"[hotserve] lost": 2, "[hotserve] reloading: ": 1, "[hotserve] connected": 3} {
			n := 0
			for _, l := range got {
				if strings.HasPrefix(l, prefix) {
					n++
				}
			}
			if n != want {
				t.Errorf("got %d console lines starting %q, want %d: %q", n, prefix, want, got)
			}
		}
	})

	t.Run("a page back from the back/forward cache catches up, and reloads if it missed an update", func(t *testing.T) {
		// Pages are sent with no-store, which Chromium keeps out of the
		// cache; the test sends the pagehide and pageshow events a cached
		// page gets.
		dir := site(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/")
		// Another tab of the same worker has seen an event once it got it.
		watcher := openTab(t, browser, in.url+"/about.html")
		st, _ := in.events(t)
		change := func(f func()) {
			f()
			ev := st.Next(t, 10*time.Second)
			waitJS(t, watcher, fmt.Sprintf(`__hotserve.build === %d`, ev.Data.Build))
		}
		hide := `dispatchEvent(new PageTransitionEvent("pagehide", {persisted: true})), true`
		show := `dispatchEvent(new PageTransitionEvent("pageshow", {persisted: true})), true`
		mark(t, tab)

		seen := eval[float64](t, tab, `__hotserve.build`)
		eval[bool](t, tab, hide)
		change(func() { restyle(t, dir, 1) })
		// The build a page has seen moves as soon as it takes an event in,
		// before any stylesheet loads.
		if got := eval[float64](t, tab, `__hotserve.build`); got != seen {
			t.Fatalf("a hidden page took an update in (build %v → %v)", seen, got)
		}
		eval[bool](t, tab, show)
		waitJS(t, tab, restyled(1))
		kept(t, tab, "after one update in place while hidden")

		eval[bool](t, tab, hide)
		change(func() { restyle(t, dir, 2) })
		change(func() { restyle(t, dir, 3) })
		eval[bool](t, tab, show)
		waitJS(t, tab, reloaded+` && `+restyled(3))

		mark(t, tab)
		eval[bool](t, tab, hide)
		change(func() { edit(t, filepath.Join(dir, "index.html"), "Hello from hotserve", "Changed while hidden") })
		eval[bool](t, tab, show)
		waitJS(t, tab, reloaded+` && document.getElementById("title").textContent === "Changed while hidden"`)
	})

	t.Run("a page whose policy allows only its own scripts still updates", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/csp.html")
		if eval[bool](t, tab, `window.inline === true`) {
			t.Fatal("the page's policy is not in force: its inline script ran")
		}
		mark(t, tab)
		restyle(t, dir, 1)
		waitJS(t, tab, restyled(1))
		kept(t, tab, "after a stylesheet change")
		edit(t, filepath.Join(dir, "csp.html"), "<h1 id=\"title\">CSP</h1>", "<h1 id=\"title\">CSP changed</h1>")
		waitJS(t, tab, reloaded+` && document.getElementById("title").textContent === "CSP changed"`)
	})

	t.Run("a page in a frame shares the browser's one stream", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/frame.html")
		waitJS(t, tab, `document.getElementById("f").contentWindow.__hotserve?.mode === "shared-worker" && __hotserve.mode === "shared-worker"`)
		mark(t, tab)
		restyle(t, dir, 1)
		waitJS(t, tab, restyled(1)+` && getComputedStyle(document.getElementById("f").contentDocument.querySelector("h1")).letterSpacing === "1px"`)
		kept(t, tab, "after a stylesheet change")
		waitLog(t, in, "changed: css/site.css (1 browser connected)")
	})

	t.Run("events in quick succession cost one reload", func(t *testing.T) {
		dir := site(t)
		// An HTML change morphs at once; --reload-html takes the path that
		// waits to merge events into one reload.
		in := startInProcess(t, "--reload-html", dir)
		tab := openTab(t, browser, in.url+"/about.html")
		console := record(tab)
		// A build tool announcing changes 4 ms apart: the trigger skips
		// the watcher's debounce, so only the client's 10 ms wait can merge
		// them. 4 ms is longer than a 0 ms timer takes to fire, so without
		// the wait every event would start its own reload. A scheduling
		// stall can space two events out, so up to three rounds are tried.
		merged := 0
		for round := 0; round < 3 && merged < 2; round++ {
			mark(t, tab)
			before := len(console.lines())
			tick := time.NewTicker(4 * time.Millisecond)
			for range 5 {
				<-tick.C
				resp, err := http.Post(in.url+"/__hotserve/reload", "application/json", strings.NewReader(`{"paths":["about.html"]}`))
				if err != nil {
					tick.Stop()
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			tick.Stop()
			waitJS(t, tab, reloaded)
			// Barrier: once this restyle shows, every earlier event was
			// handled.
			restyle(t, dir, 10+round)
			waitJS(t, tab, restyled(10+round)+` && !__hotserve.reloading`)
			// The client logs a line when its wait ends and the reload
			// starts, saying how many events it waited through. Only the
			// first counts: events that reach the page while it unloads
			// log again.
			for _, line := range console.lines()[before:] {
				if rest, ok := strings.CutPrefix(line, "[hotserve] reloading: "); ok {
					n := 1
					if _, after, ok := strings.Cut(rest, " (after "); ok {
						fmt.Sscanf(after, "%d events)", &n)
					}
					merged = max(merged, n)
					break
				}
			}
		}
		if merged < 2 {
			t.Errorf("no reload waited through more than %d event: events 4 ms apart were not merged", merged)
		}
	})

	t.Run("a lost connection is retried with growing delays, not hammered", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/")
		console := record(tab)
		addr := strings.TrimPrefix(in.url, "http://")
		if code := in.stop(); code != 0 {
			t.Fatalf("exit code %d", code)
		}
		// Something that refuses every attempt stands in for the stopped
		// server; it counts when each attempt came.
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var attempts []time.Duration
		start := time.Now()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				attempts = append(attempts, time.Since(start))
				mu.Unlock()
				c.Close()
			}
		}()
		// Watching for a while is the point here: the test counts attempts
		// per unit of time.
		time.Sleep(6 * time.Second)
		ln.Close()
		mu.Lock()
		got := slices.Clone(attempts)
		mu.Unlock()
		// Retrying at the server's 500 ms forever would make about 12.
		if len(got) < 2 || len(got) > 5 {
			t.Errorf("got %d attempts in 6 s (%v), want 2 to 5", len(got), got)
		}
		if n := len(got); n >= 2 && got[n-1]-got[n-2] < 1500*time.Millisecond {
			t.Errorf("the last two attempts came %v apart (%v), want the delay to have grown", got[n-1]-got[n-2], got)
		}
		lost := 0
		for _, line := range console.lines() {
			if line == "[hotserve] lost" {
				lost++
			}
		}
		if lost != 1 {
			t.Errorf("got %d \"[hotserve] lost\" lines, want 1: %q", lost, console.lines())
		}
	})

	t.Run("a file put back with an older time while stopped reloads the page after a restart", func(t *testing.T) {
		dir := site(t)
		port := freePort(t)
		in := startInProcess(t, "--port", port, dir)
		url := in.url
		tab := openTab(t, browser, url+"/")
		restart := func(change func()) {
			t.Helper()
			in.stop()
			waitJS(t, tab, `__hotserve.state === "lost"`)
			change()
			if in = startInProcess(t, "--port", port, dir); in.url != url {
				t.Fatalf("restarted at %s, want %s", in.url, url)
			}
		}
		// As cp -p or git stash pop do: other content, an older time. The
		// newest time in the folder, the build, does not move up.
		mark(t, tab)
		restart(func() {
			index := filepath.Join(dir, "index.html")
			edit(t, index, "Hello from hotserve", "Restored from a backup")
			old := time.Now().Add(-48 * time.Hour)
			if err := os.Chtimes(index, old, old); err != nil {
				t.Fatal(err)
			}
		})
		waitJS(t, tab, reloaded+` && document.getElementById("title").textContent === "Restored from a backup" && __hotserve.state === "connected"`)

		mark(t, tab)
		restart(func() {})
		waitJS(t, tab, `__hotserve.state === "connected"`)
		restyle(t, dir, 1)
		waitJS(t, tab, restyled(1))
		kept(t, tab, "after a restart with nothing changed")
	})

	t.Run("a page without head or body updates like any other", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/bare.html")
		mark(t, tab)
		restyle(t, dir, 1)
		waitJS(t, tab, restyled(1))
		kept(t, tab, "after a stylesheet change")
		edit(t, filepath.Join(dir, "bare.html"), "bare one", "bare two")
		waitJS(t, tab, `document.getElementById("title").textContent === "bare two"`)
		kept(t, tab, "after an edit (a morph)")
	})
}

// freePort returns a port that was free a moment ago, for a test that
// restarts hotserve on the same address.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// consoleLog collects what a tab writes to its console.
type consoleLog struct {
	mu  sync.Mutex
	got []string
}

func (c *consoleLog) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

func record(tab context.Context) *consoleLog {
	c := &consoleLog{}
	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.got = append(c.got, m.Text)
			c.mu.Unlock()
		}
	}()
	return c
}
