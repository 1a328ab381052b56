package server

import (
	"io"
	"net/http"
)

// userWins returns w, made to set Options.Header once more right before the
// response's header is sent. hotserve sets defaults as it goes
// (Cache-Control no-cache on files and no-store on pages, Content-Type,
// ETag, the resource policy), and a backend sets its own; a header the user
// asked for replaces all of them, on every kind of response. Without
// Options.Header, w is returned as it is.
func (s *Server) userWins(w http.ResponseWriter) http.ResponseWriter {
	if len(s.opts.Header) == 0 {
		return w
	}
	return &userHeaders{ResponseWriter: w, h: s.opts.Header}
}

// userHeaders is a ResponseWriter that copies h into the header when it is
// sent: at WriteHeader, the first Write or ReadFrom, or a Flush before
// either. Each informational (1xx) header gets them too.
type userHeaders struct {
	http.ResponseWriter
	h    http.Header
	sent bool // the final header has been sent
}

func (u *userHeaders) apply() {
	dst := u.ResponseWriter.Header()
	for k, v := range u.h {
		dst[k] = v
	}
}

// send applies h if the final header has not been sent yet.
func (u *userHeaders) send() {
	if !u.sent {
		u.sent = true
		u.apply()
	}
}

func (u *userHeaders) WriteHeader(code int) {
	if !u.sent {
		u.apply()
		u.sent = code >= 200 || code == http.StatusSwitchingProtocols
	}
	u.ResponseWriter.WriteHeader(code)
}

func (u *userHeaders) Write(p []byte) (int, error) {
	u.send()
	return u.ResponseWriter.Write(p)
}

// ReadFrom keeps sendfile for files: net/http's own ResponseWriter does it.
func (u *userHeaders) ReadFrom(r io.Reader) (int64, error) {
	u.send()
	if rf, ok := u.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{u.ResponseWriter}, r)
}

// FlushError is what http.ResponseController calls to flush; a flush sends
// the header if nothing else did.
func (u *userHeaders) FlushError() error {
	u.send()
	return http.NewResponseController(u.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach Hijack, SetWriteDeadline and
// the rest.
func (u *userHeaders) Unwrap() http.ResponseWriter { return u.ResponseWriter }
