package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

var errNoChromium = errors.New("chromium is not installed: apt-get install -y chromium")

// epochMillis is the wall clock in milliseconds, the same clock as a page's
// performance.timeOrigin + performance.now().
func epochMillis() float64 { return float64(time.Now().UnixNano()) / 1e6 }

// eval runs expr in the tab until it returns true, tolerating the errors a
// reload causes, for at most limit.
func waitTrue(ctx context.Context, expr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return nil
		}
		last = err
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("%s: not true within %v (%v)", expr, limit, last)
}

func evalFloat(ctx context.Context, expr string) (float64, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[float64](expr))
}

const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>bench</title><link rel="stylesheet" href="site.css">
<script>sessionStorage.loads = String((+sessionStorage.loads || 0) + 1)</script></head>
<body><h1 id="v">%s</h1></body></html>
`

// morphPage has no script of its own, so an edit of it morphs; %s is the
// heading's text.
const morphPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>morph</title><link rel="stylesheet" href="site.css"></head>
<body><h1 id="v">%s</h1><ul><li>one</li><li>two</li><li>three</li></ul><input id="in"></body></html>
`

// browserRows measures what a developer sees in headless Chromium.
func browserRows(bin, work string, runs int) ([]*row, error) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		return nil, errNoChromium
	}
	dir := filepath.Join(work, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	index, css := filepath.Join(dir, "index.html"), filepath.Join(dir, "site.css")
	os.WriteFile(index, fmt.Appendf(nil, browserPage, "start"), 0o644)
	os.WriteFile(css, []byte("h1 { color: rgb(0, 0, 0) }\n"), 0o644)
	hot, err := startProc(bin, "--quiet", "--port", "0", dir)
	if err != nil {
		return nil, err
	}
	defer hot.stop()

	userData, err := os.MkdirTemp(work, "chromium")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(userData), chromedp.Flag("disable-quic", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.Navigate(hot.url+"/")); err != nil {
		return nil, err
	}
	ctx, cancelRun := context.WithTimeout(bctx, 10*time.Minute)
	defer cancelRun()

	reload := &row{name: "HTML change → reloaded page `load` in headless Chromium (a page with a script of its own)", target: "≤ 60 ms", unit: "ms", ok: atMost(60),
		note: "median of 5 changes per run"}
	burst := &row{name: "50 writes over 100 ms → reloads of an open page", target: "1, last content shown", unit: "", ok: atMost(1)}
	style := &row{name: "CSS change → new computed style in headless Chromium", target: "≤ 10 ms", unit: "ms", ok: atMost(10)}
	cssSaves := &row{name: "one stylesheet save → swaps in an open page (write in place, and write to a temporary file then rename)", target: "1", unit: "", ok: atMost(1),
		note: "the most of 10 saves per run, 5 of each kind"}
	cssBurst := &row{name: "50 stylesheet writes over 100 ms → stylesheet links left in the page", target: "1, last style shown", unit: "", ok: atMost(1)}
	version, cssReloads := 0, 0
	for range runs {
		// HTML: from the write to the reloaded page's load event.
		one, startPart := &row{}, &row{}
		for range 5 {
			version++
			want := fmt.Sprintf("v%d", version)
			wrote := epochMillis()
			if err := os.WriteFile(index, fmt.Appendf(nil, browserPage, want), 0o644); err != nil {
				return nil, err
			}
			if err := waitTrue(ctx, fmt.Sprintf(`document.getElementById("v")?.textContent === %q && performance.getEntriesByType("navigation")[0].loadEventEnd > 0`, want), 20*time.Second); err != nil {
				return nil, err
			}
			loaded, err := evalFloat(ctx, `performance.timeOrigin + performance.getEntriesByType("navigation")[0].loadEventEnd`)
			if err != nil {
				return nil, err
			}
			started, err := evalFloat(ctx, `performance.timeOrigin`)
			if err != nil {
				return nil, err
			}
			one.add(loaded - wrote)
			startPart.add(started - wrote)
		}
		reload.add(one.median())
		reload.note = fmt.Sprintf("median of 5 changes per run; of the last run's median, %.1f ms passed before the reload began", startPart.median())

		// A build that writes the page 50 times over 100 ms.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.loads = "0"`)); err != nil {
			return nil, err
		}
		last, err := writeBurst(index, browserPage, "v", &version)
		if err != nil {
			return nil, err
		}
		shown := waitTrue(ctx, fmt.Sprintf(`document.getElementById("v")?.textContent === %q`, last), 20*time.Second) == nil
		// Reloads still under way would show up within this window.
		time.Sleep(time.Second)
		loads, err := evalFloat(ctx, `+sessionStorage.loads`)
		if err != nil {
			return nil, err
		}
		burst.add(loads)
		if !shown {
			burst.note = "the last content was not shown"
		}

		// CSS: from the write to the moment the new rule applies, ten
		// changes per run.
		one, parts := &row{}, make([]*row, len(cssParts))
		for i := range parts {
			parts[i] = &row{}
		}
		how := "swapped in place"
		for range 10 {
			version++
			ms, split, err := cssApplied(ctx, css, version)
			if err != nil {
				return nil, err
			}
			one.add(ms)
			if split == nil {
				how = "by a full reload"
				continue
			}
			for i, v := range split {
				parts[i].add(v)
			}
		}
		style.add(one.median())
		style.note = how + "; median of 10 changes per run; last run's medians, in ms after the write:"
		for i, p := range cssParts {
			style.note += fmt.Sprintf(" %s %.1f", p, parts[i].median())
		}

		most, err := cssSaved(ctx, css, &version)
		if err != nil {
			return nil, err
		}
		cssSaves.add(most)
		links, swaps, reloads, err := cssBursted(ctx, css, &version)
		if err != nil {
			return nil, err
		}
		cssBurst.add(links)
		cssBurst.note = fmt.Sprintf("last run: %d swaps began during the burst", swaps)
		cssReloads += reloads
		if cssReloads > 0 {
			cssBurst.note += fmt.Sprintf("; **the page reloaded** %d times in all runs", cssReloads)
		}
	}
	morphs, err := morphRows(bctx, hot.url, dir, runs)
	if err != nil {
		return nil, err
	}
	return append([]*row{reload, burst, style, cssSaves, cssBurst}, morphs...), nil
}

// morphRows measures HTML edits that morph the open page: the time to new
// content, and how many morphs a burst and a single save cause.
func morphRows(browser context.Context, url, dir string, runs int) ([]*row, error) {
	page := filepath.Join(dir, "morph.html")
	if err := os.WriteFile(page, fmt.Appendf(nil, morphPage, "start"), 0o644); err != nil {
		return nil, err
	}
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(url+"/morph.html")); err != nil {
		return nil, err
	}
	ctx, cancelRun := context.WithTimeout(tab, 10*time.Minute)
	defer cancelRun()
	if err := waitTrue(ctx, `window.__hotserve?.state === "connected"`, 20*time.Second); err != nil {
		return nil, err
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.marker = true`)); err != nil {
		return nil, err
	}
	shown := &row{name: "HTML change → new content in the DOM by a morph in headless Chromium", target: "≤ 20 ms", unit: "ms", ok: atMost(20),
		note: "median of 10 changes per run; no reload"}
	burst := &row{name: "50 writes over 100 ms → morphs of an open page", target: "1, last content shown", unit: "", ok: atMost(1)}
	saves := &row{name: "one save → updates of an open page (write in place, and write to a temporary file then rename)", target: "1", unit: "", ok: atMost(1),
		note: "the most of 10 saves per run, 5 of each kind"}
	version := 0
	morphs := func() (float64, error) { return evalFloat(ctx, `__hotserve.morphs`) }
	settle := func() (float64, error) {
		// Morphs still under way would show up within this window.
		time.Sleep(300 * time.Millisecond)
		if err := waitTrue(ctx, `!__hotserve.morphing && window.marker === true`, 20*time.Second); err != nil {
			return 0, err
		}
		return morphs()
	}
	for range runs {
		one := &row{}
		for range 10 {
			version++
			want := fmt.Sprintf("m%d", version)
			watch := fmt.Sprintf(`(() => { window.__at = 0; const h = document.getElementById("v");
				new MutationObserver((ms, o) => { if (h.textContent === %q) { window.__at = performance.timeOrigin + performance.now(); o.disconnect(); } })
					.observe(h, {childList: true, characterData: true, subtree: true}); return true; })()`, want)
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](watch)); err != nil {
				return nil, err
			}
			wrote := epochMillis()
			if err := os.WriteFile(page, fmt.Appendf(nil, morphPage, want), 0o644); err != nil {
				return nil, err
			}
			if err := waitTrue(ctx, `window.__at > 0 && window.marker === true`, 20*time.Second); err != nil {
				return nil, err
			}
			at, err := evalFloat(ctx, `window.__at`)
			if err != nil {
				return nil, err
			}
			one.add(at - wrote)
		}
		shown.add(one.median())

		before, err := settle()
		if err != nil {
			return nil, err
		}
		last, err := writeBurst(page, morphPage, "m", &version)
		if err != nil {
			return nil, err
		}
		ok := waitTrue(ctx, fmt.Sprintf(`document.getElementById("v")?.textContent === %q`, last), 20*time.Second) == nil
		after, err := settle()
		if err != nil {
			return nil, err
		}
		burst.add(after - before)
		if !ok {
			burst.note = "the last content was not shown"
		}

		most := 0.0
		for i := range 10 {
			before := after
			version++
			if err := save(page, fmt.Appendf(nil, morphPage, fmt.Sprintf("m%d", version)), i%2 == 1); err != nil {
				return nil, err
			}
			if err := waitTrue(ctx, fmt.Sprintf(`document.getElementById("v")?.textContent === "m%d"`, version), 20*time.Second); err != nil {
				return nil, err
			}
			if after, err = settle(); err != nil {
				return nil, err
			}
			most = max(most, after-before)
		}
		saves.add(most)
	}
	return []*row{shown, burst, saves}, nil
}

// cssParts names what cssApplied's split reports, in order.
var cssParts = []string{"event reached the page", "fetch began", "request sent", "response ended", "new connections (of 1)"}

// cssApplied changes the stylesheet's colour and returns the milliseconds
// until the page's <h1> has it and, when the stylesheet was swapped in place,
// the milliseconds after the write of each step in cssParts (the last one a
// count: 1 if the browser opened a connection for the fetch). split is nil
// when the page reloaded instead.
func cssApplied(ctx context.Context, css string, n int) (ms float64, split []float64, err error) {
	color := fmt.Sprintf("rgb(%d, 0, 0)", 1+n%254)
	watch := fmt.Sprintf(`(() => {
		window.__want = %q; window.__applied = 0; window.__event = 0;
		const check = () => { if (getComputedStyle(document.getElementById("v")).color === window.__want && !window.__applied) window.__applied = performance.timeOrigin + performance.now(); };
		new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes) if (n.tagName === "LINK") n.addEventListener("load", check); })
			.observe(document.head, {childList: true});
		if (!window.__hooked) {
			window.__hooked = true;
			const log = console.log;
			console.log = (...a) => { if (!window.__event && String(a[0]).startsWith("[hotserve] updated")) window.__event = performance.timeOrigin + performance.now(); log(...a); };
		}
		return true; })()`, color)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](watch)); err != nil {
		return 0, nil, err
	}
	wrote := epochMillis()
	if err := os.WriteFile(css, fmt.Appendf(nil, "h1 { color: %s }\n", color), 0o644); err != nil {
		return 0, nil, err
	}
	if err := waitTrue(ctx, fmt.Sprintf(`getComputedStyle(document.getElementById("v")).color === %q`, color), 20*time.Second); err != nil {
		return 0, nil, err
	}
	applied, err := evalFloat(ctx, `window.__applied || 0`)
	if err != nil {
		return 0, nil, err
	}
	if applied > 0 {
		// The client logs "updated" right after it inserted the new
		// <link>, which is when the event has been handled.
		steps, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
			const e = performance.getEntriesByType("resource").filter(e => e.name.includes("site.css?")).pop();
			const t = performance.timeOrigin;
			return e ? [window.__event, t + e.startTime, t + e.requestStart, t + e.responseEnd, e.connectEnd > e.connectStart ? 1 : 0] : [];
		})()`))
		if err != nil || len(steps) != len(cssParts) {
			return applied - wrote, nil, fmt.Errorf("no Resource Timing entry for the new stylesheet (%v)", err)
		}
		for i := range steps[:len(steps)-1] {
			steps[i] -= wrote
		}
		return applied - wrote, steps, nil
	}
	// The page reloaded instead: the rule applied when the new page's
	// stylesheet arrived.
	applied, err = evalFloat(ctx, `performance.timeOrigin + performance.getEntriesByType("resource").find(e => e.name.includes("site.css")).responseEnd`)
	if err != nil {
		return 0, nil, err
	}
	return applied - wrote, nil, nil
}

// countSwaps makes the tab count the stylesheet copies the client adds to
// its <head> in window.__swaps, once per document.
const countSwaps = `(() => { if (!window.__counting) { window.__counting = true; window.__swaps = 0;
	new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes) if (n.tagName === "LINK") window.__swaps++; })
		.observe(document.head, {childList: true}); } return true; })()`

// cssSaved saves the stylesheet 10 times, 5 times in place and 5 times as
// a temporary file renamed over it, and returns the most swaps one save
// caused.
func cssSaved(ctx context.Context, css string, version *int) (float64, error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](countSwaps)); err != nil {
		return 0, err
	}
	most := 0.0
	for i := range 10 {
		before, err := evalFloat(ctx, `window.__swaps`)
		if err != nil {
			return 0, err
		}
		*version++
		color := fmt.Sprintf("rgb(%d, 0, 0)", 1+*version%254)
		if err := save(css, fmt.Appendf(nil, "h1 { color: %s }\n", color), i%2 == 1); err != nil {
			return 0, err
		}
		if err := waitTrue(ctx, fmt.Sprintf(`getComputedStyle(document.getElementById("v")).color === %q && !__hotserve.swapping`, color), 20*time.Second); err != nil {
			return 0, err
		}
		// Swaps still under way would show up within this window.
		time.Sleep(300 * time.Millisecond)
		after, err := evalFloat(ctx, `window.__swaps`)
		if err != nil {
			return 0, err
		}
		most = max(most, after-before)
	}
	return most, nil
}

// cssBursted writes the stylesheet 50 times over 100 ms and returns how
// many of its links the page has once the last style shows, how many
// swaps began, and how many times the page reloaded instead (a tab reloads
// when its event stream skipped a batch).
func cssBursted(ctx context.Context, css string, version *int) (links float64, swaps, reloads int, err error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](countSwaps)); err != nil {
		return 0, 0, 0, err
	}
	before, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[window.__swaps, +sessionStorage.loads]`))
	if err != nil {
		return 0, 0, 0, err
	}
	last, err := writeBurst(css, "h1 { color: rgb(0, 0, 0); --v: %s }\n", "c", version)
	if err != nil {
		return 0, 0, 0, err
	}
	if err := waitTrue(ctx, fmt.Sprintf(`getComputedStyle(document.getElementById("v")).getPropertyValue("--v").trim() === %q && !__hotserve.swapping`, last), 20*time.Second); err != nil {
		return 0, 0, 0, err
	}
	time.Sleep(300 * time.Millisecond)
	after, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[window.__swaps || 0, +sessionStorage.loads]`))
	if err != nil {
		return 0, 0, 0, err
	}
	links, err = evalFloat(ctx, `document.querySelectorAll('link[rel=stylesheet][href*="site.css"]').length`)
	return links, int(after[0] - before[0]), int(after[1] - before[1]), err
}

// save writes content to path as an editor saves: in place, or, if
// renamed, to a temporary file renamed over it.
func save(path string, content []byte, renamed bool) error {
	if !renamed {
		return os.WriteFile(path, content, 0o644)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeBurst writes page 50 times over 100 ms, as a build tool might, each
// time with the next version (prefix and a number) in format's one verb,
// and returns the last version written.
func writeBurst(page, format, prefix string, version *int) (string, error) {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	var last string
	for range 50 {
		<-tick.C
		*version++
		last = fmt.Sprintf("%s%d", prefix, *version)
		if err := os.WriteFile(page, fmt.Appendf(nil, format, last), 0o644); err != nil {
			return "", err
		}
	}
	return last, nil
}
