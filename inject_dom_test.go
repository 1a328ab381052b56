package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotserve/hotserve/assets"
	"github.com/hotserve/hotserve/server"
)

// TestInjectKeepsTheDOM loads each of several hundred tricky documents in
// Chromium twice, as the file is (from a plain file server) and as hotserve
// serves it, and compares the trees the browser built: node types, names,
// namespaces, attributes, text, template contents and quirks mode, with
// hotserve's script element taken out of the second. The client script
// itself is answered 404 so that nothing runs that could change the tree;
// the element is still there for the comparison to find and remove.
func TestInjectKeepsTheDOM(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	docs := domDocs()
	names := make([]string, len(docs))
	for i, d := range docs {
		names[i] = fmt.Sprintf("d%03d.html", i)
		if err := os.WriteFile(filepath.Join(dir, names[i]), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	srv, err := server.New(dir, server.Options{ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	srv.Settle(time.Now())
	// Both servers say UTF-8, which every document is, so that only the
	// tag can make a difference.
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeFile(w, r, filepath.Join(dir, filepath.Base(r.URL.Path)))
	})
	plain := listenDOM(t, files)
	served := listenDOM(t, srv)

	tctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	load := func(base string) map[string]domSnapshot {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Navigate(base+"/__harness")); err != nil {
			t.Fatalf("loading the harness from %s: %v", base, err)
		}
		list, _ := json.Marshal(names)
		out, err := chromedp.Run(tctx, chromedp.Evaluate[string](fmt.Sprintf("run(%s, 6)", list), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("snapshots from %s: %v", base, err)
		}
		var snaps map[string]domSnapshot
		if err := json.Unmarshal([]byte(out), &snaps); err != nil {
			t.Fatalf("snapshots from %s: %v", base, err)
		}
		return snaps
	}
	want, got := load(plain), load(served)

	differ := 0
	for i, name := range names {
		w, g := want[name], got[name]
		switch {
		case w.Error != "" || g.Error != "":
			t.Errorf("%s %q: the browser did not load it: file %q, served %q", name, docs[i], w.Error, g.Error)
		case w.Ours != 0 || g.Ours != 1:
			t.Errorf("%s %q: %d client scripts in the file's DOM, %d in the served one; want 0 and 1", name, docs[i], w.Ours, g.Ours)
		case w.Mode != g.Mode || string(w.Tree) != string(g.Tree):
			differ++
			if differ <= 10 {
				t.Errorf("%s %q: the served page parses differently:\nfile   %s %s\nserved %s %s", name, docs[i], w.Mode, w.Tree, g.Mode, g.Tree)
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d documents parse differently once served", differ, len(docs))
	}
	t.Logf("%d documents compared", len(docs))
}

// domSnapshot is what the harness reports for one document.
type domSnapshot struct {
	Mode  string          // document.compatMode
	Tree  json.RawMessage // the tree without hotserve's script elements
	Ours  int             // how many of those were taken out
	Error string
}

// listenDOM serves h on 127.0.0.1 with the comparison harness at
// /__harness and the client script refused, and returns the base URL.
func listenDOM(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/__harness", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, domHarness)
	})
	mux.Handle(assets.ClientPath, http.NotFoundHandler())
	mux.Handle("/", h)
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

// domHarness loads documents in iframes, k at a time, and serializes each
// tree once it has loaded. Only hotserve's own script element, recognised
// by its src and data-build attributes, is left out, and counted.
const domHarness = `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><script>
function ours(n) {
  return n.nodeType === 1 && n.namespaceURI === "http://www.w3.org/1999/xhtml" && n.localName === "script" &&
    n.getAttribute("src") === "` + assets.ClientPath + `" && n.hasAttribute("data-build");
}
function tree(n, count) {
  const o = [n.nodeType];
  switch (n.nodeType) {
  case 1:
    o.push(n.namespaceURI, n.localName, [...n.attributes].map(a => [a.namespaceURI, a.name, a.value]));
    break;
  case 3: case 4: case 7: case 8:
    o.push(n.data);
    break;
  case 10:
    o.push(n.name, n.publicId, n.systemId);
    break;
  }
  const kids = [];
  for (const c of n.childNodes) {
    if (ours(c)) { count.n++; continue; }
    kids.push(tree(c, count));
  }
  o.push(kids);
  if (n.nodeType === 1 && n.localName === "template" && n.content) o.push(tree(n.content, count));
  return o;
}
function load(url) {
  return new Promise(resolve => {
    const f = document.createElement("iframe");
    const timer = setTimeout(() => { f.remove(); resolve({Error: "no load event within 20s"}); }, 20000);
    f.onload = () => {
      clearTimeout(timer);
      let r;
      try {
        const d = f.contentDocument, count = {n: 0};
        const t = tree(d, count);
        r = {Mode: d.compatMode, Tree: t, Ours: count.n};
      } catch (e) {
        r = {Error: String(e)};
      }
      f.remove();
      resolve(r);
    };
    f.src = url;
    document.body.append(f);
  });
}
async function run(names, k) {
  const out = {};
  let i = 0;
  await Promise.all(Array.from({length: k}, async () => {
    while (i < names.length) {
      const name = names[i++];
      out[name] = await load(name);
    }
  }));
  return JSON.stringify(out);
}
</script></body></html>`

// onlyComments reports whether s is nothing but whitespace and closed
// "<!-- -->" comments.
func onlyComments(s string) bool {
	for {
		s = strings.TrimSpace(s)
		rest, ok := strings.CutPrefix(s, "<!--")
		if !ok {
			return s == ""
		}
		_, after, ok := strings.Cut(rest, "-->")
		if !ok {
			return false
		}
		s = after
	}
}

// domDocs returns the documents TestInjectKeepsTheDOM compares: every
// combination class of what may come before, in and after the head, picked
// from building blocks with a fixed seed so that each block turns up, and
// edge cases written out by hand. All are valid UTF-8.
func domDocs() []string {
	var (
		boms     = []string{"", "\uFEFF"}
		leads    = []string{"", "\n", "<!-- lead -->\n", "  \r\n", "</p>", "<?xml version=\"1.0\"?>\n", "<!X>"}
		doctypes = []string{
			"", "<!DOCTYPE html>", "<!doctype HTML>", "<!DOCTYPE html SYSTEM \"about:legacy-compat\">", "<!DOCTYPE>",
			"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">",
			"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">",
			"<!DOCTYPE html PUBLIC \"-//W3O//DTD W3 HTML Strict 3.0//EN//\">", "<!DOCTYPE svg>",
		}
		gaps = []string{
			"", "", "\n", "\r\n", " \t", "\f", "\r", "\n<!-- gap -->\n", "<!---->", "<!-->", "<!--->", "<!x>", "</ x>",
			"</div>", "</template>", "\n</span>\n", "<!-- a --!>", "\n\n\n", "&#9;", "\n&#x20;&NewLine;", "&Tab;&#0010",
		}
		htmls  = []string{"", "", "<html>", "<HTML lang=\"en\" class=x>", "<html/>", "<html a=1>\n<html b=2>", "<Html dir=rtl>"}
		heads  = []string{"", "", "<head>", "<HEAD id=h data-x=\"1\">", "<head/>", "</head>", "<head>\n"}
		inHead = []string{
			"", "<title>x</title>", "<meta charset=\"utf-8\"><title>t &amp; t</title>", "<base href=\"/\"><link rel=\"x\" href=\"y\">",
			"<style>p{color:red}</style>", "<noscript><p>no</p></noscript>", "<noscript><link rel=x></noscript>",
			"<template><p>t</p><head></template>", "<script>var s='</head><body>'</script>", "\n  <title>x</title>\n",
			"<!-- in head -->", "<TITLE>UP</TITLE>", "<meta name=a content=b>\n<meta name=c content=d>",
		}
		afterHead = []string{"", "", "</head>", "</head>\n", "</head><!-- after -->\n", "</HEAD>\r\n"}
		bodies    = []string{
			"", "<body>x</body>", "<BODY class=b>x", "hello", "  hello\n", "a\x00b", "\x00", "<p>x",
			"<frameset cols=\"50%,50%\"><frame><frame></frameset>", "<frameset><frame></frameset>\n<!-- end -->",
			"<svg><title>s</title><foreignObject><p>x</p></foreignObject><path/></svg>",
			"<math><mi>x</mi><annotation-xml encoding=\"text/html\"><p>y</p></annotation-xml></math>",
			"<noscript><p>n</p></noscript>", "<table><td>x<p>y</table>", "<b><i>x</b>y</i>", "<p><div>x</p>",
			"</p>text", "</br>", "<textarea>\n</body></textarea>", "<plaintext></body>", "<select><option>x<p>y</select>",
			"<a href=x>l<a href=y>m", "<template><tr><td>t</template>", "<frameset>", "<body><frameset><frame></frameset>",
			"<div>a</div>\n<frameset><frame></frameset>", "\x00<frameset><frame></frameset>", "<pre>\nx</pre>",
			"<ul><li>a<li>b</ul>", "<h1><h2>x</h1>", "<form><form>x</form>", "<!-- body comment -->",
			"<table><tr><td><svg><desc><td>x</table>", "<math><mtext><table><td>x</table></math>",
			"<html class=late><body class=late2>x", "<head><title>late</title>", "x<!DOCTYPE html>y", "<table>x</table>",
			"<svg><![CDATA[<p>]]></svg>", "<![CDATA[x]]>", "<BR><IMG SRC=\"data:,\" ALT=a>", "&amp;&lt;&#0;&#x80;", "&#32;&nbsp;x", "&#13;&#12;y",
			"<xmp></body></xmp>", "<iframe></iframe><frameset></frameset>", "<input type=hidden><frameset></frameset>",
		}
		tails = []string{"", "", "\n", "</html>\n", "</body></html>", "</html>\n<!-- after html -->\n", "<!-- unclosed", "\r\n</BODY>\r\n</HTML>\r\n", "</body>\n</body>\nz"}
	)
	rnd := rand.New(rand.NewPCG(10, 2))
	pick := func(l []string) string { return l[rnd.IntN(len(l))] }
	var docs []string
	for i := range 8 * len(bodies) {
		body, in, head := bodies[i%len(bodies)], inHead[(i/len(bodies)+i)%len(inHead)], pick(heads)
		tail := pick(tails)
		if tail == "<!-- unclosed" && onlyComments(body+in+head) {
			// A page that is only a doctype and comments, the last cut
			// off by the end of the file, cannot have the tag after it:
			// the tag would be inside the comment. Find puts it before,
			// which moves that comment into <head>; see inject's docs.
			tail = ""
		}
		docs = append(docs, pick(boms)+pick(leads)+pick(doctypes)+pick(gaps)+pick(htmls)+pick(gaps)+head+in+pick(afterHead)+pick(gaps)+body+tail)
	}
	return append(docs,
		"<!DOCTYPE html>\n<title>x</title>",
		"<!DOCTYPE html>\n<!-- build 1 -->\n<title>x</title>",
		"<!-- only a comment -->",
		"<!-- a -->\n<!-- b -->\n",
		"",
		"\n\n",
		"<!DOCTYPE html>",
		"\uFEFF",
		"\uFEFF\uFEFF<p>x",
		"<!DOCTYPE html><html><head></head><body></body></html>",
		"<p>x</p><head>",
		"<!DOCTYPE html> x<frameset></frameset>",
		"<!DOCTYPE html><head></head>\n<frameset><frame></frameset>",
		"<!DOCTYPE html><head></head>\n<!-- c -->\n<body>",
		"<!DOCTYPE html><html><!-- c --><head>",
		"<svg><head></head></svg>",
		"<math><html>",
		"<template><html><head><body></template>",
		"<!DOCTYPE html><template><frameset></template><frameset>",
		"</html><!-- c -->",
		"</head>\n<body>",
		"</br><head>",
		"<!DOCTYPE html>\r<title>cr</title>",
		"<!DOCTYPE html>\r\n\r\n<html>\r\n\r\n<head>\r\n<title>crlf</title>",
		"<base href=x><html lang=en>",
		"<meta charset=utf-8>\n<html lang=en>\n<head id=h>",
		"<!DOCTYPE html><html lang=en><head><html class=x><body class=y><body id=z>",
		"<!DOCTYPE html><html><body><head id=late>",
		"<!DOCTYPE html><!--!><p>x-->",
		"<!DOCTYPE html><!---!><p>x-->",
		"<!DOCTYPE html><p>x<!-- unclosed",
		"<!DOCTYPE html>\n<frameset rows=*><noframes><p>x</noframes></frameset>\n<noframes>y</noframes>",
		"<!DOCTYPE html><html><head><title>x</title></head>\n\n<body>y</body>\n\n</html>\n\n",
		"hello<!DOCTYPE html>",
		"<!DOCTYPE html><body><table><tr><td><svg><foreignObject><p>x",
		"<!DOCTYPE HTML>\n<HTML>\n<HEAD>\n<TITLE>X</TITLE>\n</HEAD>\n<BODY>\n</BODY>\n</HTML>",
		"<!DOCTYPE html>\n<!--\n  multi\n  line\n-->\n<html>\n<!-- x -->\n<head>",
		"</div></div>\n<div>partial</div>",
		"\n  <li>fragment</li>\n",
		"<!DOCTYPE html>\n<html>\n</p>\n<head>\n",
		"<!DOCTYPE html><html><head><noscript><p>x</noscript>",
		"<!DOCTYPE html>\f<title>ff</title>",
		"<!DOCTYPE html>\t\n <!--a--> \t<!--b-->\n<html>\t<!--c-->\n</x>\n<body>",
	)
}
