package main

import (
	"path/filepath"
	"testing"
)

// TestPagesKeepTheirEncodingInChromium serves pages written in legacy
// encodings and checks in Chromium that each is decoded as it declares, with
// its text intact, and that its reload script still connects.
func TestPagesKeepTheirEncodingInChromium(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	pages := []struct{ name, content, charset, text string }{
		{"latin1.html", "<!DOCTYPE html>\n<html><head><meta charset=\"iso-8859-1\"><title>t</title></head><body><p id=t>caf\xE9</p>", "windows-1252", "café"},
		{"cp1252.html", "<!DOCTYPE html>\n<meta charset=windows-1252>\n<p id=t>\x93quoted\x94 \x80", "windows-1252", "“quoted” €"},
		{"sjis.html", "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\"></head><body><p id=t>\x93\xfa\x96\x7b</p>", "Shift_JIS", "日本"},
		{"eucjp.html", "<!DOCTYPE html><meta charset=euc-jp><p id=t>\xc6\xfc\xcb\xdc", "EUC-JP", "日本"},
		{"utf8.html", "<!DOCTYPE html>\n<p id=t>café ✓", "UTF-8", "café ✓"},
	}
	for _, p := range pages {
		write(t, filepath.Join(dir, p.name), p.content)
	}
	in := startInProcess(t, dir)
	for _, p := range pages {
		// openTab waits for the client to connect: the script works in
		// every encoding.
		tab := openTab(t, ctx, in.url+"/"+p.name)
		got := eval[[]string](t, tab, `[document.characterSet, document.getElementById("t").textContent]`)
		if got[0] != p.charset || got[1] != p.text {
			t.Errorf("%s: decoded as %s, text %q; want %s, %q", p.name, got[0], got[1], p.charset, p.text)
		}
	}
}
