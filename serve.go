package main

import (
	"cmp"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/hotserve/hotserve/server"
)

// serve is the command's action: it checks the command line, then runs the
// steps of serving, each in a file of its own: the server, the listener
// and TLS (listen.go), the banner (banner.go), the HTTP server's lifecycle
// (httpserve.go) and the watchers (watchers.go), all in one errgroup that
// ends when the context given to run is cancelled.
func serve(c *cli.Context, sys surroundings) error {
	cfg, err := parse(c)
	if err != nil {
		return err
	}
	// Output is for the developer; when its reader goes away (hotserve
	// | head), serving goes on without it.
	stdout, stderr := quietOnError(sys.stdout), quietOnError(sys.stderr)
	logger := log.New(stderr, "hotserve: ", 0)
	if cfg.quiet {
		logger.SetOutput(io.Discard)
	}
	cfg.opts.ErrorLog = logger
	var srv *server.Server
	requested := reloadRequested(logger, cfg.opts.NoReload, func() int { return srv.Streams() })
	cfg.opts.OnTrigger = func(paths []string) { requested("POST "+server.Prefix+"reload", paths) }

	srv, err = server.New(cfg.dir, cfg.opts)
	if err != nil {
		return withHint(err, "check DIR, --mount and --proxy")
	}
	defer srv.Close()
	ln, scheme, tlsConfig, err := openListener(cfg, stderr, sys)
	if err != nil {
		return err
	}
	url := localURL(ln, scheme, cfg.host)
	greet(cfg, ln, scheme, url, stdout, stderr, sys)

	g, ctx := errgroup.WithContext(c.Context)
	var handler http.Handler = srv
	if cfg.verbose {
		handler = logRequests(srv, logger)
	}
	serveHTTP(ctx, g, handler, ln, tlsConfig, logger)
	for _, b := range cfg.opts.Backends {
		if !cfg.quiet {
			logger.Printf("proxying %s to %s", cmp.Or(b.Path, "/"), b.URL.Redacted())
		}
	}
	if cfg.open {
		// Owned by the group like every goroutine; a browser that cannot
		// be opened is no reason to stop serving.
		g.Go(func() error {
			if err := sys.openBrowser(url); err != nil {
				fmt.Fprintf(stderr, "hotserve: warning: could not open a browser: %v; open %s yourself\n", err, url)
			}
			return nil
		})
	}
	// SIGHUP is handled even without reloading, so that a build tool's
	// "kill -HUP" never ends hotserve.
	g.Go(func() error {
		onReloadSignal(ctx, func() {
			if !cfg.opts.NoReload {
				srv.Reload()
			}
			requested("signal", nil)
		})
		return nil
	})
	if !cfg.opts.NoReload {
		watchSources(ctx, g, srv, cfg, logger)
	}
	return g.Wait()
}

// reloadRequested returns the logger of reloads asked for by a build tool
// (by says how: the POST or the signal), which are logged as a change is:
// the user sees that one came, and that it did nothing under --no-reload.
// streams counts the browsers listening.
func reloadRequested(logger *log.Logger, noReload bool, streams func() int) func(by string, paths []string) {
	return func(by string, paths []string) {
		now := time.Now().Format("15:04:05")
		if noReload {
			logger.Printf("%s reload requested by %s, but --no-reload is on", now, by)
			return
		}
		what := ""
		if len(paths) > 0 {
			what = ": " + summarize(paths)
		}
		logger.Printf("%s reload requested by %s%s (%s)", now, by, what, connected(streams()))
	}
}

// greet prints the banner once hotserve listens, or under --quiet only the
// URL, and the warning that the folder is exposed to the network.
func greet(cfg *config, ln net.Listener, scheme, url string, stdout, stderr io.Writer, sys surroundings) {
	if !cfg.quiet {
		tty := sys.isTerminal(sys.stdout)
		exposed := isExposed(ln)
		banner{
			version: currentBuild().version,
			dir:     cfg.dir,
			local:   url,
			network: networkURLs(ln, scheme, sys.interfaceAddrs),
			exposed: exposed,
			color:   tty && !noColor(),
			qr:      tty && exposed && !cfg.noQR,
		}.write(stdout)
		return
	}
	fmt.Fprintln(stdout, url)
	// Quiet silences chatter, not this: serving a folder to the
	// network is something to be told every time.
	if isExposed(ln) {
		fmt.Fprintf(stderr, "hotserve: warning: %s is exposed to the network: anyone who can reach this machine can read its files\n", cfg.dir)
	}
}

// quietOnError returns a writer that passes writes to w until one fails,
// then drops them all: a log whose reader is gone (a closed pipe, a full
// disk) must not stop the server, nor make every request pay for a failing
// write.
func quietOnError(w io.Writer) io.Writer { return &dropWriter{w: w} }

type dropWriter struct {
	w      io.Writer
	failed atomic.Bool
}

func (d *dropWriter) Write(p []byte) (int, error) {
	if d.failed.Load() {
		return len(p), nil
	}
	if _, err := d.w.Write(p); err != nil {
		d.failed.Store(true)
	}
	return len(p), nil
}
