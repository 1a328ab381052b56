// hotserve live-reload client.
//
// The page was served with this script's tag carrying data-build: the build
// id of the site when the page was sent. worker.js holds the browser's one
// event stream and passes on every event: {build, previous, paths}. This
// script keeps the last build its page has seen and, for each event:
//
// - reloads if it announces that build or an older one with another tree
//   fingerprint (data-tree): a restarted hotserve found files changed while
//   it was stopped, perhaps to older times (cp -p) that left the build as
//   it was;
// - ignores it if it announces that build (a reconnect with nothing new) or
//   an older one;
// - reloads if its previous build is not the one the page last saw: the page
//   missed an event (a restart after a change, a stream that woke late, a
//   page hidden in the back/forward cache);
// - otherwise updates only what the changed paths touch: stylesheets and
//   images in place, a changed HTML file the page or a frame shows morphed
//   into the live document (see morph), a reload if the page used a changed
//   file of another kind, nothing if the page never used it.
//
// The page never waits for any of this: the script is async and the stream
// lives in a worker (in the page itself where the page's policy blocks
// workers).
(function () {
  "use strict";
  var script = document.currentScript;
  var build = script && script.getAttribute("data-build");
  if (!build || window.__hotserve) {
    return;
  }
  var seen = Number(build);
  var tree = script.getAttribute("data-tree") || "";
  var base = script.src;
  var mode = "";
  var state = "";
  var reloadTimer = 0;
  var reloadWhy = [];
  var reloadEvents = 0; // events that arrived while a reload waited
  var swapping = 0; // stylesheet copies loading
  var reloadHTML = false; // --reload-html: reload for HTML changes, never morph
  var morphs = 0; // morphs applied to this document
  var morphQueue = new Map(); // document -> URL to morph it from, in order
  var morphRunning = false;
  var used = new Set([pagePath(location.href)]);
  var shared = null; // SharedWorker
  var owner = null; // ends the stream of the leader or a direct tab
  var leave = null; // ends this tab's lock request or leadership

  // Tests and curious developers can read what the client is doing.
  Object.defineProperty(window, "__hotserve", {
    value: Object.freeze({
      get mode() { return mode; },
      get state() { return state; },
      get build() { return seen; },
      get reloading() { return reloadTimer !== 0; },
      get swapping() { return swapping; },
      get morphs() { return morphs; },
      get morphing() { return morphRunning; },
    }),
  });

  function log(msg) {
    console.log("[hotserve] " + msg);
  }

  // pagePath is a URL's decoded path, with a folder meaning its index.html,
  // so that it compares with the paths the server announces.
  function pagePath(url) {
    var path = new URL(url, location.href).pathname;
    try {
      path = decodeURIComponent(path);
    } catch (err) { /* keep it encoded */ }
    return path.endsWith("/") ? path + "index.html" : path;
  }

  function bust(url, b) {
    var u = new URL(url, location.href);
    u.searchParams.set("hotserve", b);
    return u.href;
  }

  // Everything the page loaded, as Resource Timing reports it. The observer
  // sees entries beyond the timeline's buffer limit too.
  if (typeof PerformanceObserver === "function") {
    try {
      new PerformanceObserver(function (list) {
        list.getEntries().forEach(function (e) { used.add(pagePath(e.name)); });
      }).observe({ type: "resource", buffered: true });
    } catch (err) { /* no Resource Timing: only the page itself counts */ }
  }

  // A full reload waits until no event came for 10 ms: a build that writes
  // its output over a while then costs one reload, showing the last of it.
  function reload(why) {
    if (reloadWhy.indexOf(why) < 0) {
      reloadWhy.push(why);
    }
    reloadEvents++;
    debounce();
  }

  function debounce() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(function () {
      log("reloading: " + reloadWhy.join(", ") +
        (reloadEvents > 1 ? " (after " + reloadEvents + " events)" : ""));
      saveScroll();
      location.reload();
    }, 10);
  }

  function receive(msg) {
    if (msg.state && msg.state !== state) {
      state = msg.state;
      log(state);
    }
    var ev = msg.event;
    if (!ev) {
      return;
    }
    if (reloadTimer) {
      reloadEvents++;
      debounce();
      return;
    }
    if (ev.build <= seen) {
      // A worker replays its last event to a page that joins; only a
      // live event speaks for the server now running.
      if (!msg.replay && ev.tree && tree && ev.tree !== tree) {
        reload("files changed while hotserve was stopped");
      }
      return;
    }
    if (ev.previous !== seen) {
      reload("missed an update");
      return;
    }
    if (ev.reload) {
      reload(ev.paths.length ? ev.paths.join(", ") : "reload requested");
      return;
    }
    reloadHTML = !!ev.reloadHTML;
    var unused = ev.paths.filter(function (path) {
      return !update("/" + path, ev.build);
    });
    if (!reloadTimer) {
      seen = ev.build;
      tree = ev.tree || tree;
      if (unused.length < ev.paths.length) {
        log("updated: " + ev.paths.join(", "));
      }
    }
  }

  // update applies one changed path (as a URL path: the folder is served at
  // the root). It returns false if the page does not use it at all.
  function update(path, b) {
    if (/\.css$/i.test(path) && swapStylesheets(path, b)) {
      return true;
    }
    if (/\.(png|jpe?g|gif|svg|webp|avif|ico|bmp)$/i.test(path) && swapImages(path, b)) {
      return true;
    }
    if (!reloadHTML && morphShown(path)) {
      return true;
    }
    if (shows(path) || used.has(path)) {
      reload(path.slice(1));
      return true;
    }
    return false;
  }

  // shows says whether the page or one of its frames is that HTML file. A
  // path that is not an HTML file's (/users/john.doe) runs this script when
  // it was answered with index.html, as --spa does for navigations.
  function shows(path) {
    if (!/\.html?$/i.test(path)) {
      return false;
    }
    var here = pagePath(location.href);
    if (here === path || (path === "/index.html" && !/\.html?$/i.test(here))) {
      return true;
    }
    return Array.prototype.some.call(document.querySelectorAll("iframe[src], frame[src]"), function (f) {
      return pagePath(f.src) === path;
    });
  }

  // morphShown queues a morph of each document that shows the changed HTML
  // file: this page, or a same-origin frame that has no client of its own (a
  // frame with one morphs itself when the same event reaches it). It returns
  // false, so that the caller reloads, when the page does not show the file
  // or shows it in a frame it cannot reach.
  function morphShown(path) {
    if (!shows(path)) {
      return false;
    }
    var docs = [];
    var here = pagePath(location.href);
    if (here === path) {
      docs.push([document, location.href]);
    } else if (path === "/index.html" && !/\.html?$/i.test(here)) {
      // A --spa route: a fetch() of it would get a 404, not index.html.
      docs.push([document, new URL(path, location.href).href]);
    }
    var reachable = true;
    Array.prototype.forEach.call(document.querySelectorAll("iframe[src], frame[src]"), function (f) {
      if (pagePath(f.src) !== path) {
        return;
      }
      var win = null;
      var doc = null;
      try {
        win = f.contentWindow;
        doc = f.contentDocument;
      } catch (err) { /* another origin */ }
      if (win && win.__hotserve) {
        return; // its own client morphs it
      }
      if (!doc || !doc.documentElement) {
        reachable = false;
        return;
      }
      docs.push([doc, f.src]);
    });
    if (!reachable) {
      return false;
    }
    docs.forEach(function (d) { morphQueue.set(d[0], d[1]); });
    runMorphs();
    return true;
  }

  // runMorphs applies the queued morphs one after another. A change that
  // comes while one runs queues that document again, so a burst of saves
  // ends on the last content, with no wait before the first.
  function runMorphs() {
    if (morphRunning || reloadTimer) {
      return;
    }
    var first = morphQueue.entries().next();
    if (first.done) {
      return;
    }
    morphQueue.delete(first.value[0]);
    morphRunning = true;
    morphFrom(first.value[0], first.value[1]).then(function () {
      morphRunning = false;
      runMorphs();
    });
  }

  // sources holds, for each document morphed, the parsed markup it was last
  // morphed to: what the file said, which the page's own changes to its DOM
  // do not blur. sourceOpen holds what the markup said of each <details>'s
  // and <dialog>'s open attribute, which a reader's toggle changes in the
  // live DOM: the file's value wins only when the file changed it.
  var sources = new WeakMap();
  var sourceOpen = new WeakMap();
  function noteOpen(root) {
    root.querySelectorAll("details, dialog").forEach(function (el) {
      if (!sourceOpen.has(el)) {
        sourceOpen.set(el, el.hasAttribute("open"));
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { noteOpen(document); });
  } else {
    noteOpen(document);
  }

  // morphFrom fetches url and morphs doc to it, or reloads doc when a morph
  // would be wrong or fails.
  function morphFrom(doc, url) {
    return fetch(url, {
      cache: "no-store",
      credentials: "same-origin",
      // The answer carries this client's tag like any page; the morph
      // leaves it out, and the server needs to know nothing more.
      headers: { "Accept": "text/html" },
    }).catch(function (err) {
      // Not the morph's fault: the server is restarting, or its backend
      // is down. The reload that follows shows what the server says.
      throw new Refusal("the page could not be fetched (" + errorText(err) + ")");
    }).then(function (res) {
      if (!res.ok) {
        throw new Refusal("the page answered " + res.status);
      }
      var type = res.headers.get("Content-Type") || "";
      if (!/^\s*text\/html/i.test(type)) {
        throw new Refusal("the page is no longer HTML (" + (type.split(";")[0] || "no Content-Type") + ")");
      }
      return res.text();
    }).then(function (text) {
      var next = new DOMParser().parseFromString(text, "text/html");
      if (reloadTimer) {
        return; // a reload is coming anyway
      }
      var why = morphRisk(doc, next, text);
      if (why) {
        throw new Refusal(why);
      }
      morph(doc, next);
      sources.set(doc, next);
      if (doc === document) {
        morphs++;
      }
    }).catch(function (err) {
      // A refusal says why a morph would be wrong; anything else went
      // wrong while fetching or morphing, and the reload says that too.
      var why = err instanceof Refusal ? err.message :
        "the morph failed (" + errorText(err) + ")";
      if (doc === document) {
        reload(why);
      } else if (doc.defaultView) {
        log("reloading the frame " + url + ": " + why);
        doc.defaultView.location.reload();
      }
    });
  }

  // errorText names an error for a console line.
  function errorText(err) {
    return err && err.name ? err.name + ": " + err.message : String(err);
  }

  // Refusal is why a morph would be wrong, as opposed to an error while
  // morphing.
  function Refusal(why) {
    this.message = why;
  }

  // ours says whether a node is this client's tag, which a morph leaves
  // where it is in the live document and ignores in the new one.
  function ours(node) {
    if (node.nodeName !== "SCRIPT" || !node.getAttribute("src")) {
      return false;
    }
    return new URL(node.getAttribute("src"), location.href).pathname === new URL(base).pathname;
  }

  // code says whether a <script> runs: a data block (JSON, an import map
  // is code) does not.
  function code(s) {
    var type = (s.getAttribute("type") || "").trim().toLowerCase();
    return type === "" || type === "module" || type === "importmap" || /(java|ecma|j|live)script/.test(type);
  }

  // morphRisk says why doc must reload rather than morph to next, or "".
  // A page that runs scripts of its own reloads even when they did not
  // change: scripts run once, at load, and may have built part of the DOM
  // or tied listeners and state to elements, and a morph cannot tell those
  // nodes from the ones of the markup; running the scripts again would
  // double what they did. A <base> or <meta http-equiv> only acts when the
  // page loads.
  function morphRisk(doc, next, text) {
    var old = sources.get(doc) || doc;
    function list(d, sel, only) {
      return Array.prototype.filter.call(d.querySelectorAll(sel), function (el) {
        return !ours(el) && (!only || only(el));
      }).map(function (el) { return el.outerHTML; }).join("\n");
    }
    if (list(old, "script") !== list(next, "script")) {
      return "a <script> changed";
    }
    if (list(next, "script", code) !== "") {
      return "the page runs scripts of its own";
    }
    if (list(old, "base, meta[http-equiv]") !== list(next, "base, meta[http-equiv]")) {
      return "a <base> or <meta http-equiv> changed";
    }
    if (!next.body || next.body.nodeName !== "BODY" || (doc.body && doc.body.nodeName !== "BODY")) {
      return "the page uses frames";
    }
    // The doctype sets the rendering mode when the page loads, and a morph
    // cannot change it: a file that lost it (now a fragment, plain text or
    // not text at all) would show otherwise than when loaded. An empty
    // answer is not one of those: it is most likely a file caught between
    // a save's truncate and its write, and the save's own event follows.
    if (/\S/.test(text) && doctype(next) !== doctype(doc)) {
      return next.doctype ? "its <!doctype> changed" : "the page is no longer an HTML document (it has no <!doctype html>)";
    }
    return "";
  }

  function doctype(d) {
    var t = d.doctype;
    return t ? [t.name, t.publicId, t.systemId].join(" ") : "";
  }

  // morph changes the live document doc into next in place: elements are
  // matched by id, then by identical markup, then by tag in the same place,
  // so untouched nodes stay the same nodes (with their listeners, scroll,
  // focus, selection, playing media, drawn canvas); changed attributes and
  // text are set on the kept node; only what is new is inserted and only
  // what is gone is removed. Nodes are never moved: a moved <iframe>
  // reloads and a moved <video> pauses.
  function morph(doc, next) {
    var win = doc.defaultView;
    var sx = win.scrollX;
    var sy = win.scrollY;
    var late = []; // stylesheets to remove once the new ones loaded
    var loading = [];
    var ctx = { doc: doc, late: late, loading: loading };
    attrs(doc.documentElement, next.documentElement);
    attrs(doc.head, next.head);
    children(doc.head, next.head, ctx);
    attrs(doc.body, next.body);
    children(doc.body, next.body, ctx);
    if (late.length) {
      Promise.all(loading).then(function () {
        late.forEach(function (el) { el.remove(); });
      });
    }
    if (win.scrollX !== sx || win.scrollY !== sy) {
      win.scrollTo(sx, sy);
    }
  }

  function stylesheet(node) {
    return node.nodeName === "LINK" && /(^|\s)stylesheet(\s|$)/i.test(node.getAttribute("rel") || "") && node.hasAttribute("href");
  }

  // key is what makes two sibling nodes the same: their markup; for a
  // stylesheet, its file and attributes but not the query a swap added.
  function key(node) {
    if (node.nodeType !== 1) {
      return node.nodeType + ":" + node.nodeValue;
    }
    if (stylesheet(node)) {
      return "link " + pagePath(node.href) + " " + Array.prototype.map.call(node.attributes, function (a) {
        return a.name === "href" ? "" : a.name + "=" + a.value;
      }).join(" ");
    }
    return node.outerHTML;
  }

  // kids are the child nodes a morph works on: without this client's tag,
  // and, in the live document, without stylesheet copies still loading
  // (a swap's slot owns them).
  function kids(parent, live) {
    return Array.prototype.filter.call(parent.childNodes, function (n) {
      if (ours(n)) {
        return false;
      }
      var slot = live && slots.get(n);
      return !(slot && slot.live !== n);
    });
  }

  function children(live, next, ctx) {
    var olds = kids(live, true);
    var news = kids(next, false);
    var okeys = olds.map(key);
    var match = new Array(news.length).fill(-1);
    var used = new Array(olds.length).fill(false);
    var last = -1;
    var i;
    var j;
    // Pass 1, in order: the same id, else the same markup.
    for (i = 0; i < news.length; i++) {
      var n = news[i];
      var id = n.nodeType === 1 ? n.id : "";
      var k = id ? "" : key(n);
      for (j = last + 1; j < olds.length; j++) {
        var o = olds[j];
        if (id ? (o.nodeType === 1 && o.id === id && o.nodeName === n.nodeName) : okeys[j] === k) {
          match[i] = j;
          used[j] = true;
          last = j;
          break;
        }
      }
    }
    // Pass 2: a node left unmatched takes the first free one of the same
    // kind between its matched neighbours.
    last = -1;
    for (i = 0; i < news.length; i++) {
      if (match[i] >= 0) {
        last = match[i];
        continue;
      }
      var bound = olds.length;
      for (var m = i + 1; m < news.length; m++) {
        if (match[m] >= 0) {
          bound = match[m];
          break;
        }
      }
      for (j = last + 1; j < bound; j++) {
        if (!used[j] && same(olds[j], news[i])) {
          match[i] = j;
          used[j] = true;
          last = j;
          break;
        }
      }
    }
    olds.forEach(function (o, j) {
      if (used[j]) {
        return;
      }
      var slot = slots.get(o);
      if (stylesheet(o)) {
        ctx.late.push(o);
        if (slot && slot.pending) {
          ctx.late.push(slot.pending);
        }
        return;
      }
      o.remove();
    });
    var ref = null;
    for (i = news.length - 1; i >= 0; i--) {
      if (match[i] >= 0) {
        ref = olds[match[i]];
        patch(ref, news[i], ctx);
      } else {
        var fresh = ctx.doc.importNode(news[i], true);
        if (stylesheet(fresh)) {
          ctx.loading.push(new Promise(function (done) { fresh.onload = fresh.onerror = done; }));
        }
        live.insertBefore(fresh, ref);
        if (fresh.nodeType === 1) {
          noteOpen(fresh.parentNode);
        }
        ref = fresh;
      }
    }
  }

  // same says whether a live node may be updated into the new one: the same
  // kind of node, and for elements the same tag and id. A stylesheet of
  // another file is not: the new one loads beside it.
  function same(o, n) {
    if (o.nodeType !== n.nodeType || o.nodeName !== n.nodeName) {
      return false;
    }
    if (o.nodeType !== 1) {
      return true;
    }
    return o.id === n.id && !stylesheet(o) && o.nodeName !== "IFRAME" && o.nodeName !== "SCRIPT";
  }

  // patch makes the live node o look as the new node n says, keeping what
  // the reader changed where the file did not change it.
  function patch(o, n, ctx) {
    if (o.nodeType !== 1) {
      if (o.nodeValue !== n.nodeValue) {
        o.nodeValue = n.nodeValue;
      }
      return;
    }
    var tag = o.nodeName;
    if (tag === "DETAILS" || tag === "DIALOG") {
      var was = sourceOpen.has(o) ? sourceOpen.get(o) : o.hasAttribute("open");
      var now = n.hasAttribute("open");
      sourceOpen.set(o, now);
      attrs(o, n, was === now ? "open" : "");
    } else if (tag === "INPUT") {
      var value = o.getAttribute("value");
      var checked = o.hasAttribute("checked");
      attrs(o, n);
      if (o.getAttribute("value") !== value) {
        o.value = o.defaultValue;
      }
      if (o.hasAttribute("checked") !== checked) {
        o.checked = o.defaultChecked;
      }
      return;
    } else if (tag === "TEXTAREA") {
      var text = o.defaultValue;
      attrs(o, n);
      if (n.textContent !== text) {
        o.defaultValue = n.textContent;
        o.value = n.textContent;
      }
      return;
    } else if (tag === "SELECT") {
      var chosen = Array.prototype.map.call(o.options, function (opt) { return opt.defaultSelected; }).join();
      attrs(o, n);
      children(o, n, ctx);
      if (Array.prototype.map.call(o.options, function (opt) { return opt.defaultSelected; }).join() !== chosen) {
        Array.prototype.forEach.call(o.options, function (opt) { opt.selected = opt.defaultSelected; });
        if (!o.multiple && o.selectedIndex < 0 && o.options.length) {
          o.selectedIndex = 0;
        }
      }
      return;
    } else if (tag === "TEMPLATE") {
      attrs(o, n);
      if (o.innerHTML !== n.innerHTML) {
        o.innerHTML = n.innerHTML; // inert content: nothing to keep
      }
      return;
    } else if (stylesheet(o)) {
      attrs(o, n, "href"); // same file: keep a swap's fresher URL
      return;
    } else {
      attrs(o, n);
    }
    if (o.isEqualNode(n)) {
      return;
    }
    children(o, n, ctx);
  }

  // attrs sets o's attributes to n's, except the one named keep.
  function attrs(o, n, keep) {
    if (!o || !n) {
      return;
    }
    Array.prototype.slice.call(o.attributes).forEach(function (a) {
      if (a.name !== keep && !n.hasAttribute(a.name)) {
        o.removeAttribute(a.name);
      }
    });
    Array.prototype.forEach.call(n.attributes, function (a) {
      if (a.name !== keep && o.getAttribute(a.name) !== a.value) {
        o.setAttribute(a.name, a.value);
      }
    });
  }

  // swapStylesheets loads a fresh copy of each <link rel=stylesheet> that
  // is the changed file right after the live one, and removes the live one
  // once the copy has loaded: no unstyled flash, cascade order kept. Each
  // original link is one slot: its live element and at most one copy
  // loading. A newer change removes the copy still loading and starts its
  // own, so a burst of saves never piles up links; a copy that fails (the
  // file was deleted) takes the live one's place all the same, so the
  // deleted file's rules go away and the slot stays where it was in the
  // cascade, ready for the file to come back.
  var slots = new WeakMap(); // link element -> {live, pending}
  function swapStylesheets(path, b) {
    var found = false;
    document.querySelectorAll("link[rel~=stylesheet][href]").forEach(function (link) {
      // A copy still loading (or one just superseded) is not a slot's
      // live element: its slot is handled through that one.
      var slot = slots.get(link);
      if ((slot && slot.live !== link) || pagePath(link.href) !== path) {
        return;
      }
      found = true;
      if (!slot) {
        slot = { live: link, pending: null };
        slots.set(link, slot);
      }
      if (slot.pending) {
        slot.pending.remove();
        swapping--;
      }
      var copy = link.cloneNode(false);
      copy.href = bust(link.href, b);
      copy.onload = copy.onerror = function () {
        if (slot.pending !== copy) {
          return; // superseded
        }
        slot.live.remove();
        slot.live = copy;
        slot.pending = null;
        swapping--;
      };
      slot.pending = copy;
      slots.set(copy, slot);
      swapping++;
      link.after(copy);
    });
    eachRule(function (rule, parent, i, baseURL) {
      // An @import of the changed file is replaced by one with a fresh URL,
      // in the same place in the same sheet (a <link>'s or a <style>'s).
      // Unlike a <link>, the old rule cannot wait for the new one to load.
      if (typeof CSSImportRule === "function" && rule instanceof CSSImportRule && pagePath(new URL(rule.href, baseURL)) === path) {
        var media = rule.media.mediaText;
        parent.insertRule("@import url(" + JSON.stringify(bust(new URL(rule.href, baseURL), b)) + ")" + (media ? " " + media : ""), i + 1);
        parent.deleteRule(i);
        found = true;
      }
    });
    return found;
  }

  // swapImages points every <img>, <source> and CSS background that shows
  // the changed image at a fresh URL, in place.
  function swapImages(path, b) {
    var found = false;
    function fresh(url) {
      if (pagePath(url) !== path) {
        return url;
      }
      found = true;
      return bust(url, b);
    }
    function srcset(value) {
      return value.split(",").map(function (candidate) {
        var parts = candidate.trim().split(/\s+/);
        parts[0] = fresh(parts[0]);
        return parts.join(" ");
      }).join(", ");
    }
    document.querySelectorAll("img, picture > source").forEach(function (el) {
      if (el.getAttribute("src")) {
        var src = fresh(el.src);
        if (src !== el.src) {
          el.src = src;
        }
      }
      if (el.getAttribute("srcset")) {
        el.setAttribute("srcset", srcset(el.getAttribute("srcset")));
      }
    });
    function background(style, baseURL) {
      var value = style.getPropertyValue("background-image");
      if (value.indexOf("url(") < 0) {
        return;
      }
      var next = value.replace(/url\((['"]?)(.*?)\1\)/g, function (all, q, url) {
        var abs = new URL(url, baseURL).href;
        var f = fresh(abs);
        return f === abs ? all : "url(" + JSON.stringify(f) + ")";
      });
      if (next !== value) {
        style.setProperty("background-image", next, style.getPropertyPriority("background-image"));
      }
    }
    document.querySelectorAll("[style]").forEach(function (el) {
      background(el.style, location.href);
    });
    eachRule(function (rule, parent, i, baseURL) {
      if (rule.style) {
        background(rule.style, baseURL);
      }
    });
    return found;
  }

  // eachRule calls fn(rule, parent, index, baseURL) for every rule of every
  // same-origin stylesheet, into @media, @supports and @import, where parent
  // is the sheet or group holding the rule and baseURL what its URLs are
  // relative to. It walks backwards so that fn may replace the rule.
  function eachRule(fn) {
    function walk(parent, baseURL) {
      var rules;
      try {
        rules = parent.cssRules;
      } catch (err) {
        return; // another origin's sheet
      }
      for (var i = rules.length - 1; i >= 0; i--) {
        var rule = rules[i];
        if (rule.styleSheet) {
          walk(rule.styleSheet, rule.styleSheet.href || baseURL);
        } else if (rule.cssRules) {
          walk(rule, baseURL);
        }
        fn(rule, parent, i, baseURL);
      }
    }
    Array.prototype.forEach.call(document.styleSheets, function (sheet) {
      walk(sheet, sheet.href || location.href);
    });
  }

  // Scroll position survives a reload of the same URL, also when late
  // images or scripts make the page tall enough only after load: the saved
  // position is applied again whenever the page changes size, until the
  // reader scrolls or 3 s after load.
  var scrollKey = "hotserve:scroll:" + location.href;
  function saveScroll() {
    var el = document.scrollingElement || document.documentElement;
    try {
      sessionStorage.setItem(scrollKey, JSON.stringify([scrollX, scrollY, el.scrollLeft, el.scrollTop]));
    } catch (err) { /* storage disabled: the browser's own restore remains */ }
  }

  function restoreScroll() {
    var saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(scrollKey));
      sessionStorage.removeItem(scrollKey);
    } catch (err) { /* nothing saved */ }
    if (!saved) {
      return;
    }
    var stopped = false;
    var watch = typeof ResizeObserver === "function" ? new ResizeObserver(apply) : null;
    var inputs = ["wheel", "touchstart", "keydown", "mousedown"];
    function apply() {
      if (stopped) {
        return;
      }
      scrollTo(saved[0], saved[1]);
      var el = document.scrollingElement || document.documentElement;
      el.scrollLeft = saved[2];
      el.scrollTop = saved[3];
    }
    function stop() {
      stopped = true;
      if (watch) {
        watch.disconnect();
      }
      inputs.forEach(function (t) { removeEventListener(t, stop, true); });
    }
    inputs.forEach(function (t) { addEventListener(t, stop, true); });
    if (watch) {
      watch.observe(document.documentElement);
    }
    apply();
    function loaded() {
      apply();
      setTimeout(stop, 3000);
    }
    if (document.readyState === "complete") {
      loaded();
    } else {
      addEventListener("load", loaded);
    }
  }

  // connect joins the browser's one event stream: through a SharedWorker
  // where there is one; else through the tab that holds the "hotserve" Web
  // Lock, which relays over a BroadcastChannel (when it closes, the lock and
  // the stream pass to another tab); else with a stream of its own. A
  // stream of a tab's own lives in a dedicated worker, or in the page where
  // workers cannot start (a Content-Security-Policy without 'self' in
  // worker-src or script-src blocks them): once a worker failed to start,
  // the tab says why in one line and takes the next mode.
  var workerURL = new URL("worker.js", base).href;
  var eventsURL = new URL("events", base).href;
  var blocked = ""; // why workers cannot start in this page, once one failed
  var starting = null; // fails the worker being started, on a violation
  var streamBlocked = null; // stops the in-page stream, on a violation

  function connect() {
    if (typeof SharedWorker === "function" && !blocked) {
      mode = "shared-worker";
      if (shared) {
        shared.port.postMessage("hello");
      } else {
        try {
          shared = new SharedWorker(workerURL, { name: "hotserve" });
        } catch (err) {
          fallBack(err.name || String(err), true);
          return;
        }
        watchStart(shared.port, shared, receive, function (why) {
          shared.port.close();
          shared = null;
          // A hidden tab takes the next mode when it is shown again.
          var showing = leave !== null;
          leave = null;
          fallBack(why, showing);
        });
      }
      leave = function () { shared.port.postMessage("bye"); };
    } else if (navigator.locks && typeof BroadcastChannel === "function") {
      mode = "follower";
      var last = {};
      var ch = new BroadcastChannel("hotserve");
      ch.onmessage = function (e) {
        if (e.data === "hello") {
          if (owner && last.state) {
            ch.postMessage({ state: last.state });
          }
          if (owner && last.event) {
            ch.postMessage({ event: last.event, replay: true });
          }
        } else {
          receive(e.data);
        }
      };
      ch.postMessage("hello");
      var quit = new AbortController();
      navigator.locks.request("hotserve", { signal: quit.signal }, function () {
        mode = "leader";
        owner = own(function (data) {
          last.state = data.state || last.state;
          last.event = data.event || last.event;
          ch.postMessage(data);
          receive(data);
        });
        // The lock is held until this tab hides or closes.
        return new Promise(function (resolve) { quit.signal.onabort = resolve; });
      }).catch(function () { /* aborted while waiting */ });
      leave = function () {
        quit.abort();
        ch.close();
        if (owner) {
          owner();
          owner = null;
        }
      };
    } else {
      mode = "direct";
      owner = own(receive);
      leave = function () {
        owner();
        owner = null;
      };
    }
  }

  // fallBack says once why the SharedWorker did not start, and takes the
  // next connection mode now if the tab is showing.
  function fallBack(why, now) {
    blocked = why;
    log("the SharedWorker did not start: " + why + "; using " +
      (navigator.locks && typeof BroadcastChannel === "function" ? "one tab's" : "this tab's own") +
      " event stream instead");
    if (now) {
      connect();
    }
  }

  // own starts a stream for this tab alone, in a dedicated worker where
  // workers can start, else in the page, and passes its messages to
  // deliver. It returns the function that ends the stream.
  function own(deliver) {
    var stop = null;
    var ended = false;
    function inPage() {
      if (!ended) {
        stop = pageStream(deliver);
      }
    }
    if (blocked || typeof Worker !== "function") {
      inPage();
    } else {
      try {
        var w = new Worker(workerURL);
        stop = function () { w.terminate(); };
        watchStart(w, w, deliver, function (why) {
          w.terminate();
          blocked = why;
          log("the worker did not start: " + why + "; using an event stream in the page instead");
          inPage();
        });
      } catch (err) {
        blocked = err.name || String(err);
        log("the worker did not start: " + blocked + "; using an event stream in the page instead");
        inPage();
      }
    }
    return function () {
      ended = true;
      stop();
    };
  }

  // watchStart passes the messages of a worker just started (port is where
  // they arrive, target where its errors do) to deliver, and calls fail
  // once if the worker fails to start: the page's policy blocks it, its
  // error event fires, or it says nothing within 5 s (a worker always
  // answers a page at once).
  function watchStart(port, target, deliver, fail) {
    var done = false;
    function finish(why) {
      if (done) {
        return;
      }
      done = true;
      starting = null;
      clearTimeout(timer);
      if (why) {
        fail(why);
      }
    }
    var timer = setTimeout(function () { finish("no answer within 5 s"); }, 5000);
    starting = finish;
    port.onmessage = function (e) {
      finish("");
      deliver(e.data);
    };
    target.addEventListener("error", function () {
      // A policy's violation report may come just after the error.
      setTimeout(function () { finish("it failed to load"); }, 50);
    });
  }

  // A policy that blocks our worker or our stream says so in a violation
  // event; the console line then names the directive to change.
  document.addEventListener("securitypolicyviolation", function (e) {
    var url;
    try {
      url = new URL(e.blockedURI).href;
    } catch (err) {
      return;
    }
    var why = "this page's Content-Security-Policy (" + (e.effectiveDirective || e.violatedDirective) + ") blocks it";
    if (url === workerURL && starting) {
      starting(why);
    } else if (url.split("?")[0] === eventsURL && streamBlocked) {
      streamBlocked(why);
    }
  });

  // pageStream is the event stream in the page itself, for where no worker
  // can start; it behaves as worker.js does, and delivers the same
  // messages. It returns the function that closes it.
  function pageStream(deliver) {
    var source = null;
    var failures = 0;
    var retry = 0;
    var current = "";
    function setState(s) {
      if (s !== current) {
        current = s;
        deliver({ state: s });
      }
    }
    function open() {
      source = new EventSource(eventsURL);
      source.onopen = function () {
        failures = 0;
        setState("connected");
      };
      source.onmessage = function (e) {
        var ev;
        try {
          ev = JSON.parse(e.data);
        } catch (err) {
          return;
        }
        deliver({ event: ev });
      };
      source.onerror = function () {
        setState("lost");
        failures++;
        if (failures === 1 && source.readyState === EventSource.CONNECTING) {
          return;
        }
        source.close();
        retry = setTimeout(open, Math.min(1000 * failures, 3000));
      };
    }
    function close() {
      streamBlocked = null;
      clearTimeout(retry);
      source.close();
    }
    streamBlocked = function (why) {
      close();
      log("the event stream did not open either: " + why + "; this tab will not update by itself");
      state = "blocked";
    };
    open();
    return close;
  }

  // A hidden tab lets go of the stream, so that it neither holds one of the
  // browser's few connections nor keeps the leadership; a page restored
  // from the back/forward cache joins again and is at once told the current
  // build, which it compares with the last one it saw.
  addEventListener("pagehide", function () {
    if (leave) {
      leave();
      leave = null;
    }
  });
  addEventListener("pageshow", function (e) {
    if (e.persisted && !leave) {
      connect();
    }
  });
  restoreScroll();
  connect();
})();
