// Package inject decides where hotserve's reload script goes in an HTML page
// and splices it in without touching any other byte.
//
// It knows nothing of URLs or HTTP: the caller passes the tag to insert,
// and the tag's src is what marks a page as injected already.
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
// WHATWG MIME sniffing treats as binary (a NUL excepted: the HTML parser
// copes with it, and a browser shows such a page) are most likely not HTML
// at all, whatever their name says. A page that already carries a
// <script> with the tag's own src at the insertion point is left alone
// too, so injecting twice (a proxy in front of hotserve, or a page saved from
// the browser) changes nothing.
//
// # Where to inject
//
// The tag goes at the earliest point where it is still in the document head,
// so the client connects before large bodies finish loading, and where it
// changes nothing else in the tree the browser builds: with the script
// element taken out, the DOM of the served page equals the DOM of the file.
// That rules out placing it before anything the parser's first insertion
// modes treat differently from the head: whitespace (dropped there, a text
// node in the head), comments (children of the document or of <html>, not of
// the head), a doctype (it decides quirks mode), the attributes of <html>,
// and stray end tags (ignored in both places, but what follows them is not).
// So the tag goes right after the <head> start tag; failing that, after
// every leading doctype, <html>, comment, stray end tag and run of
// whitespace, right before the first token that is none of these (for text,
// after its leading whitespace), or at the end of a file made of nothing
// else. It is never placed before a doctype or a UTF-8 byte order mark, and
// never inside a comment (one cut off by the end of the file gets the tag
// before it), a tag, or raw text such as <script>, <style>, <title> or
// <textarea>.
//
// Only as much of the page is read as the decision needs, and never more than
// MaxScan bytes, so serving a large page costs little more than serving the
// file.
package inject
