// Package inject decides where hotserve's reload script goes in an HTML page
// and splices it in without touching any other byte.
//
// The package works on bytes, not on a parsed tree. Re-rendering a parsed
// page would normalise the author's markup (quotes, entities, case,
// whitespace, implied tags), so what the browser sees would no longer be what
// is on disk, and bugs in the page would hide or appear only under hotserve.
// Instead the page is run through golang.org/x/net/html's tokenizer, whose
// raw token bytes partition the input exactly; the insertion point is the sum
// of the raw lengths of the tokens before it, and everything else is copied
// verbatim. Because the result is a plain offset, a server can serve
// file[:off] + tag + file[off:] from the file itself with http.ServeContent,
// so Range, HEAD and Content-Length keep working.
//
// # Whether to inject
//
// Only whole documents get the tag: a page with a doctype, or an <html>,
// <head> or <body> start tag outside <template> contents. Partials fetched by
// htmx or fetch have none of these; they end up inside a page that already
// has the script, and a second copy swapped in (htmx runs scripts in swapped
// content) would open another event stream each time. Pages that start with
// a UTF-16 byte order mark are left alone because the tag's UTF-8 bytes would
// be garbage in them, and pages with a byte in their first 512 bytes that
// WHATWG MIME sniffing treats as binary are most likely not HTML at all,
// whatever their name says. A page that already carries a
// <script src="/__hotserve/client.js"> at the insertion point is left alone
// too, so injecting twice (a proxy in front of hotserve, or a page saved from
// the browser) changes nothing.
//
// # Where to inject
//
// The tag goes at the earliest point where it is still in the document head,
// so the client connects before large bodies finish loading: right after the
// <head> start tag; failing that, right after <html>; failing that, right after
// the doctype; failing that, right before the first token that is not a
// comment or whitespace. It is never placed before a doctype or a UTF-8 byte
// order mark, and never inside a comment, a tag, or raw text such as <script>,
// <style>, <title> or <textarea>.
//
// Only as much of the page is read as the decision needs, and never more than
// MaxScan bytes, so serving a large page costs little more than serving the
// file.
package inject
