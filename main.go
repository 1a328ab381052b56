// Command hotserve serves a folder over HTTP and reloads every open page when
// a file in it changes.
//
//	hotserve ./site
//
// main only parses flags, checks them, wires the watcher to the server and
// decides how errors are printed; the work is done by the server and watcher
// packages. This file holds the flags and their checks; serve.go runs the
// steps of serving, each in a file of its own (listen.go, banner.go,
// httpserve.go, watchers.go).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	webbrowser "github.com/cli/browser"
	"github.com/urfave/cli/v2"

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
				Usage: "serve files only: no script injection, no watching, no event stream (so not with --watch, --ignore, --debounce, --poll or --reload-html)"},
			&cli.BoolFlag{Name: "reload-html", EnvVars: env("RELOAD_HTML"),
				Usage: "reload a page when its HTML file changes, instead of morphing the new markup into it (which keeps scroll, focus, form input and playing media)"},
			&cli.StringSliceFlag{Name: "ignore", EnvVars: env("IGNORE"),
				Usage: "glob of paths whose changes are ignored (repeatable): without a slash it matches names at any depth (*.log), with one the path relative to DIR (build/**)"},
			durationFlag("debounce", watcher.DefaultDebounce,
				"quiet time (`DUR`) that closes a batch of changes, at most "+watcher.DefaultMaxWait.String()+" (a longer build can announce its end: POST /__hotserve/reload or kill -HUP); unset, a batch of stylesheets and images alone waits "+watcher.QuickDebounce.String()),
			&cli.BoolFlag{Name: "spa", EnvVars: env("SPA"),
				Usage: "answer a page opened at an unknown path with DIR/index.html, dots in the route or not (single-page apps; not with a --proxy URL for every path)"},
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
	dir           string
	host          string
	port          int
	portIsSet     bool
	opts          server.Options
	ignore        []string
	debounce      time.Duration
	debounceIsSet bool // --debounce given: it holds every batch, stylesheets too
	poll          time.Duration
	quiet         bool
	verbose       bool
	open          bool
	noQR          bool
	watch         []string
	https         bool
	certFile      string
	keyFile       string
}

func parse(c *cli.Context) (*config, error) {
	if c.NArg() > 1 {
		return nil, withHint(fmt.Errorf("too many arguments: %s", strings.Join(c.Args().Slice(), " ")),
			"pass one folder, e.g. \"hotserve ./public\"")
	}
	cfg := &config{
		dir:           c.Args().First(),
		host:          c.String("host"),
		port:          c.Int("port"),
		portIsSet:     c.IsSet("port"),
		ignore:        c.StringSlice("ignore"),
		debounce:      getDuration(c, "debounce"),
		debounceIsSet: c.IsSet("debounce"),
		poll:          getDuration(c, "poll"),
		quiet:         c.Bool("quiet"),
		verbose:       c.Bool("verbose"),
		open:          c.Bool("open"),
		noQR:          c.Bool("no-qr"),
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
		for _, name := range []string{"watch", "ignore", "debounce", "poll", "reload-html"} {
			if c.IsSet(name) {
				return withHint(fmt.Errorf("--no-reload and --%s both given: --no-reload turns watching off, so --%s would do nothing", name, name),
					"drop --%s (or %s), or drop --no-reload to reload pages on changes", name, envName(name))
			}
		}
	}
	if c.IsSet("proxy-insecure") && len(cfg.opts.Backends) == 0 {
		return withHint(errors.New("--proxy-insecure without --proxy: it only concerns the certificates of https --proxy backends"),
			"add the app's address, e.g. --proxy https://dev.example.test:8443, or drop --proxy-insecure (or %s)", envName("proxy-insecure"))
	}
	if c.Bool("https") && cfg.certFile != "" {
		return withHint(errors.New("--https and --cert both given: --https makes a self-signed certificate, --cert uses yours"),
			"drop --https: --cert and --key serve HTTPS by themselves")
	}
	if cfg.opts.SPA && slices.ContainsFunc(cfg.opts.Backends, server.Backend.ServesAll) {
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
