package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotserve/hotserve/internal/testio"
)

// postReload asks in for a reload as a build tool does, and returns the
// status.
func postReload(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url+"/__hotserve/reload", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestTriggerIsLoggedLikeSIGHUP(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><title>x</title>")
	in := startInProcess(t, dir)
	if code := postReload(t, in.url, ""); code != http.StatusNoContent {
		t.Fatalf("got %d, want 204", code)
	}
	waitForMatch(t, in.stderr, regexp.MustCompile(`(?m)^hotserve: \d\d:\d\d:\d\d reload requested by POST /__hotserve/reload \(0 browsers connected\)$`))
	if code := postReload(t, in.url, `{"paths": ["css/site.css"]}`); code != http.StatusNoContent {
		t.Fatalf("got %d, want 204", code)
	}
	waitForMatch(t, in.stderr, regexp.MustCompile(`(?m)^hotserve: \d\d:\d\d:\d\d reload requested by POST /__hotserve/reload: css/site.css \(0 browsers connected\)$`))

	t.Run("with --no-reload it is noted and changes nothing", func(t *testing.T) {
		in := startInProcess(t, "--no-reload", dir)
		if code := postReload(t, in.url, ""); code != http.StatusNotFound {
			t.Errorf("got %d, want 404", code)
		}
		waitFor(t, in.stderr, "reload requested by POST /__hotserve/reload, but --no-reload is on")
	})
}

// linkedOutSite makes parent/site with a link shared -> ../lib, a folder
// beside it holding a.js, and returns parent and the site.
func linkedOutSite(t *testing.T) (parent, dir string) {
	t.Helper()
	parent = t.TempDir()
	dir = filepath.Join(parent, "site")
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><title>x</title>")
	write(t, filepath.Join(parent, "lib", "a.js"), "a")
	if err := os.Symlink("../lib", filepath.Join(dir, "shared")); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	return parent, dir
}

func TestSymlinkOutOfDIRIsLoggedOnce(t *testing.T) {
	parent, dir := linkedOutSite(t)
	in := startInProcess(t, dir)
	for _, p := range []string{"/shared/a.js", "/shared/a.js", "/shared/b.js", "/shared/"} {
		resp, err := http.Get(in.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404", p, resp.StatusCode)
		}
	}
	link, lib := filepath.Join(dir, "shared"), filepath.Join(parent, "lib")
	want := fmt.Sprintf("hotserve: warning: %s leads out of %s (a symbolic link to %s), so requests through it get 404; to serve that folder, add --mount /shared=%s\n", link, dir, lib, lib)
	waitFor(t, in.stderr, want)
	// The requests were answered before the line was looked for, and the
	// log is written before the answer: a second line would be there.
	if n := strings.Count(in.stderr.String(), "leads out of"); n != 1 {
		t.Errorf("got %d lines about the link, want 1:\n%s", n, in.stderr.String())
	}
}

// A warning is a line that says what went wrong, on stderr, in one shape
// (README: "A line about something that went wrong says so"):
//
//	hotserve: warning: TEXT
//
// The tests below find every place in hotserve's code that prints on
// stderr (testio.PrintedLines), make each warning happen through the real
// code, and check the exact line and every other line printed with it.

// warningCase says how a test makes one warning happen.
type warningCase struct {
	// drive makes hotserve print the warning, and returns what it printed
	// on stderr and the whole line wanted, as a regular expression.
	drive func(t *testing.T) (stderr *syncBuffer, want string)
	// elsewhere names the test that makes it happen with faults that only
	// its package can cause (a kernel queue overflow, a refused watch).
	elsewhere string
	// unreachable says why no test can make it happen; its shape is then
	// checked in the source only.
	unreachable string
}

// warningCases has one entry per warning in hotserve's code, by
// testio.Printed.Key.
var warningCases = map[string]warningCase{
	"httpserve.go serveHTTP: warning: %v": {drive: func(t *testing.T) (*syncBuffer, string) {
		// What net/http logs: bytes that are neither TLS nor HTTP make
		// the TLS handshake fail.
		t.Setenv("XDG_CACHE_HOME", t.TempDir())
		in := startInProcess(t, "--https", siteDir(t))
		conn, err := net.Dial("tcp", strings.TrimPrefix(in.url, "https://"))
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		conn.Read(make([]byte, 1))
		conn.Close()
		return in.stderr, `hotserve: warning: http: TLS handshake error from 127\.0\.0\.1:\d+: .+`
	}},
	"listen.go listen: hotserve: warning: port %d is in use; using %d instead": {drive: func(t *testing.T) (*syncBuffer, string) {
		listenOn(t, defaultPort)
		p := startBinary(t, siteDir(t))
		port := urlPattern.FindStringSubmatch(p.url)[1]
		return p.stderr, regexp.QuoteMeta(fmt.Sprintf("hotserve: warning: port %d is in use; using %s instead", defaultPort, port))
	}},
	"serve.go serve: hotserve: warning: could not open a browser: %v; open %s yourself": {drive: func(t *testing.T) (*syncBuffer, string) {
		in := startIn(t, func(s *surroundings) {
			s.openBrowser = func(string) error { return errors.New("xdg-open: not found") }
		}, "--open", siteDir(t))
		return in.stderr, regexp.QuoteMeta("hotserve: warning: could not open a browser: xdg-open: not found; open " + in.url + "/ yourself")
	}},
	"serve.go greet: hotserve: warning: %s is exposed to the network: anyone who can reach this machine can read its files": {drive: func(t *testing.T) (*syncBuffer, string) {
		dir := siteDir(t)
		in := startIn(t, nil, "--quiet", "--host", "0.0.0.0", dir)
		return in.stderr, regexp.QuoteMeta("hotserve: warning: " + dir + " is exposed to the network: anyone who can reach this machine can read its files")
	}},
	"server/corp.go refusedInclude: warning: refused to let %s include %s; pages on this machine may, others only with --cors": {drive: func(t *testing.T) (*syncBuffer, string) {
		in := startInProcess(t, siteDir(t))
		get(t, in.url+"/index.html", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Site", "cross-site", "Referer", "https://evil.example/page")
		return in.stderr, regexp.QuoteMeta("hotserve: warning: refused to let a page on https://evil.example include /index.html; pages on this machine may, others only with --cors")
	}},
	"server/files.go serveContent: warning: %s: %v": {
		unreachable: "a read error from the disk on a page too big to be read whole",
	},
	"server/files.go serveContent: warning: %s: %s; reload script not injected": {drive: func(t *testing.T) (*syncBuffer, string) {
		dir := siteDir(t)
		write(t, filepath.Join(dir, "part.html"), "<p>a fragment for fetch()</p>")
		in := startInProcess(t, dir)
		get(t, in.url+"/part.html")
		return in.stderr, regexp.QuoteMeta("hotserve: warning: part.html: no <html>, <head>, <body> or doctype; reload script not injected")
	}},
	"server/proxy.go fail: warning: backend %s: certificate not trusted: %v": {drive: func(t *testing.T) (*syncBuffer, string) {
		// A backend not on a loopback address has its certificate
		// verified. 0.0.0.0 is one: connecting to it reaches this
		// machine on Linux and macOS.
		if runtime.GOOS == "windows" {
			t.Skip("Windows cannot connect to 0.0.0.0, the one address that is not loopback and still this machine")
		}
		app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		app.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
		app.StartTLS()
		t.Cleanup(app.Close)
		_, port, _ := net.SplitHostPort(app.Listener.Addr().String())
		in := startInProcess(t, "--proxy", "https://0.0.0.0:"+port, t.TempDir())
		get(t, in.url+"/", "Sec-Fetch-Dest", "document")
		return in.stderr, `hotserve: warning: backend https://0\.0\.0\.0:` + port + `: certificate not trusted: tls: failed to verify certificate: .+\n` +
			regexp.QuoteMeta("hotserve: hint: hotserve verifies the certificates of backends that are not on a loopback address: restart it with --proxy-insecure") + ".+"
	}},
	"server/proxy.go fail: warning: backend %s does not answer: %v; pages wait for it (is it running?)": {drive: func(t *testing.T) (*syncBuffer, string) {
		ln, port := listenOn(t, 0)
		ln.Close() // nothing answers there now
		in := startInProcess(t, "--proxy", fmt.Sprintf("http://127.0.0.1:%d", port), t.TempDir())
		get(t, in.url+"/", "Sec-Fetch-Dest", "document")
		return in.stderr, fmt.Sprintf(`hotserve: warning: backend http://127\.0\.0\.1:%d does not answer: .+; pages wait for it \(is it running\?\)`, port)
	}},
	"server/security.go warnEscape: warning: %s leads out of %s (a symbolic link to %s), so requests through it get 404; to serve that folder, add --mount /%s=%s": {drive: func(t *testing.T) (*syncBuffer, string) {
		parent, dir := linkedOutSite(t)
		in := startInProcess(t, dir)
		get(t, in.url+"/shared/a.js")
		link, lib := filepath.Join(dir, "shared"), filepath.Join(parent, "lib")
		return in.stderr, regexp.QuoteMeta(fmt.Sprintf("hotserve: warning: %s leads out of %s (a symbolic link to %s), so requests through it get 404; to serve that folder, add --mount /shared=%s", link, dir, lib, lib))
	}},
	"server/security.go warningLog: warning: %v": {drive: func(t *testing.T) (*syncBuffer, string) {
		// What the reverse proxy logs: a backend that stops in the middle
		// of a body.
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/javascript\r\nContent-Length: 100\r\n\r\nlet a = 1;")
			buf.Flush()
			conn.Close()
		}))
		t.Cleanup(app.Close)
		in := startInProcess(t, "--proxy", app.URL, t.TempDir())
		// The body is cut short for the browser too: an error here is
		// what the test expects.
		if resp, err := http.Get(in.url + "/app.js"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return in.stderr, regexp.QuoteMeta("hotserve: warning: httputil: ReverseProxy read error during body copy: unexpected EOF")
	}},
	"server/server.go warnHost: warning: refused a request for host %q (403); if that name is yours, allow it with --allow-host %s": {drive: func(t *testing.T) (*syncBuffer, string) {
		in := startInProcess(t, siteDir(t))
		get(t, in.url+"/", "Host", "evil.example")
		return in.stderr, regexp.QuoteMeta(`hotserve: warning: refused a request for host "evil.example" (403); if that name is yours, allow it with --allow-host evil.example`)
	}},
	"server/wrap.go serveInjected: warning: %s: %v; page not sent": {drive: func(t *testing.T) (*syncBuffer, string) {
		// A page the backend says is gzip that is not.
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Encoding", "gzip")
			io.WriteString(w, "<!doctype html><title>not gzip</title>")
		}))
		t.Cleanup(app.Close)
		in := startInProcess(t, "--proxy", app.URL, t.TempDir())
		get(t, in.url+"/", "Sec-Fetch-Dest", "document")
		return in.stderr, regexp.QuoteMeta("hotserve: warning: /: gzip: invalid header; page not sent")
	}},
	"watcher/poll.go lose: warning: watch %s: the folder was removed or renamed; waiting for it to come back": {drive: func(t *testing.T) (*syncBuffer, string) {
		if runtime.GOOS == "windows" {
			t.Skip("Windows cannot delete a folder that a process holds open, as hotserve holds DIR")
		}
		dir := siteDir(t)
		in := startInProcess(t, dir)
		// The first event comes once the watcher has walked DIR: removed
		// before that, DIR is a start-up error, not this warning.
		in.events(t)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		return in.stderr, regexp.QuoteMeta("hotserve: warning: watch " + dir + ": the folder was removed or renamed; waiting for it to come back")
	}},
	"watchers.go watchSources: warning: reopen %s: %v": {
		unreachable: "the folder vanishing again between the watcher seeing it back and the server opening it",
	},
	"watcher/loop.go run: warning: watch %s: %v":    {elsewhere: "watcher.TestEveryWarningSaysWarning"},
	"watcher/loop.go handle: warning: %v":           {elsewhere: "watcher.TestEveryWarningSaysWarning"},
	"watcher/loop.go handle: warning: %v (2)":       {elsewhere: "watcher.TestEveryWarningSaysWarning"},
	"watcher/loop.go walk: warning: watch %s: %v":   {elsewhere: "watcher.TestEveryWarningSaysWarning"},
	"watcher/loop.go watchDir: warning: %v":         {elsewhere: "watcher.TestEveryWarningSaysWarning"},
	"watcher/loop.go follow: warning: watch %s: %v": {elsewhere: "watcher.TestEveryWarningSaysWarning"},
	"watcher/loop.go rescan: warning: %v":           {elsewhere: "watcher.TestEveryWarningSaysWarning"},
	"watcher/poll.go refused: warning: watch %s: %v: %s; directories that cannot be watched are polled every %v instead": {elsewhere: "watcher.TestEveryWarningSaysWarning"},
	"watcher/poll.go reroot: warning: %v":                                           {elsewhere: "watcher.TestEveryWarningSaysWarning"},
	"watcher/watcher.go watch: warning: watch %s: %v: %s; polling every %v instead": {elsewhere: "watcher.TestEveryWarningSaysWarning"},
}

// otherLines are the lines hotserve prints on stderr that are not
// warnings: errors and hints (which say so), and news. A new line must be
// added here or be a warning, so that nothing that went wrong is printed
// as if it were news.
var otherLines = []string{
	"httpserve.go logRequests: %s %s %d %v",
	"main.go runIn: hotserve: error: %v",
	"main.go runIn: hotserve: hint: %s",
	`main.go runIn: hotserve: hint: run "hotserve --help" to see how to use it`,
	"serve.go serve: proxying %s to %s",
	"serve.go reloadRequested: %s reload requested by %s, but --no-reload is on",
	"serve.go reloadRequested: %s reload requested by %s%s (%s)",
	"server/proxy.go newProxy: backend %s answers again",
	"server/proxy.go fail: hint: %s",
	"watcher/poll.go reroot: watch %s: the folder is back; watching it again",
	"watcher/watcher.go watch: watch %s: the folder is on %s, where file events are not reliable; polling it every %v instead",
	"watchers.go logChange: %s changed: %s (%s)",
}

// siteDir is a folder with an index.html.
func siteDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><title>x</title>")
	return dir
}

// get requests url with the header pairs given, and returns the status.
func get(t *testing.T, url string, header ...string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// hotserveLines are the places in hotserve's code that print on stderr.
func hotserveLines(t *testing.T) []testio.Printed {
	t.Helper()
	lines, err := testio.PrintedLines(".", "bench", "example")
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestEveryPrintedLineIsKnown(t *testing.T) {
	found := map[string]bool{}
	for _, p := range hotserveLines(t) {
		found[p.Key] = true
		_, isCase := warningCases[p.Key]
		switch {
		case p.Warning() && !isCase:
			t.Errorf("%s: a new warning: add it to warningCases with a test that makes it happen\n\t%s", p.Pos, p.Key)
		case !p.Warning() && !slices.Contains(otherLines, p.Key):
			t.Errorf("%s: a new line on stderr: if it says that something went wrong, start it with \"warning: \"; else add it to otherLines\n\t%s", p.Pos, p.Key)
		}
		if !p.Logged && !strings.HasPrefix(p.Format, "hotserve: ") {
			t.Errorf("%s: a line written to stderr without the \"hotserve: \" prefix: %q", p.Pos, p.Format)
		}
	}
	for key := range warningCases {
		if !found[key] {
			t.Errorf("warningCases has %q, which hotserve's code no longer prints", key)
		}
	}
	for _, key := range otherLines {
		if !found[key] {
			t.Errorf("otherLines has %q, which hotserve's code no longer prints", key)
		}
	}
}

func TestEveryWarningSaysWarning(t *testing.T) {
	printed := hotserveLines(t)
	for _, key := range slices.Sorted(maps.Keys(warningCases)) {
		c := warningCases[key]
		if c.drive == nil {
			continue
		}
		t.Run(key, func(t *testing.T) {
			stderr, want := c.drive(t)
			waitForMatch(t, stderr, regexp.MustCompile(`(?m)^`+want+`$`))
			// Every line printed with it is one hotserve's code prints,
			// and each line that says "warning" is one of its warnings.
			for line := range strings.SplitSeq(strings.TrimSpace(stderr.String()), "\n") {
				i := slices.IndexFunc(printed, func(p testio.Printed) bool { return p.Line("hotserve: ").MatchString(line) })
				switch {
				case i < 0:
					t.Errorf("hotserve printed %q, which is no line of its code", line)
				case strings.Contains(line, "warning") && !printed[i].Warning() && !strings.HasPrefix(line, "hotserve: warning: "):
					t.Errorf("hotserve printed %q, a warning that does not start with \"hotserve: warning: \"", line)
				}
			}
		})
	}
}
