package server

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hotserve/hotserve/inject"
)

var zeroTime time.Time

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// serveFile answers GET and HEAD for a path in the folder.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	// Decode and clean once; the deny check and the open use the same name.
	p := path.Clean("/" + r.URL.Path)
	name := strings.TrimPrefix(p, "/")
	if name == "" {
		name = "."
	}
	if !servable(name) {
		http.NotFound(w, r)
		return
	}
	f, err := s.root.Open(name)
	if err != nil {
		if s.opts.SPA && path.Ext(p) == "" && errors.Is(err, fs.ErrNotExist) {
			s.serveIndex(w, r, ".")
			return
		}
		// Escapes, loops and permission errors are all "not here" to a
		// browser; os.Root would otherwise surface them as 500s.
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if fi.IsDir() {
		// The root never redirects: its base name is "/", and "//" would
		// send the browser to another host.
		if p != "/" && !strings.HasSuffix(r.URL.Path, "/") {
			// Relative, as http.FileServer does, so the redirect never
			// leaves this host whatever the request line held.
			redirect(w, r, path.Base(p)+"/")
			return
		}
		s.serveIndex(w, r, name)
		return
	}
	if !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	s.serveContent(w, r, name, f, fi)
}

// servable reports whether a cleaned, slash-separated name may be served:
// no segment may start with a dot, except .well-known. Dotfiles are where
// secrets live (.env, .git, .npmrc).
func servable(name string) bool {
	if strings.IndexByte(name, 0) >= 0 {
		return false
	}
	for seg := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(seg, ".") && seg != "." && !strings.EqualFold(seg, ".well-known") {
			return false
		}
	}
	return true
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if q := r.URL.RawQuery; q != "" {
		to += "?" + q
	}
	w.Header().Set("Location", to)
	w.WriteHeader(http.StatusMovedPermanently)
}

// serveIndex serves dir/index.html, or a listing of dir if it has none.
func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request, dir string) {
	name := path.Join(dir, "index.html")
	f, err := s.root.Open(name)
	if err == nil {
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			s.serveContent(w, r, name, f, fi)
			return
		}
	}
	s.serveListing(w, r, dir)
}

// file is what serveContent needs of an open file.
type file interface {
	io.ReaderAt
	io.ReadSeeker
}

// serveContent serves an open regular file, injecting the reload script into
// HTML documents. Both paths go through http.ServeContent, so HEAD, Range and
// conditional requests are computed on exactly the bytes sent.
func (s *Server) serveContent(w http.ResponseWriter, r *http.Request, name string, f file, fi fs.FileInfo) {
	h := w.Header()
	cur := s.events.cur.Load()
	if s.injectable(r, name) {
		pt, err := inject.Find(io.NewSectionReader(f, 0, fi.Size()))
		if err != nil {
			s.log.Printf("warning: %s: %v", name, err)
			http.NotFound(w, r)
			return
		}
		if pt.OK {
			// The page embeds the build, so its validator does too, and
			// it must never come from a cache: a cached page carries an
			// old build and would reload forever.
			h.Set("Cache-Control", "no-store")
			h.Set("ETag", etag("i", fi, cur.build))
			http.ServeContent(w, r, name, zeroTime, &splice{f: f, size: fi.Size(), at: pt.Offset, tag: cur.tag})
			return
		}
		if _, seen := s.warned.LoadOrStore(name, struct{}{}); !seen {
			s.log.Printf("warning: %s: %s; reload script not injected", name, pt.Reason)
		}
	}
	// No Last-Modified: its one-second resolution would answer a request
	// made in the same second as an edit with a stale 304. The ETag holds
	// the modification time in nanoseconds and the build, which every
	// announced change raises.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", etag("f", fi, cur.build))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(w, r, name, zeroTime, f)
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
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "", "document", "iframe":
		return true
	}
	return false
}

// serveListing lists a folder that has no index.html. Names are escaped in
// both the link and the text; dotfiles are left out since they are never
// served.
func (s *Server) serveListing(w http.ResponseWriter, r *http.Request, dir string) {
	d, err := s.root.Open(dir)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		http.NotFound(w, r)
		return
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })

	title := html.EscapeString("/" + strings.TrimPrefix(dir+"/", "./"))
	var b bytes.Buffer
	b.WriteString("<!doctype html>\n<html><head><meta charset=\"utf-8\">")
	if !s.opts.NoReload {
		b.Write(s.events.cur.Load().tag)
	}
	fmt.Fprintf(&b, "<title>%s</title></head>\n<body><h1>%s</h1>\n<ul>\n", title, title)
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
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
