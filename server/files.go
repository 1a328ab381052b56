package server

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hotserve/hotserve/inject"
	"github.com/hotserve/hotserve/internal/deny"
)

var zeroTime time.Time

// serveFile answers GET and HEAD for a path in the folder, r's path taken
// as relative to it.
func (fd *folder) serveFile(s *Server, w http.ResponseWriter, r *http.Request) {
	// Decode and clean once; the deny check and the open use the same name.
	p := path.Clean("/" + r.URL.Path)
	name := strings.TrimPrefix(p, "/")
	if name == "" {
		name = "."
	}
	root := fd.root.Load()
	if strings.HasSuffix(r.URL.Path, "/") {
		// Most folder requests are for their index.html: open it
		// straight away rather than the folder first.
		if fd.serveIndexFile(s, w, r, root, name) {
			return
		}
	}
	f, fi, err := open(root, name)
	if err != nil {
		if fd.spa && errors.Is(err, fs.ErrNotExist) && !denied(name) && appRoute(r, p) {
			fd.serveIndex(s, w, r, root, ".", nil)
			return
		}
		// Denied names, escapes, loops and permission errors are all
		// "not here" to a browser; os.Root would otherwise surface some
		// as 500s, and a 403 would confirm that a secret exists.
		s.warnEscape(fd, err)
		s.notFound(w, r, fd.prefix)
		return
	}
	defer f.Close()
	if fi.IsDir() {
		// The root never redirects: its base name is "/", and "//" would
		// send the browser to another host.
		if p != "/" && !strings.HasSuffix(r.URL.Path, "/") {
			// Relative, as http.FileServer does, so the redirect never
			// leaves this host whatever the request line held.
			redirect(w, r, path.Base(p)+"/")
			return
		}
		if strings.HasSuffix(r.URL.Path, "/") {
			// index.html was looked for before the folder was opened.
			fd.serveListing(s, w, r, root, name, f)
			return
		}
		fd.serveIndex(s, w, r, root, name, f)
		return
	}
	// open returns regular files and folders only.
	fd.serveContent(s, w, r, name, f, fi)
}

// errDenied is returned by open for a name that is never served.
var errDenied = errors.New("denied")

// testHookBeforeOpen, if not nil, is called by open with the name it was
// given once the name has been checked against the deny rules and before
// anything is opened. Tests swap the name for a link to a secret there:
// that is the window in which an open by name, after a check by name,
// follows the new link. It is nil outside tests.
var testHookBeforeOpen func(name string)

// errNotRegular is returned by open for a named pipe, device or socket:
// only regular files and folders are served.
var errNotRegular = errors.New("not a regular file or folder")

// checkOpened returns f, which open just opened as name, with its
// FileInfo if it is a regular file or a folder, and closes it otherwise.
// Its one fstat serves both this check and open's caller.
func checkOpened(f *os.File, name string) (*os.File, fs.FileInfo, error) {
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		err = errNotRegular
	}
	if err != nil {
		f.Close()
		return nil, nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return f, fi, nil
}

// redirect answers with a relative redirect to to, a name within the
// current folder. The "./" and the escaping keep any name, even one that
// starts with backslashes (which browsers read as "//", another host) or
// contains a colon (a scheme), a path on this host.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	// The query goes along as sent, unless it is not one: a malformed
	// escape would make the Location unparseable, and a "#" (which Go
	// leaves in a request's raw query) would start a fragment.
	q := r.URL.RawQuery
	if _, err := url.ParseQuery(q); err != nil {
		q = ""
	}
	u := url.URL{Path: "./" + to, RawQuery: strings.ReplaceAll(q, "#", "%23")}
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusMovedPermanently)
}

// serveIndex serves dir/index.html, or a listing of dir if it has none.
func (fd *folder) serveIndex(s *Server, w http.ResponseWriter, r *http.Request, root *tree, dir string, d *os.File) {
	if !fd.serveIndexFile(s, w, r, root, dir) {
		fd.serveListing(s, w, r, root, dir, d)
	}
}

// serveIndexFile serves dir/index.html if it is a regular file, and reports
// whether it did.
func (fd *folder) serveIndexFile(s *Server, w http.ResponseWriter, r *http.Request, root *tree, dir string) bool {
	name := path.Join(dir, "index.html")
	f, fi, err := open(root, name)
	if err != nil {
		return false
	}
	defer f.Close()
	if !fi.Mode().IsRegular() {
		return false
	}
	fd.serveContent(s, w, r, name, f, fi)
	return true
}

// serveContent serves an open regular file, injecting the reload script into
// HTML documents. It decides what goes out; send.go sends it. Both paths go
// through http.ServeContent, so HEAD, Range and conditional requests are
// computed on exactly the bytes sent.
//
// A page up to maxBuffered is read whole first and the script placed in those
// bytes, so an editor rewriting the file meanwhile cannot leave the script
// half inside a tag or the body shorter than its Content-Length: the page is
// whatever was read, complete, and the next reload brings the new one. A
// bigger page is spliced while it is sent; if it shrinks, the read fails and
// the connection is closed before the promised length, which a browser
// treats as a failed load rather than a whole page. Other files are sent as
// http.ServeContent does, which ends the same way.
func (fd *folder) serveContent(s *Server, w http.ResponseWriter, r *http.Request, name string, f file, fi fs.FileInfo) {
	h := w.Header()
	cur := s.events.cur.Load()
	if s.injectable(r, name) {
		pg, err := readHTML(f, fi.Size(), len(cur.tag))
		if err != nil {
			s.notFound(w, r, fd.prefix) // vanished or unreadable: nothing sent yet
			return
		}
		defer pg.release()
		pt, err := s.points.pointOf(&pg, cur.tag)
		if err != nil {
			s.log.Printf("warning: %s: %v", name, err)
			s.notFound(w, r, fd.prefix)
			return
		}
		setPageType(h, &s.types, fd.dir, name, pg.src, fi)
		if pt.Reason == inject.Fragment && navigation(r) {
			// The browser says it will show this as a page, and it will,
			// whatever it holds; without the script the tab would never
			// update again. This is also what a navigation gets when it
			// lands between an editor's truncate and write: an empty file.
			pt.OK = true
		}
		if pt.OK {
			// The page embeds the build, so its validator does too, and
			// it must never come from a cache: a cached page carries an
			// old build and would reload forever.
			h.Set("Cache-Control", "no-store")
			h.Set("ETag", etag("i", fi, cur.build))
			sendPage(w, r, name, &pg, pt.Offset, cur.tag)
			return
		}
		if _, seen := s.warned.LoadOrStore(path.Join(fd.prefix, name), struct{}{}); !seen {
			s.log.Printf("warning: %s: %s; reload script not injected", name, pt.Reason)
		}
		f = pg.src
	} else {
		setPageType(h, &s.types, fd.dir, name, f, fi)
	}
	// No Last-Modified: its one-second resolution would answer a request
	// made in the same second as an edit with a stale 304. The ETag holds
	// the modification time in nanoseconds and the build, which every
	// announced change raises.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", etag("f", fi, cur.build))
	if err := sendFile(w, r, name, f, fi.Size()); err != nil {
		s.notFound(w, r, fd.prefix) // nothing sent yet
	}
}

func etag(kind string, fi fs.FileInfo, build int64) string {
	return fmt.Sprintf(`"%s%x-%x-%x"`, kind, fi.Size(), fi.ModTime().UnixNano(), build)
}

// injectable reports whether a response for name should carry the script:
// only .html and .htm files, and only when the browser will render them as a
// document. A fetch() or htmx request for a page says Sec-Fetch-Dest: empty,
// and must get the file as it is.
func (s *Server) injectable(r *http.Request, name string) bool {
	if s.opts.NoReload {
		return false
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm":
	default:
		return false
	}
	return shownAsPage(r)
}

// shownAsPage reports whether a response to r may be shown as a page: the
// browser says so, or says nothing (curl, older browsers).
func shownAsPage(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Dest") == "" || navigation(r)
}

// navigation reports whether the browser said it will show the response as
// a page of its own: a tab or a frame. Requests without Sec-Fetch-Dest (curl,
// old browsers) are not known to be navigations.
func navigation(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "document", "iframe":
		return true
	}
	return false
}

// serveListing lists a folder that has no index.html. Names are escaped in
// both the link and the text. Entries that would not be served are left
// out: denied names, and links that lead to one, out of the folder or
// nowhere.
func (fd *folder) serveListing(s *Server, w http.ResponseWriter, r *http.Request, root *tree, dir string, d *os.File) {
	if d == nil {
		var err error
		if d, _, err = open(root, dir); err != nil {
			s.notFound(w, r, fd.prefix)
			return
		}
		defer d.Close()
	}
	entries, err := d.ReadDir(-1)
	if err != nil {
		s.notFound(w, r, fd.prefix)
		return
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })

	title := html.EscapeString(fd.prefix + "/" + strings.TrimPrefix(dir+"/", "./"))
	var b bytes.Buffer
	b.WriteString("<!doctype html>\n<html><head><meta charset=\"utf-8\">")
	if !s.opts.NoReload {
		b.Write(s.events.cur.Load().tag)
	}
	fmt.Fprintf(&b, "<title>%s</title></head>\n<body><h1>%s</h1>\n<ul>\n", title, title)
	for _, e := range entries {
		n := e.Name()
		if denied(n) || deny.Irregular(e.Type()) {
			continue // never served
		}
		if e.Type()&fs.ModeSymlink != 0 {
			// Listed only if a request for it would be served: open
			// applies every rule to every name the link leads through.
			lf, _, err := open(root, path.Join(dir, n))
			if err != nil {
				continue
			}
			lf.Close()
		}
		if e.IsDir() {
			n += "/"
		}
		// "./" keeps a name with a colon from reading as a URL scheme.
		u := url.URL{Path: "./" + n}
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", html.EscapeString(u.String()), html.EscapeString(n))
	}
	b.WriteString("</ul></body></html>\n")

	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", zeroTime, bytes.NewReader(b.Bytes()))
}
