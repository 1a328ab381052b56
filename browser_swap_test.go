package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// burstPage links the stylesheet the test rewrites in bursts, then one that
// must keep overriding it (cascade order), and imports a second one from a
// <style> block.
const burstPage = `<!doctype html>
<html><head><title>burst</title>
<link rel="stylesheet" href="css/burst.css">
<link rel="stylesheet" href="css/after.css">
<style>@import "css/imp.css";</style>
</head><body><h1 id="w">w</h1><p id="gone">gone</p><p id="order">order</p>
<p id="imp">imp</p><p id="gone2">gone2</p></body></html>`

// burstStyles is what the test compares between the tab that lived through
// the bursts and a fresh load of the final files.
const burstStyles = `["w", "gone", "order", "imp", "gone2"].map(id => {
	const c = getComputedStyle(document.getElementById(id));
	return id + ": " + c.letterSpacing + " " + c.color;
}).join("; ")`

// burstState describes the elements and import rules the page holds for
// the two stylesheets, for the test's checks and its failure messages.
const burstState = `(() => {
	const links = Array.from(document.querySelectorAll("link")).map(l => new URL(l.href).pathname);
	const imports = Array.from(document.querySelector("style").sheet.cssRules).map(r => r.href ? new URL(r.href, location.href).pathname : r.cssText);
	return JSON.stringify({links, imports, most: window.most});
})()`

// burstCSS is the i-th version of the two stylesheets; last leaves out the
// rules on #gone and #gone2, which must then stop applying.
func burstCSS(i int, last bool) (string, string) {
	css := fmt.Sprintf("#w { letter-spacing: %dpx }\n#order { color: rgb(255, 0, 0) }\n", i)
	imp := fmt.Sprintf("#imp { letter-spacing: %dpx }\n", i)
	if !last {
		css += "#gone { color: rgb(255, 0, 0) }\n"
		imp += "#gone2 { color: rgb(255, 0, 0) }\n"
	}
	return css, imp
}

func TestBrowserStylesheetBursts(t *testing.T) {
	browser := browser(t)
	dir := site(t)
	write(t, filepath.Join(dir, "burst.html"), burstPage)
	burst, after, imp := filepath.Join(dir, "css", "burst.css"), filepath.Join(dir, "css", "after.css"), filepath.Join(dir, "css", "imp.css")
	write(t, after, "#order { color: rgb(0, 0, 255) }\n")
	css, ic := burstCSS(0, false)
	write(t, burst, css)
	write(t, imp, ic)
	in := startInProcess(t, dir)
	tab := openTab(t, browser, in.url+"/burst.html")
	fresh, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	// The reference loads everything from hotserve: Chromium's memory
	// cache was seen to hand a new document a deleted stylesheet.
	if err := chromedp.Do(fresh, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return chromedp.Void{}, err
	}); err != nil {
		t.Fatal(err)
	}
	mark(t, tab)
	// The most <link> elements for burst.css the page ever held at once:
	// the live one and at most one copy loading.
	eval[bool](t, tab, `window.most = 1, new MutationObserver(() => {
		const n = Array.from(document.querySelectorAll("link")).filter(l => new URL(l.href).pathname === "/css/burst.css").length;
		window.most = Math.max(window.most, n);
	}).observe(document.head, {childList: true}), true`)

	// settled waits until no copy is loading and the tab's computed style
	// equals that of a fresh load of the files as they are now, then checks
	// that one element per stylesheet is left, in its place.
	loads := 0
	settled := func(what string) {
		t.Helper()
		nctx, cancel := context.WithTimeout(fresh, 20*time.Second)
		defer cancel()
		// A new URL each time: a tab asked for the URL it shows may keep
		// its document for a while.
		loads++
		if err := chromedp.Do(nctx, chromedp.Navigate(fmt.Sprintf("%s/burst.html?fresh=%d", in.url, loads))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, fresh, fmt.Sprintf(`document.readyState === "complete" && location.search === "?fresh=%d" && __hotserve.state === "connected"`, loads))
		// The fresh tab may itself get the last change announced, and
		// apply it, after it loaded: both tabs must have seen the same
		// build, with nothing loading.
		var got, want string
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			idle := `__hotserve.swapping ? 0 : __hotserve.build`
			b1, b2 := eval[float64](t, tab, idle), eval[float64](t, fresh, idle)
			got, want = eval[string](t, tab, burstStyles), eval[string](t, fresh, burstStyles)
			if b1 != 0 && b1 == b2 && got == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the tab's style did not become that of a fresh load within 20s:\n got %s\nwant %s\npage: %s",
					what, got, want, eval[string](t, tab, burstState))
			}
		}
		state := eval[string](t, tab, burstState)
		if want := `{"links":["/css/burst.css","/css/after.css"],"imports":["/css/imp.css"],"most":`; !strings.HasPrefix(state, want) {
			t.Fatalf("%s: the page holds %s, want one element per stylesheet, in order", what, state)
		}
		if most := eval[float64](t, tab, `window.most`); most > 2 {
			t.Errorf("%s: the page held %v links for burst.css at once, want at most 2 (the live one and one copy loading)", what, most)
		}
		kept(t, tab, what)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	n := 0
	for round := range 5 {
		// 40 writes at random 0-20 ms intervals, as an editor's autosave or
		// a build tool writing its output in pieces.
		for i := range 40 {
			n++
			css, ic := burstCSS(n, i == 39)
			write(t, burst, css)
			write(t, imp, ic)
			time.Sleep(time.Duration(rng.IntN(21)) * time.Millisecond)
		}
		settled(fmt.Sprintf("round %d", round+1))
		want := fmt.Sprintf("w: %dpx rgb(0, 0, 0); gone: normal rgb(0, 0, 0); order: normal rgb(0, 0, 255); imp: %dpx rgb(0, 0, 0); gone2: normal rgb(0, 0, 0)", n, n)
		if got := eval[string](t, tab, burstStyles); got != want {
			t.Fatalf("round %d: got %s, want %s", round+1, got, want)
		}
	}

	// A deleted stylesheet's rules go away; its element keeps its place in
	// the cascade, so the file coming back applies there again.
	if err := os.Remove(burst); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(imp); err != nil {
		t.Fatal(err)
	}
	settled("after the stylesheets were deleted")
	if got := eval[string](t, tab, `getComputedStyle(document.getElementById("gone")).color + " " + getComputedStyle(document.getElementById("w")).letterSpacing`); got != "rgb(0, 0, 0) normal" {
		t.Errorf("after the stylesheet was deleted #gone and #w have %s, want rgb(0, 0, 0) normal", got)
	}
	css, ic = burstCSS(1000, false)
	write(t, burst, css)
	write(t, imp, ic)
	settled("after the stylesheets came back")
	if got := eval[string](t, tab, `getComputedStyle(document.getElementById("w")).letterSpacing`); got != "1000px" {
		t.Errorf("after the stylesheet came back #w has letter-spacing %s, want 1000px", got)
	}
}
