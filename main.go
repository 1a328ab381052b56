// Command hotserve serves a folder over HTTP and reloads every open page when
// a file in it changes.
//
//	hotserve ./site
//
// main only parses flags, checks them, wires the watcher to the server and
// decides how errors are printed; the work is done by the server and watcher
// packages.
package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	webbrowser "github.com/cli/browser"
	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/hotserve/hotserve/internal/deny"
	"github.com/hotserve/hotserve/internal/devcert"
	"github.com/hotserve/hotserve/server"
	"github.com/hotserve/hotserve/watcher"
)

const defaultPort = 8080

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ignoreBrokenPipe()
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// hintError is an error with a suggestion of how to fix it, printed on the
// line after the error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, format string, args ...any) error {
	return &hintError{err: err, hint: fmt.Sprintf(format, args...)}
}

// run is the whole program; it returns the exit code. Cancelling ctx stops
// the server as SIGINT does.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runIn(ctx, args, surroundings{
		stdout:         stdout,
		stderr:         stderr,
		isTerminal:     isTerminal,
		openBrowser:    openBrowser,
		interfaceAddrs: net.InterfaceAddrs,
	})
}

// openBrowser opens url with the system's opener (xdg-open, open, start).
// The opener's own output would land in the middle of hotserve's, so it is
// dropped; a failure still comes back as an error.
func openBrowser(url string) error {
	webbrowser.Stdout, webbrowser.Stderr = io.Discard, io.Discard
	return webbrowser.OpenURL(url)
}

// runIn is run with its surroundings spelled out, for tests.
func runIn(ctx context.Context, args []string, env surroundings) int {
	stderr := env.stderr
	app := newApp(env)
	err := app.RunContext(ctx, flagsFirst(args, app.Flags))
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "hotserve: error: %v\n", err)
	if h := (*hintError)(nil); errors.As(err, &h) {
		fmt.Fprintf(stderr, "hotserve: hint: %s\n", h.hint)
	} else {
		fmt.Fprintf(stderr, "hotserve: hint: run \"hotserve --help\" to see how to use it\n")
	}
	return 1
}

// usageText opens --help with examples, because most people want to copy a
// command line rather than read a flag list.
const usageText = `hotserve [flags] [DIR]

DIR is the folder to serve; it defaults to the current one. Flags may come
before or after it; -- ends them.

EXAMPLES:
   hotserve ./public             serve ./public at http://127.0.0.1:8080/
   hotserve -p 3000 --open       use port 3000 and open it in the browser
   hotserve --spa dist           single-page app: unknown routes get dist/index.html
   hotserve --host 0.0.0.0 .     let phones and other machines on your network in`

func newApp(sys surroundings) *cli.App {
	env := func(name string) []string { return []string{"HOTSERVE_" + name} }
	return &cli.App{
		Name:      "hotserve",
		Usage:     "serve a folder and reload every open page when a file changes",
		UsageText: usageText,
		Version:   currentBuild().String(),
		Writer:    sys.stdout,
		// A comma belongs in a header value or a glob ("no-cache, no-store",
		// "*.{log,tmp}"): a repeatable flag takes one value each time.
		DisableSliceFlagSeparator: true,
		ErrWriter:                 sys.stderr,
		EnableBashCompletion:      true,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "port", Aliases: []string{"p"}, Value: defaultPort, EnvVars: env("PORT"),
				Usage: "port to listen on; if the default is busy the next free one is used, 0 picks any free port"},
			&cli.StringFlag{Name: "host", Value: "127.0.0.1", EnvVars: env("HOST"),
				Usage: "address to listen on; 0.0.0.0 exposes the folder to your network"},
			&cli.BoolFlag{Name: "no-reload", EnvVars: env("NO_RELOAD"),
				Usage: "serve files only: no script injection, no watching, no event stream (so not with --watch, --ignore, --debounce or --poll)"},
			&cli.BoolFlag{Name: "reload-html", EnvVars: env("RELOAD_HTML"),
				Usage: "reload a page when its HTML file changes, instead of morphing the new markup into it (which keeps scroll, focus, form input and playing media)"},
			&cli.StringSliceFlag{Name: "ignore", EnvVars: env("IGNORE"),
				Usage: "glob of paths whose changes are ignored (repeatable): without a slash it matches names at any depth (*.log), with one the path relative to DIR (build/**)"},
			durationFlag("debounce", watcher.DefaultDebounce,
				"quiet time (`DUR`) that closes a batch of changes, at most "+watcher.DefaultMaxWait.String()+" (a longer build can announce its end: POST /__hotserve/reload or kill -HUP)"),
			&cli.BoolFlag{Name: "spa", EnvVars: env("SPA"),
				Usage: "answer unknown paths without a file extension with DIR/index.html (single-page apps; not with a --proxy URL for every path)"},
			&cli.StringSliceFlag{Name: "header", EnvVars: env("HEADER"),
				Usage: `response header "Name: value" set on every response (repeatable)`},
			&cli.BoolFlag{Name: "cors", EnvVars: env("CORS"),
				Usage: "send Access-Control-Allow-Origin: * and answer preflight requests"},
			&cli.BoolFlag{Name: "open", EnvVars: env("OPEN"),
				Usage: "open the URL in the default browser"},
			&cli.BoolFlag{Name: "no-qr", EnvVars: env("NO_QR"),
				Usage: "with an exposing --host, do not print the QR code of the network URL"},
			&cli.StringSliceFlag{Name: "allow-host", EnvVars: env("ALLOW_HOST"),
				Usage: "host name the browser may use besides localhost, *.localhost and IP addresses (repeatable), e.g. a tunnel's or /etc/hosts name; a leading dot (.example.test) allows its subdomains too"},
			durationFlag("poll", 0,
				"look for changes every `DUR` instead of using file events, e.g. 500ms (chosen by itself on NFS, SMB, FUSE and 9p)"),
			&cli.StringSliceFlag{Name: "proxy", EnvVars: env("PROXY"),
				Usage: "pass requests to a running app and inject into its pages: URL for every path (DIR is then only watched), or /PREFIX=URL for one path prefix (repeatable), e.g. --proxy http://127.0.0.1:3000 or --proxy /api=http://127.0.0.1:3000; localhost:3000 and :3000 mean http://localhost:3000"},
			&cli.BoolFlag{Name: "proxy-insecure", EnvVars: env("PROXY_INSECURE"),
				Usage: "do not verify the certificates of https --proxy backends (those on localhost, 127.0.0.0/8 or ::1 never are)"},
			&cli.StringSliceFlag{Name: "watch", EnvVars: env("WATCH"),
				Usage: "another folder (not a file) whose changes reload every page, e.g. templates or sources (repeatable)"},
			&cli.StringSliceFlag{Name: "mount", EnvVars: env("MOUNT"),
				Usage: "serve and watch another folder under a URL prefix, /PREFIX=DIR (repeatable), e.g. --mount /vendor=./node_modules/some-lib"},
			&cli.BoolFlag{Name: "https", EnvVars: env("HTTPS"),
				Usage: "serve HTTPS (and HTTP/2) with a self-signed certificate for localhost, 127.0.0.1, ::1 and --host, kept in your cache folder"},
			&cli.StringFlag{Name: "cert", EnvVars: env("CERT"),
				Usage: "serve HTTPS with this certificate file (PEM) instead of a self-signed one, e.g. made with mkcert; needs --key, and is not used with --https"},
			&cli.StringFlag{Name: "key", EnvVars: env("KEY"),
				Usage: "the private key file (PEM) for --cert"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, EnvVars: env("QUIET"),
				Usage: "print only the URL and errors"},
			&cli.BoolFlag{Name: "verbose", EnvVars: env("VERBOSE"),
				Usage: "also print one line per request"},
		},
		HideHelpCommand: true,
		// Errors are printed once, by run, in hotserve's own format.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return withHint(err, "%s", usageHint(err, c.App.Flags))
		},
		Action: func(c *cli.Context) error { return serve(c, sys) },
	}
}

// config is the checked form of the command line.
type config struct {
	dir       string
	host      string
	port      int
	portIsSet bool
	opts      server.Options
	ignore    []string
	debounce  time.Duration
	poll      time.Duration
	quiet     bool
	verbose   bool
	open      bool
	noQR      bool
	watch     []string
	https     bool
	certFile  string
	keyFile   string
}

func parse(c *cli.Context) (*config, error) {
	if c.NArg() > 1 {
		return nil, withHint(fmt.Errorf("too many arguments: %s", strings.Join(c.Args().Slice(), " ")),
			"pass one folder, e.g. \"hotserve ./public\"")
	}
	cfg := &config{
		dir:       c.Args().First(),
		host:      c.String("host"),
		port:      c.Int("port"),
		portIsSet: c.IsSet("port"),
		ignore:    c.StringSlice("ignore"),
		debounce:  getDuration(c, "debounce"),
		poll:      getDuration(c, "poll"),
		quiet:     c.Bool("quiet"),
		verbose:   c.Bool("verbose"),
		open:      c.Bool("open"),
		noQR:      c.Bool("no-qr"),
		opts: server.Options{
			NoReload:   c.Bool("no-reload"),
			ReloadHTML: c.Bool("reload-html"),
			SPA:        c.Bool("spa"),
			CORS:       c.Bool("cors"),
			Header:     http.Header{},

			AllowedHosts: c.StringSlice("allow-host"),
		},
	}
	if cfg.dir == "" {
		cfg.dir = "."
	}
	if err := checkDir(cfg.dir, "", ""); err != nil {
		return nil, err
	}
	if cfg.port < 0 || cfg.port > 65535 {
		return nil, withHint(fmt.Errorf("invalid port %d", cfg.port), "use a port from 1 to 65535, or 0 for any free port")
	}
	if cfg.debounce <= 0 {
		return nil, withHint(fmt.Errorf("invalid --debounce %v", cfg.debounce), "use a duration above zero such as 5ms (the default) or 100ms")
	}
	if cfg.debounce > watcher.DefaultMaxWait {
		// The watcher announces a batch at least every DefaultMaxWait
		// while changes keep coming, so a longer quiet time would never
		// be waited for.
		return nil, withHint(fmt.Errorf("invalid --debounce %v: a batch of changes is announced at least every %v", cfg.debounce, watcher.DefaultMaxWait),
			"use at most %v; a build that takes longer can announce its end itself: curl -X POST http://127.0.0.1:PORT/__hotserve/reload (or kill -HUP its process)", watcher.DefaultMaxWait)
	}
	if cfg.poll < 0 || cfg.poll > 0 && cfg.poll < 10*time.Millisecond {
		return nil, withHint(fmt.Errorf("invalid --poll %v", cfg.poll), "use a duration of at least 10ms, such as 500ms")
	}
	for _, h := range cfg.opts.AllowedHosts {
		if h == "" || h == "." || strings.ContainsAny(h, ":/\\@?#[] \t") {
			return nil, withHint(fmt.Errorf("invalid --allow-host %q", h), "give a host name without scheme or port, e.g. --allow-host myapp.test or --allow-host .example.test")
		}
	}
	if err := watcher.ValidateGlobs(cfg.ignore); err != nil {
		return nil, withHint(err, "check the --ignore pattern; ** matches any number of folders, e.g. --ignore 'build/**'")
	}
	for _, hv := range c.StringSlice("header") {
		k, v, ok := strings.Cut(hv, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(v, "\r\n") {
			return nil, withHint(fmt.Errorf("invalid --header %q", hv), "write it as \"Name: value\", e.g. --header \"X-Frame-Options: DENY\"")
		}
		cfg.opts.Header.Add(k, v)
	}
	if err := parseRoutes(c, cfg); err != nil {
		return nil, err
	}
	cfg.watch = c.StringSlice("watch")
	for _, w := range cfg.watch {
		if err := checkDir(w, "--watch", w); err != nil {
			return nil, err
		}
	}
	cfg.certFile, cfg.keyFile = c.String("cert"), c.String("key")
	if (cfg.certFile == "") != (cfg.keyFile == "") {
		return nil, withHint(errors.New("--cert and --key go together"), "pass both, e.g. --cert localhost.pem --key localhost-key.pem, or neither and --https")
	}
	cfg.https = c.Bool("https") || cfg.certFile != ""
	if err := checkTogether(c, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// checkTogether refuses flags that cannot work together, rather than let
// one of them silently do nothing.
func checkTogether(c *cli.Context, cfg *config) error {
	if cfg.quiet && cfg.verbose {
		return withHint(errors.New("--quiet and --verbose both given"), "pick one")
	}
	if cfg.opts.NoReload {
		for _, name := range []string{"watch", "ignore", "debounce", "poll"} {
			if c.IsSet(name) {
				return withHint(fmt.Errorf("--no-reload and --%s both given: --no-reload turns watching off, so --%s would do nothing", name, name),
					"drop --%s (or %s), or drop --no-reload to reload pages on changes", name, envName(name))
			}
		}
	}
	if c.Bool("https") && cfg.certFile != "" {
		return withHint(errors.New("--https and --cert both given: --https makes a self-signed certificate, --cert uses yours"),
			"drop --https: --cert and --key serve HTTPS by themselves")
	}
	if cfg.opts.SPA && cfg.proxiesAll() {
		return withHint(errors.New("--spa and --proxy URL both given: the app behind --proxy answers every path, so DIR/index.html is never served"),
			"let the app answer its own routes and drop --spa, or pass only a prefix to it, e.g. --proxy /api=http://127.0.0.1:3000")
	}
	return nil
}

// parseRoutes reads --proxy and --mount.
func parseRoutes(c *cli.Context, cfg *config) error {
	for _, v := range c.StringSlice("proxy") {
		b, err := parseProxy(v)
		if err != nil {
			return err
		}
		b.Insecure = c.Bool("proxy-insecure")
		cfg.opts.Backends = append(cfg.opts.Backends, b)
	}
	for _, v := range c.StringSlice("mount") {
		prefix, dir, ok := strings.Cut(v, "=")
		if ok && !strings.HasPrefix(prefix, "/") && prefix != "" && dir != "" {
			return withHint(fmt.Errorf("invalid --mount %q: the prefix is a URL path", v), "start it with a slash: --mount /%s", v)
		}
		if !ok || !strings.HasPrefix(prefix, "/") || prefix == "/" || dir == "" {
			return withHint(fmt.Errorf("invalid --mount %q", v), "write it as /PREFIX=DIR, e.g. --mount /vendor=./node_modules/some-lib")
		}
		if err := checkDir(dir, "--mount", v); err != nil {
			return err
		}
		cfg.opts.Mounts = append(cfg.opts.Mounts, server.Mount{Path: prefix, Dir: dir})
	}
	return nil
}

// parseProxy reads one --proxy value: URL, or /PREFIX=URL. An address
// without a scheme, as BrowserSync takes it (localhost:3000), means http://,
// and one without a host (:3000) means localhost, the name that reaches an
// app on this machine whether it listens on IPv4 or IPv6.
func parseProxy(v string) (server.Backend, error) {
	prefix, raw := "", v
	if strings.HasPrefix(v, "/") {
		var ok bool
		if prefix, raw, ok = strings.Cut(v, "="); !ok {
			return server.Backend{}, withHint(fmt.Errorf("invalid --proxy %q", v), "write a prefix as /PREFIX=URL, e.g. --proxy /api=http://127.0.0.1:3000")
		}
	} else if name, _, ok := strings.Cut(v, "="); ok && name != "" && !strings.ContainsAny(name, ":/") {
		return server.Backend{}, withHint(fmt.Errorf("invalid --proxy %q: the prefix is a URL path", v), "start it with a slash: --proxy /%s", v)
	}
	if !strings.Contains(raw, "://") {
		if strings.HasPrefix(raw, ":") {
			raw = "localhost" + raw
		}
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || digitsOnly(u.Host) {
		return server.Backend{}, withHint(fmt.Errorf("invalid --proxy %q: not an app's address", v), "give it as http://HOST:PORT or HOST:PORT, e.g. --proxy http://127.0.0.1:3000 or --proxy localhost:3000")
	}
	return server.Backend{Path: prefix, URL: u}, nil
}

// digitsOnly reports whether s is a number, such as a port given alone.
func digitsOnly(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// proxiesAll reports whether a backend serves every path, so that DIR is
// watched but not served.
func (cfg *config) proxiesAll() bool {
	for _, b := range cfg.opts.Backends {
		if b.Path == "" || b.Path == "/" {
			return true
		}
	}
	return false
}

// checkDir says what is wrong with dir, if anything, with a hint at the fix.
// A folder given with a flag (flag "--watch" or "--mount", arg the flag's
// whole value, which ends with dir) is named by that flag, so that the
// message points at the argument to fix; flag "" is DIR.
func checkDir(dir, flag, arg string) error {
	what := dir
	if flag != "" {
		what = flag + " " + arg
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist) && flag == "":
		return withHint(fmt.Errorf("%s: no such folder", dir),
			"pass the folder that holds your site's files, e.g. \"hotserve ./public\"")
	case errors.Is(err, os.ErrNotExist):
		wd, _ := os.Getwd()
		return withHint(fmt.Errorf("%s: no such folder", what),
			"check the folder given to %s; a relative path starts from the folder hotserve runs in, %s", flag, wd)
	case errors.Is(err, os.ErrPermission):
		return withHint(fmt.Errorf("%s: permission denied", what), "check the folder's permissions with \"ls -ld %s\"", dir)
	case err != nil:
		return withHint(fmt.Errorf("%s: %w", what, err), "pass a folder you can read")
	case !fi.IsDir() && flag == "":
		return withHint(fmt.Errorf("%s is a file, not a folder", dir),
			"pass the folder that holds it, e.g. \"hotserve %s\"", filepath.Dir(dir))
	case !fi.IsDir():
		return withHint(fmt.Errorf("%s is a file, not a folder", what),
			"%s takes folders; pass the one that holds it: %s %s%s", flag, flag, strings.TrimSuffix(arg, dir), filepath.Dir(dir))
	}
	f, err := os.Open(dir)
	if err == nil {
		_, err = f.Readdirnames(1)
		f.Close()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return withHint(fmt.Errorf("%s: cannot read the folder: %w", what, err), "check the folder's permissions with \"ls -ld %s\"", dir)
	}
	return nil
}

// listen opens the listening socket. A port the user named must be free; the
// default port may be busy, and then the next free one is used, as Hugo and
// Vite do.
func listen(cfg *config, stderr io.Writer) (net.Listener, error) {
	addr := net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port))
	ln, err := net.Listen("tcp", addr)
	if err == nil || cfg.portIsSet || !errors.Is(err, syscall.EADDRINUSE) {
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
	if errors.Is(err, syscall.EADDRINUSE) {
		return withHint(err, "port %d is in use: stop the program using it, or pick another with --port (0 picks any free port)", cfg.port)
	}
	if errors.Is(err, syscall.EACCES) {
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
	// A reload asked for by a build tool is logged as a change is: the
	// user sees that it came, and that it did nothing under --no-reload.
	requested := func(by string, paths []string) {
		now := time.Now().Format("15:04:05")
		if cfg.opts.NoReload {
			logger.Printf("%s reload requested by %s, but --no-reload is on", now, by)
			return
		}
		what := ""
		if len(paths) > 0 {
			what = ": " + summarize(paths)
		}
		logger.Printf("%s reload requested by %s%s (%s)", now, by, what, connected(srv.Streams()))
	}
	cfg.opts.OnTrigger = func(paths []string) { requested("POST "+server.Prefix+"reload", paths) }

	srv, err = server.New(cfg.dir, cfg.opts)
	if err != nil {
		return withHint(err, "check DIR, --mount and --proxy")
	}
	defer srv.Close()
	var tlsConfig *tls.Config
	if cfg.https {
		if tlsConfig, err = loadTLS(cfg); err != nil {
			return err
		}
	}
	ln, err := listen(cfg, stderr)
	if err != nil {
		return err
	}
	if err := checkNotSelf(cfg.opts.Backends, ln.Addr(), sys.interfaceAddrs); err != nil {
		ln.Close()
		return err
	}
	scheme := "http"
	if cfg.https {
		scheme = "https"
	}
	url := localURL(ln, scheme, cfg.host)
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
	} else {
		fmt.Fprintln(stdout, url)
		// Quiet silences chatter, not this: serving a folder to the
		// network is something to be told every time.
		if isExposed(ln) {
			fmt.Fprintf(stderr, "hotserve: warning: %s is exposed to the network: anyone who can reach this machine can read its files\n", cfg.dir)
		}
	}

	g, ctx := errgroup.WithContext(c.Context)
	var handler http.Handler = srv
	if cfg.verbose {
		handler = logRequests(srv, logger)
	}
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
	for _, b := range cfg.opts.Backends {
		if !cfg.quiet {
			logger.Printf("proxying %s to %s", cmp.Or(b.Path, "/"), b.URL.Redacted())
		}
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
		// watchFolder watches dir with the command line's settings until
		// ctx is done.
		watchFolder := func(wc watcher.Config) func() error {
			wc.Ignore, wc.Debounce, wc.Poll, wc.ErrorLog = cfg.ignore, cfg.debounce, cfg.poll, logger
			return func() error { return watchError(watcher.Watch(ctx, wc)) }
		}
		// A folder that reappears (deleted and made again) is opened
		// anew: an os.Root holds the old directory, not the name.
		reopen := func(dir string) func() {
			return func() {
				if err := srv.Reopen(); err != nil {
					logger.Printf("warning: reopen %s: %v", dir, err)
				}
			}
		}
		for _, m := range cfg.opts.Mounts {
			prefix := strings.Trim(m.Path, "/") + "/"
			g.Go(watchFolder(watcher.Config{Dir: m.Dir, OnRoot: reopen(m.Dir), Hidden: deny.Name,
				OnChange: func(b watcher.Batch) {
					paths := make([]string, len(b.Paths))
					for i, p := range b.Paths {
						paths[i] = prefix + p
					}
					srv.ReloadChange(server.Change{Paths: paths, ModTime: b.ModTime})
					logChange(logger, srv, paths)
				},
			}))
		}
		for _, dir := range cfg.watch {
			g.Go(watchFolder(watcher.Config{Dir: dir,
				OnChange: func(b watcher.Batch) {
					// Not URLs, and the browser need not learn what is
					// in the folder: no paths.
					srv.ReloadChange(server.Change{ModTime: b.ModTime, Full: true})
					logChange(logger, srv, b.Paths)
				},
			}))
		}
		// Names the server never serves are not announced either, unless
		// the folder holds a backend's sources, where any file may matter.
		var hidden func(string) bool
		if !cfg.proxiesAll() {
			hidden = deny.Name
		}
		g.Go(watchFolder(watcher.Config{Dir: cfg.dir, OnReady: srv.Settle, OnRoot: reopen(cfg.dir), Hidden: hidden,
			OnFingerprint: srv.SetFingerprint,
			OnChange: func(b watcher.Batch) {
				// Behind a backend that serves every path, the server
				// reloads every page unless all the paths are stylesheets
				// or images the backend served under the same URL path.
				srv.ReloadChange(server.Change{Paths: b.Paths, ModTime: b.ModTime})
				logChange(logger, srv, b.Paths)
			},
		}))
	}
	return g.Wait()
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

// logChange prints one line per announced batch. Under --quiet the logger
// discards it.
func logChange(logger *log.Logger, srv *server.Server, paths []string) {
	logger.Printf("%s changed: %s (%s)", time.Now().Format("15:04:05"), summarize(paths), connected(srv.Streams()))
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

// watchError adds a way out to a watcher that could not start. The watch
// limit is not one of those: the watcher polls the folders it cannot watch,
// and logs the sysctl that raises the limit.
func watchError(err error) error {
	if err != nil {
		return withHint(err, "use --no-reload to serve without watching, or --poll 500ms to look for changes without file events")
	}
	return nil
}

// summarize names the first three paths and counts the rest.
func summarize(paths []string) string {
	if len(paths) <= 3 {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s +%d more", strings.Join(paths[:3], ", "), len(paths)-3)
}

// connected says how many browsers are listening for reloads. A browser
// holds one event stream for all its tabs of the site (a SharedWorker, or
// the tab elected with Web Locks), so streams count browsers, not tabs.
func connected(n int) string {
	if n == 1 {
		return "1 browser connected"
	}
	return fmt.Sprintf("%d browsers connected", n)
}

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
