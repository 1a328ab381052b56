package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hotserve/hotserve/internal/devcert"
)

// The listening socket and TLS: the first step of serve that can fail on
// the machine rather than on the command line.

// openListener loads the certificate when serving HTTPS, opens the socket,
// and refuses a --proxy that points back at it. It returns the listener,
// the URL scheme, and the TLS configuration (nil for plain HTTP).
func openListener(cfg *config, stderr io.Writer, sys surroundings) (net.Listener, string, *tls.Config, error) {
	var tlsConfig *tls.Config
	scheme := "http"
	if cfg.https {
		var err error
		if tlsConfig, err = loadTLS(cfg); err != nil {
			return nil, "", nil, err
		}
		scheme = "https"
	}
	ln, err := listen(cfg, stderr)
	if err != nil {
		return nil, "", nil, err
	}
	if err := checkNotSelf(cfg.opts.Backends, ln.Addr(), sys.interfaceAddrs); err != nil {
		ln.Close()
		return nil, "", nil, err
	}
	return ln, scheme, tlsConfig, nil
}

// listen opens the listening socket. A port the user named must be free; the
// default port may be busy, and then the next free one is used, as Hugo and
// Vite do.
func listen(cfg *config, stderr io.Writer) (net.Listener, error) {
	addr := net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port))
	ln, err := net.Listen("tcp", addr)
	if err == nil || cfg.portIsSet || !addrInUse(err) {
		if err != nil {
			return nil, listenError(cfg, err)
		}
		return ln, nil
	}
	for p := cfg.port + 1; p <= cfg.port+100 && p <= 65535; p++ {
		ln, err2 := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(p)))
		if err2 == nil {
			fmt.Fprintf(stderr, "hotserve: warning: port %d is in use; using %d instead\n", cfg.port, p)
			return ln, nil
		}
	}
	return nil, listenError(cfg, err)
}

func listenError(cfg *config, err error) error {
	if addrInUse(err) {
		return withHint(err, "port %d is in use: stop the program using it, or pick another with --port (0 picks any free port)", cfg.port)
	}
	if accessDenied(err) {
		return withHint(err, "ports below 1024 need privileges; pick a port above 1024 with --port")
	}
	return withHint(err, "check --host: it must be an address of this machine, e.g. 127.0.0.1 or 0.0.0.0")
}

// localURL is the address to print: an unspecified host is reachable on
// loopback. Go listens on [::] for "0.0.0.0", accepting IPv4 as well, so
// the address asked for (host), not the socket's, decides between
// 127.0.0.1 and ::1.
func localURL(ln net.Listener, scheme, host string) string {
	a := ln.Addr().(*net.TCPAddr)
	if ip := net.ParseIP(host); a.IP.IsUnspecified() && ip != nil && ip.To4() == nil {
		host = "::1"
	} else if a.IP.IsUnspecified() {
		host = "127.0.0.1"
	} else {
		host = a.IP.String()
	}
	return siteURL(scheme, host, a.Port)
}

// loadTLS returns the TLS configuration for --https, --cert and --key.
func loadTLS(cfg *config) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	if cfg.certFile != "" {
		if cert, err = tls.LoadX509KeyPair(cfg.certFile, cfg.keyFile); err != nil {
			return nil, withHint(fmt.Errorf("load --cert %s and --key %s: %w", cfg.certFile, cfg.keyFile, err), "pass a PEM certificate and its private key, e.g. made with \"mkcert localhost 127.0.0.1\"")
		}
	} else {
		// Never in DIR: that would serve the key, and write into the
		// user's site.
		cache, err := os.UserCacheDir()
		if err != nil {
			return nil, withHint(fmt.Errorf("find a cache folder for the certificate: %w", err), "set XDG_CACHE_HOME or HOME, or pass your own with --cert and --key")
		}
		if cert, err = devcert.Load(filepath.Join(cache, "hotserve"), devcert.Names([]string{cfg.host}), time.Now()); err != nil {
			return nil, withHint(fmt.Errorf("make a certificate: %w", err), "pass your own with --cert and --key")
		}
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}
