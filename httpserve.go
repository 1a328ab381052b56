package main

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"
)

// serveHTTP runs the HTTP server on ln in g until ctx is done, then shuts
// it down: two members of the group, one serving, one waiting to stop it.
// With tlsConfig it serves HTTPS and HTTP/2.
func serveHTTP(ctx context.Context, g *errgroup.Group, handler http.Handler, ln net.Listener, tlsConfig *tls.Config, logger *log.Logger) {
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		// Event streams never go idle, so Shutdown alone would wait for
		// them forever; cancelling this context ends them.
		BaseContext: func(net.Listener) context.Context { return ctx },
		// What net/http logs (failed TLS handshakes, broken
		// connections) is a warning, and says so.
		ErrorLog:  log.New(logger.Writer(), logger.Prefix()+"warning: ", 0),
		TLSConfig: tlsConfig,
	}
	g.Go(func() error {
		var err error
		if tlsConfig != nil {
			// With the certificate in TLSConfig, ServeTLS offers HTTP/2
			// (h2 in NextProtos), so every tab's requests and event
			// stream share one connection.
			err = hs.ServeTLS(ln, "", "")
		} else {
			err = hs.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			return hs.Close()
		}
		return nil
	})
}

// The limits on what a request may send before it is answered; SECURITY.md
// states them and TestStatedLimits holds it to these values.
const (
	// readHeaderTimeout closes a connection that has not sent its whole
	// request line and headers in this time (slowloris).
	readHeaderTimeout = 10 * time.Second
	// maxHeaderBytes bounds the request line and headers together. Go's
	// server allows 4096 bytes more than this before it answers 431.
	maxHeaderBytes = 1 << 20
)

// logRequests prints one line per request, for --verbose.
func logRequests(h http.Handler, logger *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		h.ServeHTTP(rec, r)
		logger.Printf("%s %s %d %v", r.Method, r.URL.RequestURI(), rec.status, time.Since(start).Round(time.Microsecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach Flush and SetWriteDeadline.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
