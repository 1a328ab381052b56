package main

import (
	"bytes"
	"context"
	binenc "encoding/binary"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// morphPage holds every kind of state a morph must keep. %s is the title
// text, the part of the page the tests edit.
const morphPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>morph</title>
<link rel="stylesheet" href="m.css"></head>
<body>
<h1 id="title">%s</h1>
<div id="panel" style="height: 100px; overflow: auto"><div style="height: 2000px">tall</div></div>
<input id="name" value="">
<textarea id="notes"></textarea>
<select id="pick"><option>a</option><option>b</option><option>c</option></select>
<details id="more"><summary>more</summary>inside</details>
<dialog id="dlg">a dialog</dialog>
<canvas id="cv" width="10" height="10"></canvas>
<audio id="snd" src="tone.wav" loop></audio>
<ul id="list"><li>one</li><li>two</li><li>three</li></ul>
<p id="gone">to be removed</p>
<p id="text">some text to select</p>
<div style="height: 3000px"></div>
</body></html>
`

// wav is a second of a quiet tone, 8 kHz 8-bit mono, for an <audio> to play.
func wav() string {
	var samples bytes.Buffer
	for i := range 8000 {
		samples.WriteByte(byte(128 + 8*((i/20)%2)))
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binenc.Write(&b, binenc.LittleEndian, uint32(36+samples.Len()))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(8000), uint16(1), uint16(8)} {
		binenc.Write(&b, binenc.LittleEndian, v)
	}
	b.WriteString("data")
	binenc.Write(&b, binenc.LittleEndian, uint32(samples.Len()))
	b.Write(samples.Bytes())
	return b.String()
}

// morphSite writes morph.html and what it links into a new folder.
func morphSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "morph.html"), fmt.Sprintf(morphPage, "One"))
	write(t, filepath.Join(dir, "m.css"), "h1 { color: rgb(1, 2, 3) }\n")
	write(t, filepath.Join(dir, "tone.wav"), wav())
	return dir
}

// morphEdit edits the page at path and waits until the tab has morphed
// once more.
func morphEdit(t *testing.T, tab context.Context, path, old, new string) {
	t.Helper()
	n := eval[float64](t, tab, `__hotserve.morphs`)
	edit(t, path, old, new)
	waitJS(t, tab, fmt.Sprintf(`__hotserve.morphs > %v && !__hotserve.morphing`, n))
}

func TestBrowserMorph(t *testing.T) {
	browser := browserWith(t, chromedp.Flag("autoplay-policy", "no-user-gesture-required"))

	t.Run("an unrelated edit keeps every kind of state", func(t *testing.T) {
		dir := morphSite(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/morph.html")
		if !eval[bool](t, tab, `(() => {
			const $ = id => document.getElementById(id);
			window.refs = {};
			for (const el of document.querySelectorAll("[id]")) refs[el.id] = el;
			refs.li = [...document.querySelectorAll("li")];
			$("panel").scrollTop = 300;
			$("notes").value = "typed notes";
			$("pick").value = "c";
			$("more").open = true;
			$("dlg").show();
			const c = $("cv").getContext("2d");
			c.fillStyle = "rgb(200, 10, 20)";
			c.fillRect(0, 0, 10, 10);
			getSelection().selectAllChildren($("text"));
			$("name").value = "typed name";
			$("name").focus({preventScroll: true});
			$("name").setSelectionRange(2, 5);
			$("snd").play();
			scrollTo(0, 500);
			return scrollY === 500; })()`) {
			t.Fatal("the page is not scrolled to 500 px")
		}
		waitJS(t, tab, `!refs.snd.paused && refs.snd.currentTime > 0`)
		mark(t, tab)
		edit(t, filepath.Join(dir, "morph.html"), `<h1 id="title">One</h1>`, `<h1 id="title">Two</h1>`)
		waitJS(t, tab, `document.getElementById("title").textContent === "Two"`)
		kept(t, tab, "after an edit of the title")
		for name, check := range map[string]string{
			"identity":        `Object.entries(refs).every(([id, el]) => id === "li" || document.getElementById(id) === el) && refs.li.every(li => li.isConnected)`,
			"window scroll":   `scrollY === 500`,
			"element scroll":  `refs.panel.scrollTop === 300`,
			"focus":           `document.activeElement === refs.name`,
			"selection":       `refs.name.selectionStart === 2 && refs.name.selectionEnd === 5`,
			"typed input":     `refs.name.value === "typed name"`,
			"typed textarea":  `refs.notes.value === "typed notes"`,
			"chosen option":   `refs.pick.value === "c"`,
			"details open":    `refs.more.open`,
			"dialog open":     `refs.dlg.open`,
			"canvas contents": `refs.cv.getContext("2d").getImageData(5, 5, 1, 1).data.join() === "200,10,20,255"`,
			"media playing":   `!refs.snd.paused`,
		} {
			if !eval[bool](t, tab, check) {
				t.Errorf("%s not kept: %s", name, check)
			}
		}
		// Still playing: time goes on.
		waitJS(t, tab, `(() => { const t = refs.snd.currentTime; window.__t = window.__t ?? t; return refs.snd.currentTime !== window.__t && !refs.snd.paused; })()`)
		if n := eval[float64](t, tab, `__hotserve.morphs`); n < 1 {
			t.Errorf("morphs = %v, want at least 1", n)
		}

		// The file's own change of a value wins over what was typed, and
		// closing <details> in the file closes it.
		path := filepath.Join(dir, "morph.html")
		morphEdit(t, tab, path, `<input id="name" value="">`, `<input id="name" value="from the file">`)
		waitJS(t, tab, `refs.name.value === "from the file"`)
		morphEdit(t, tab, path, `<details id="more">`, `<details id="more" open>`)
		morphEdit(t, tab, path, `<details id="more" open>`, `<details id="more">`)
		waitJS(t, tab, `!refs.more.open`)
		kept(t, tab, "after edits of a value and an open attribute")
	})

	t.Run("an edit that removes an element removes it, and list items stay the same nodes", func(t *testing.T) {
		dir := morphSite(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/morph.html")
		eval[bool](t, tab, `(window.items = [...document.querySelectorAll("li")], true)`)
		mark(t, tab)
		edit(t, filepath.Join(dir, "morph.html"), `<p id="gone">to be removed</p>`, ``)
		waitJS(t, tab, `document.getElementById("gone") === null`)
		edit(t, filepath.Join(dir, "morph.html"), `<li>two</li>`, `<li>zwei</li><li>new</li>`)
		waitJS(t, tab, `[...document.querySelectorAll("li")].map(li => li.textContent).join() === "one,zwei,new,three"`)
		if !eval[bool](t, tab, `items[0].isConnected && items[2].isConnected && document.querySelectorAll("li")[3] === items[2]`) {
			t.Error("an untouched list item is no longer the same node")
		}
		edit(t, filepath.Join(dir, "morph.html"), `<li>zwei</li>`, ``)
		waitJS(t, tab, `[...document.querySelectorAll("li")].map(li => li.textContent).join() === "one,new,three"`)
		if !eval[bool](t, tab, `items[0].isConnected && items[2].isConnected`) {
			t.Error("an untouched list item was replaced when another was removed")
		}
		kept(t, tab, "after edits of a list")
	})

	t.Run("stylesheets follow the swap's rules", func(t *testing.T) {
		dir := morphSite(t)
		path := filepath.Join(dir, "morph.html")
		write(t, filepath.Join(dir, "m2.css"), "h1 { color: rgb(4, 5, 6) }\n")
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/morph.html")
		mark(t, tab)
		color := func(c string) string {
			return fmt.Sprintf(`getComputedStyle(document.getElementById("title")).color === %q`, c)
		}
		// A swapped stylesheet stays as it is through a morph: no second
		// <link>, no reload of the old URL.
		write(t, filepath.Join(dir, "m.css"), "h1 { color: rgb(7, 8, 9) }\n")
		waitJS(t, tab, color("rgb(7, 8, 9)")+` && !__hotserve.swapping`)
		morphEdit(t, tab, path, `<h1 id="title">One</h1>`, `<h1 id="title">Two</h1>`)
		links := `[...document.querySelectorAll("link[rel=stylesheet]")]`
		if !eval[bool](t, tab, links+`.length === 1 && `+links+`[0].href.includes("m.css?hotserve=") && `+color("rgb(7, 8, 9)")) {
			t.Errorf("after a morph the stylesheets are %s", eval[string](t, tab, links+`.map(l => l.href).join()`))
		}
		// Another file: the new one loads, then the old one goes.
		morphEdit(t, tab, path, `href="m.css"`, `href="m2.css"`)
		waitJS(t, tab, color("rgb(4, 5, 6)")+` && `+links+`.length === 1`)
		kept(t, tab, "after stylesheet changes")
	})

	t.Run("a burst of saves during a morph ends on the last content", func(t *testing.T) {
		dir := morphSite(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/morph.html")
		mark(t, tab)
		path := filepath.Join(dir, "morph.html")
		deadline := time.Now().Add(5 * time.Second)
		for i := 0; i < 40 && time.Now().Before(deadline); i++ {
			write(t, path, fmt.Sprintf(morphPage, fmt.Sprintf("burst %d", i)))
			if i == 5 {
				// Wait until a morph runs, so that the rest lands during one.
				waitJS(t, tab, `__hotserve.morphing || __hotserve.morphs > 0`)
			}
		}
		write(t, path, fmt.Sprintf(morphPage, "last"))
		waitJS(t, tab, `document.getElementById("title").textContent === "last" && !__hotserve.morphing`)
		kept(t, tab, "after a burst")
	})

	t.Run("a frame's page morphs inside its frame", func(t *testing.T) {
		dir := morphSite(t)
		write(t, filepath.Join(dir, "outer.html"), `<!doctype html><title>outer</title><h1>Outer</h1><iframe id="f" src="part.html"></iframe>`)
		write(t, filepath.Join(dir, "part.html"), `<p id="p">part one</p><input id="i">`)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/outer.html")
		waitJS(t, tab, `document.getElementById("f").contentWindow.__hotserve?.state === "connected"`)
		eval[bool](t, tab, `(() => { const d = document.getElementById("f").contentDocument; window.inner = d.getElementById("p"); d.getElementById("i").value = "typed"; d.defaultView.marker = true; return true; })()`)
		mark(t, tab)
		write(t, filepath.Join(dir, "part.html"), `<p id="p">part two</p><input id="i">`)
		waitJS(t, tab, `window.inner.isConnected && window.inner.textContent === "part two"`)
		if !eval[bool](t, tab, `(() => { const d = document.getElementById("f").contentDocument; return d.defaultView.marker === true && d.getElementById("i").value === "typed"; })()`) {
			t.Error("the frame reloaded instead of morphing")
		}
		kept(t, tab, "the outer page after its frame's page changed")
	})
}

// waitConsole waits until the tab's console has a line containing want.
func waitConsole(t *testing.T, log *consoleLog, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(strings.Join(log.lines(), "\n"), want) {
			return
		}
	}
	t.Errorf("console says %q, want a line with %q", strings.Join(log.lines(), "\n"), want)
}

// TestBrowserMorphReloads checks every case where a morph would be wrong:
// the page reloads instead, and says why.
func TestBrowserMorphReloads(t *testing.T) {
	browser := browser(t)
	for _, c := range []struct {
		name, page, old, new, why string
		args                      []string
	}{
		{"a script added", fmt.Sprintf(morphPage, "One"), `<p id="gone">`, `<script>window.added = 1</script><p id="gone">`, "a <script> changed", nil},
		{"a script of its own, unchanged", strings.Replace(fmt.Sprintf(morphPage, "One"), "</body>", "<script>document.body.append(Object.assign(document.createElement('b'), {id: 'built'}))</script></body>", 1),
			`<h1 id="title">One</h1>`, `<h1 id="title">Two</h1>`, "the page runs scripts of its own", nil},
		{"a <base> changed", strings.Replace(fmt.Sprintf(morphPage, "One"), "<title>", `<base href="/"><title>`, 1), `<base href="/">`, `<base href="/x/">`, "a <base> or <meta http-equiv> changed", nil},
		{"a <meta http-equiv> added", fmt.Sprintf(morphPage, "One"), `<title>`, `<meta http-equiv="Content-Security-Policy" content="img-src 'self'"><title>`, "a <base> or <meta http-equiv> changed", nil},
		{"--reload-html", fmt.Sprintf(morphPage, "One"), `<h1 id="title">One</h1>`, `<h1 id="title">Two</h1>`, "morph.html", []string{"--reload-html"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := morphSite(t)
			path := filepath.Join(dir, "morph.html")
			write(t, path, c.page)
			in := startInProcess(t, append(c.args, dir)...)
			tab := openTab(t, browser, in.url+"/morph.html")
			log := record(tab)
			mark(t, tab)
			edit(t, path, c.old, c.new)
			waitJS(t, tab, reloaded)
			if strings.Contains(c.new, "Two") && !eval[bool](t, tab, `document.getElementById("title").textContent === "Two"`) {
				t.Error("the reloaded page does not show the edit")
			}
			waitConsole(t, log, "[hotserve] reloading: "+c.why)
		})
	}

	t.Run("a deleted page reloads", func(t *testing.T) {
		dir := morphSite(t)
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/morph.html")
		log := record(tab)
		mark(t, tab)
		if err := os.Remove(filepath.Join(dir, "morph.html")); err != nil {
			t.Fatal(err)
		}
		waitJS(t, tab, reloaded)
		waitConsole(t, log, "[hotserve] reloading: the page answered 404")
	})
}

// TestBrowserMorphReloadsForWhatIsNotHTML checks that a page whose file or
// answer is no longer an HTML document reloads instead of being morphed
// into one, and says why.
func TestBrowserMorphReloadsForWhatIsNotHTML(t *testing.T) {
	browser := browser(t)
	// The file is still served as text/html (by its name), but has no
	// doctype any more: a morph would keep the loaded page's rendering
	// mode, which the file no longer asks for.
	for _, c := range []struct{ name, content string }{
		{"a fragment", `<h1 id="title">Two</h1>`},
		{"plain text", "Two, in plain words\n"},
		{"binary", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := morphSite(t)
			in := startInProcess(t, dir)
			tab := openTab(t, browser, in.url+"/morph.html")
			log := record(tab)
			mark(t, tab)
			write(t, filepath.Join(dir, "morph.html"), c.content)
			waitJS(t, tab, reloaded)
			waitConsole(t, log, "[hotserve] reloading: the page is no longer an HTML document (it has no <!doctype html>)")
		})
	}

	// An empty file is the instant between a save's truncate and its
	// write, not a page that lost its doctype: the write's own event
	// brings the content, which morphs.
	t.Run("an emptied page still morphs", func(t *testing.T) {
		dir := morphSite(t)
		path := filepath.Join(dir, "morph.html")
		in := startInProcess(t, dir)
		tab := openTab(t, browser, in.url+"/morph.html")
		mark(t, tab)
		n := eval[float64](t, tab, `__hotserve.morphs`)
		write(t, path, "")
		waitJS(t, tab, fmt.Sprintf(`__hotserve.morphs > %v && !__hotserve.morphing`, n))
		write(t, path, fmt.Sprintf(morphPage, "Two"))
		waitJS(t, tab, `document.getElementById("title")?.textContent === "Two" && !__hotserve.morphing`)
		kept(t, tab, "after the page was emptied and written again")
	})

	// An app behind --proxy /app that writes the folder's file without a
	// Content-Type gets one sniffed by net/http: text/html while it is a
	// page, text/plain once it is not.
	t.Run("another Content-Type from a backend", func(t *testing.T) {
		dir := t.TempDir()
		page := filepath.Join(dir, "app", "morph.html")
		write(t, page, fmt.Sprintf(morphPage, "One"))
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if path.Base(r.URL.Path) != "morph.html" {
				http.NotFound(w, r)
				return
			}
			b, err := os.ReadFile(page)
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Write(b)
		}))
		t.Cleanup(app.Close)
		in := startInProcess(t, "--proxy", "/app="+app.URL, dir)
		tab := openTab(t, browser, in.url+"/app/morph.html")
		log := record(tab)
		mark(t, tab)
		write(t, page, "Two, in plain words\n")
		waitJS(t, tab, reloaded)
		waitConsole(t, log, "[hotserve] reloading: the page is no longer HTML (text/plain)")
	})
}

// TestBrowserMorphErrorReloads checks that an error while morphing reloads
// the page and says so in one console line. The new markup makes the morph
// throw the way a typo can: an attribute name the HTML parser accepts
// ("=x", from `<h1 id="title" =x>`) but setAttribute refuses, which the
// morph calls to update an element it keeps.
func TestBrowserMorphErrorReloads(t *testing.T) {
	browser := browser(t)
	dir := morphSite(t)
	path := filepath.Join(dir, "morph.html")
	in := startInProcess(t, dir)
	tab := openTab(t, browser, in.url+"/morph.html")
	log := record(tab)
	mark(t, tab)
	// Saved aside and renamed over the page: an in-place write could be
	// fetched while empty, and the morph from an empty page would insert
	// the <h1> anew, which throws nothing.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	aside := filepath.Join(dir, ".morph.html.tmp")
	write(t, aside, strings.Replace(string(b), `<h1 id="title">One</h1>`, `<h1 id="title" =x>Two</h1>`, 1))
	if err := os.Rename(aside, path); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, reloaded)
	if !eval[bool](t, tab, `document.getElementById("title").textContent === "Two"`) {
		t.Error("the reloaded page does not show the edit")
	}
	waitConsole(t, log, "[hotserve] reloading: the morph failed (InvalidCharacterError: ")
	var lines []string
	for _, l := range log.lines() {
		if strings.Contains(l, "[hotserve] reloading") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Errorf("the console says %q, want one line saying why the page reloaded", lines)
	}
}
