package server

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/hotserve/hotserve/assets"
	"github.com/hotserve/hotserve/inject"
)

// Wrap returns a handler that adds live reload to h: requests under Prefix
// are the Server's own (the client script and the event stream), and every
// other request goes to h, whose HTML pages get the reload script on their
// way out. It is how a Go program gets live reload without hotserve's
// command:
//
//	srv, _ := server.New("", server.Options{})
//	http.ListenAndServe("127.0.0.1:8080", srv.Wrap(app))
//	// and after templates change: srv.Reload()
//
// A response is injected when it is a 200 or an error (4xx, 5xx) to a GET,
// says Content-Type text/html and is for a page the browser will show
// (Sec-Fetch-Dest document, iframe or none: not a fetch() or an htmx
// request), with the rules and tokenizer used for files: an error page shown
// in a tab reloads, too, once the fix is announced. It is streamed, not
// buffered: the bytes before the insertion point are held (at most
// inject.MaxScan, and no longer than pauseAfter once h stops writing), the
// rest flows as h writes and flushes it. A gzip, deflate or br body is
// decoded and sent without Content-Encoding. An injected page loses its
// Content-Length, ETag and Content-MD5, which no longer match, and gets
// Cache-Control: no-store, because a cached page carries an old build. A
// nonce in the response's Content-Security-Policy header is put on the
// script tag. Other responses pass through untouched, with Flush, Hijack
// (WebSocket upgrades) and write deadlines reaching the real connection.
//
// The checks ServeHTTP makes on every request (Host, cross-site
// subresources) are made here too, and the same headers set.
func (s *Server) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.guard(w, r) {
			return
		}
		w = s.userWins(w)
		if rest, ok := strings.CutPrefix(r.URL.Path, Prefix); ok {
			s.serveReserved(w, r, rest)
			return
		}
		s.serveInjected(w, r, h)
	})
}

// serveInjected runs h with a ResponseWriter that injects into its pages.
// If the page cannot be sent whole (the body does not decode, the browser
// goes away), the connection is cut so that the browser sees a failed load
// rather than a truncated page.
func (s *Server) serveInjected(w http.ResponseWriter, r *http.Request, h http.Handler) {
	iw := &injectWriter{w: w, r: r, s: s}
	finished := false
	defer func() {
		if !finished {
			iw.close(errHandlerPanicked)
		}
	}()
	h.ServeHTTP(iw, r)
	finished = true
	if err := iw.close(nil); err != nil {
		if !iw.sent {
			// Nothing reached the browser yet: a proper answer is
			// still possible.
			s.log.Printf("warning: %s: %v; page not sent", r.URL.Path, err)
			clear(w.Header())
			s.setOwnHeaders(w.Header(), r)
			http.Error(w, "502 bad gateway: the page could not be decoded", http.StatusBadGateway)
			return
		}
		panic(http.ErrAbortHandler)
	}
}

var errHandlerPanicked = errors.New("handler panicked")

// injectWriter is the ResponseWriter serveInjected hands to h. It decides
// at WriteHeader whether the response is a page to inject; if so, the body
// h writes goes through a pipe to a goroutine that decodes it, places the
// tag and writes it to w. close waits for that goroutine.
type injectWriter struct {
	w http.ResponseWriter
	r *http.Request
	s *Server

	decided bool           // WriteHeader was called
	code    int            // the status of an injected page
	late    http.Header    // what Header returns once an injected page's header is decided
	pw      *io.PipeWriter // non-nil when injecting
	done    chan error     // the goroutine's result
	sent    bool           // the goroutine wrote the header to w; read after done
}

// Header returns the response's header until WriteHeader. For an injected
// page it then returns a map of its own: the goroutine that sends the page
// still edits the real one, and h (ReverseProxy looks for trailers) must not
// race with it. Changes made after WriteHeader had no effect anyway.
func (iw *injectWriter) Header() http.Header {
	if iw.late != nil {
		return iw.late
	}
	return iw.w.Header()
}

// Unwrap lets http.ResponseController reach Hijack, SetWriteDeadline and
// the like on the real connection.
func (iw *injectWriter) Unwrap() http.ResponseWriter { return iw.w }

func (iw *injectWriter) WriteHeader(code int) {
	if iw.decided {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		iw.w.WriteHeader(code) // 103 Early Hints and the like; more follows
		return
	}
	iw.decided = true
	enc, ok := iw.s.injectableResponse(iw.r, code, iw.w.Header())
	if !ok {
		iw.w.WriteHeader(code)
		return
	}
	if iw.r.Method == http.MethodHead {
		// No body to inject, but the headers must be the ones a GET
		// gets: that page is streamed with the tag in it, decoded.
		h := iw.w.Header()
		dropBodyHeaders(h)
		h.Set("Cache-Control", "no-store")
		iw.w.WriteHeader(code)
		return
	}
	pr, pw := io.Pipe()
	iw.pw, iw.done, iw.code = pw, make(chan error, 1), code
	iw.late = iw.w.Header().Clone()
	go func() { iw.done <- iw.inject(pr, enc) }()
}

func (iw *injectWriter) Write(p []byte) (int, error) {
	if !iw.decided {
		if iw.w.Header().Get("Content-Type") == "" {
			iw.w.Header().Set("Content-Type", http.DetectContentType(p))
		}
		iw.WriteHeader(http.StatusOK)
	}
	if iw.pw != nil {
		return iw.pw.Write(p)
	}
	return iw.w.Write(p)
}

// FlushError passes a flush on when the body is not being injected; an
// injected body is flushed by the goroutine after every write, which is
// when its bytes reach w.
func (iw *injectWriter) FlushError() error {
	if !iw.decided {
		iw.WriteHeader(http.StatusOK)
	}
	if iw.pw != nil {
		return nil
	}
	return http.NewResponseController(iw.w).Flush()
}

// close ends the body with err (nil for a complete one) and waits for the
// injecting goroutine, returning its error.
func (iw *injectWriter) close(err error) error {
	if iw.pw == nil {
		return nil
	}
	iw.pw.CloseWithError(err)
	return <-iw.done
}

// inject runs in the goroutine: it reads the body from pr, decodes it and
// writes it to w with the tag.
func (iw *injectWriter) inject(pr *io.PipeReader, enc string) error {
	src, err := decoder(enc, pr)
	if err != nil {
		pr.CloseWithError(errPageSent)
		return err
	}
	in := arrive(src)
	defer func() {
		// Unblocks h if the body goes on past what was read, and with it
		// the goroutine reading it.
		pr.CloseWithError(errPageSent)
		in.stop()
		if c, ok := src.(io.Closer); ok {
			c.Close()
		}
	}()
	h := iw.w.Header()
	out := &flushWriter{w: iw.w, rc: http.NewResponseController(iw.w), header: func() { iw.sent = true; iw.w.WriteHeader(iw.code) }}
	cur := iw.s.events.cur.Load()
	// The tag is built anew only for a page whose own policy names
	// another nonce than the one the current tag carries.
	tag := cur.tag
	if n := cspNonce(h); n != iw.s.events.nonce {
		tag = assets.TagWithTree(cur.build, cur.tree, n)
	}
	_, err = inject.Stream(out, in, tag, func(p inject.Point) bool {
		in.decided()
		ok := p.OK || p.Reason == inject.Fragment && navigation(iw.r)
		if ok || enc != "" {
			// The bytes change: the backend's length and validators
			// describe other bytes.
			dropBodyHeaders(h)
		}
		if ok {
			h.Set("Cache-Control", "no-store")
		}
		return ok
	})
	if err == nil && in.paused {
		// The point was decided on what had arrived; the rest follows.
		_, err = io.Copy(out, in)
	}
	if err == nil {
		out.writeHeader()
	}
	return err
}

var errPageSent = errors.New("page already sent")

// pauseAfter is how long the search for the insertion point waits for more
// of a page once some of it has arrived and the backend has gone quiet: a
// streamed page's shell must reach the browser while the rest is computed.
var pauseAfter = 50 * time.Millisecond

// arrivals reads a page in a goroutine of its own, so that the search for
// the insertion point need not wait for bytes that may take long to come.
// Until decided, a Read that finds nothing new within pauseAfter, once
// something has arrived, ends the input for the search (io.EOF, once): the
// point is then chosen from what the browser would have too, which the
// tokenizer reads as a page cut short (a tag cut in two ends its tokens, so
// the point never falls inside one). Reads after that wait as long as it
// takes.
type arrivals struct {
	chunks chan chunk    // from the goroutine
	ack    chan struct{} // to it: the last chunk's bytes are used up
	quit   chan struct{}
	done   chan struct{}
	buf    *[32 << 10]byte // the goroutine's; rest is a part of it

	rest    []byte // what is left of the last chunk
	err     error  // the source's error, once it came
	got     bool   // some bytes arrived
	patient bool   // the point is decided: no more early ends
	paused  bool   // the search's input was ended early
}

type chunk struct {
	b   []byte
	err error
}

// chunkBuffers holds the goroutines' buffers between pages.
var chunkBuffers = sync.Pool{New: func() any { return new([32 << 10]byte) }}

func arrive(src io.Reader) *arrivals {
	a := &arrivals{chunks: make(chan chunk), ack: make(chan struct{}), quit: make(chan struct{}), done: make(chan struct{})}
	a.buf = chunkBuffers.Get().(*[32 << 10]byte)
	go a.run(src)
	return a
}

// run reads src into one buffer, handing each chunk over and waiting until
// it is used before reading again.
func (a *arrivals) run(src io.Reader) {
	defer close(a.done)
	for {
		n, err := src.Read(a.buf[:])
		select {
		case a.chunks <- chunk{a.buf[:n], err}:
		case <-a.quit:
			return
		}
		if err != nil {
			return
		}
		select {
		case <-a.ack:
		case <-a.quit:
			return
		}
	}
}

// fill waits until rest holds bytes or err is set. It returns false if the
// search's wait ran out first.
func (a *arrivals) fill() bool {
	for len(a.rest) == 0 && a.err == nil {
		c, ok := a.next()
		if !ok {
			return false
		}
		a.rest, a.err = c.b, c.err
		a.got = a.got || len(c.b) > 0
		if c.err == nil && len(c.b) == 0 {
			a.ack <- struct{}{}
		}
	}
	return true
}

// use drops n used bytes from rest, and lets the goroutine read on once
// the chunk is used up.
func (a *arrivals) use(n int) {
	a.rest = a.rest[n:]
	if len(a.rest) == 0 && a.err == nil {
		a.ack <- struct{}{}
	}
}

func (a *arrivals) Read(p []byte) (int, error) {
	if !a.fill() {
		a.patient, a.paused = true, true
		return 0, io.EOF
	}
	if len(a.rest) == 0 {
		return 0, a.err
	}
	n := copy(p, a.rest)
	a.use(n)
	return n, nil
}

// WriteTo copies the rest of the page, once the point is decided, straight
// from the goroutine's buffer: io.Copy would allocate one more.
func (a *arrivals) WriteTo(w io.Writer) (int64, error) {
	a.patient = true
	var total int64
	for a.fill() && len(a.rest) > 0 {
		n, err := w.Write(a.rest)
		total += int64(n)
		a.use(n)
		if err != nil {
			return total, err
		}
	}
	if a.err == io.EOF {
		return total, nil
	}
	return total, a.err
}

// next waits for the next chunk; ok is false if the search's wait ran out.
func (a *arrivals) next() (c chunk, ok bool) {
	if !a.got || a.patient {
		return <-a.chunks, true
	}
	t := time.NewTimer(pauseAfter)
	defer t.Stop()
	select {
	case c = <-a.chunks:
		return c, true
	case <-t.C:
		return chunk{}, false
	}
}

// decided ends the early ends: the rest of the page is copied as it comes.
func (a *arrivals) decided() { a.patient = true }

// stop ends the goroutine; the source must have been made to return.
func (a *arrivals) stop() {
	close(a.quit)
	<-a.done
	a.rest = nil
	chunkBuffers.Put(a.buf)
}

// flushWriter writes the header before the first byte and flushes after
// every write, so that a page the backend streams reaches the browser as it
// comes.
type flushWriter struct {
	w      io.Writer
	rc     *http.ResponseController
	header func()
	wrote  bool
}

func (f *flushWriter) writeHeader() {
	if !f.wrote {
		f.wrote = true
		f.header()
	}
}

func (f *flushWriter) Write(p []byte) (int, error) {
	f.writeHeader()
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	if err := f.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return n, err
	}
	return n, nil
}

// injectableResponse reports whether a response is a page to inject, and
// with which of the supported content codings ("" for none) its body is
// encoded.
func (s *Server) injectableResponse(r *http.Request, code int, h http.Header) (string, bool) {
	// An error page is shown like any other, and must reload once the
	// error is fixed; a 2xx other than 200 or a 3xx is not a page to show.
	shown := code == http.StatusOK || code >= 400
	if s.opts.NoReload || r.Method != http.MethodGet && r.Method != http.MethodHead || !shown || h.Get("Content-Range") != "" {
		return "", false
	}
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "text/html" {
		return "", false
	}
	if !shownAsPage(r) {
		return "", false
	}
	switch enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))); enc {
	case "", "identity":
		return "", true
	case "gzip", "x-gzip", "deflate", "br":
		return enc, true
	}
	return "", false // stacked or unknown codings pass through as they are
}

// decoder returns a reader of r's decoded bytes. "deflate" is meant to be
// zlib-wrapped (RFC 9110), but some servers send raw deflate; the first two
// bytes tell them apart.
func decoder(enc string, r io.Reader) (io.Reader, error) {
	switch enc {
	case "gzip", "x-gzip":
		return gzip.NewReader(r)
	case "br":
		return brotli.NewReader(r), nil
	case "deflate":
		br := bufio.NewReader(r)
		if b, err := br.Peek(2); err == nil && b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0 {
			return zlib.NewReader(br)
		}
		return flate.NewReader(br), nil
	}
	return r, nil
}

// cspNonce returns the nonce a Content-Security-Policy header allows
// scripts with, from script-src-elem, script-src or default-src (the order
// in which browsers fall back), or "" if there is none.
func cspNonce(h http.Header) string {
	for _, directive := range []string{"script-src-elem", "script-src", "default-src"} {
		for _, policy := range h.Values("Content-Security-Policy") {
			// Several policies may be joined by commas in one header.
			for p := range strings.SplitSeq(policy, ",") {
				for d := range strings.SplitSeq(p, ";") {
					fields := strings.Fields(d)
					if len(fields) == 0 || !strings.EqualFold(fields[0], directive) {
						continue
					}
					for _, src := range fields[1:] {
						if len(src) > len("'nonce-'") && strings.HasPrefix(strings.ToLower(src), "'nonce-") && strings.HasSuffix(src, "'") {
							return src[len("'nonce-") : len(src)-1]
						}
					}
				}
			}
		}
	}
	return ""
}

// dropBodyHeaders removes what describes a backend's bytes once hotserve
// sends other ones: decoded, or with the tag in them.
func dropBodyHeaders(h http.Header) {
	for _, k := range []string{"Content-Length", "Content-Encoding", "ETag", "Content-MD5"} {
		h.Del(k)
	}
}
