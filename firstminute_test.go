package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These tests cover what a person sees in their first minute with hotserve:
// the banner, --open, the log lines and --help.

// ansi matches any ANSI escape sequence.
var ansi = regexp.MustCompile("\x1b\\[")

// qrBlocks are characters only the QR code prints.
const qrBlocks = "▀▄█"

// fakeListener is a net.Listener that only reports an address.
type fakeListener struct {
	net.Listener
	addr *net.TCPAddr
}

func (f fakeListener) Addr() net.Addr { return f.addr }

func TestNetworkURLs(t *testing.T) {
	addrs := func() ([]net.Addr, error) {
		return []net.Addr{
			&net.IPNet{IP: net.IPv4(127, 0, 0, 1), Mask: net.CIDRMask(8, 32)},
			&net.IPNet{IP: net.IPv4(192, 168, 1, 20), Mask: net.CIDRMask(24, 32)},
			&net.IPNet{IP: net.ParseIP("fe80::1"), Mask: net.CIDRMask(64, 128)},
			&net.IPNet{IP: net.ParseIP("2001:db8::5"), Mask: net.CIDRMask(64, 128)},
			&net.IPNet{IP: net.IPv4(169, 254, 3, 3), Mask: net.CIDRMask(16, 32)},
			&net.IPNet{IP: net.IPv4(10, 0, 0, 9), Mask: net.CIDRMask(8, 32)},
		}, nil
	}
	for _, tc := range []struct {
		name string
		ip   net.IP
		want []string
	}{
		{"a loopback bind has no network URL", net.IPv4(127, 0, 0, 1), nil},
		{"an all-interfaces bind lists each non-loopback IPv4 address", net.IPv4zero,
			[]string{"http://192.168.1.20:8080/", "http://10.0.0.9:8080/"}},
		{"an IPv6 all-interfaces bind lists the same IPv4 addresses", net.IPv6unspecified,
			[]string{"http://192.168.1.20:8080/", "http://10.0.0.9:8080/"}},
		{"a bind to one outside address lists that address", net.IPv4(192, 168, 1, 20),
			[]string{"http://192.168.1.20:8080/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := networkURLs(fakeListener{addr: &net.TCPAddr{IP: tc.ip, Port: 8080}}, "http", addrs)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBannerText(t *testing.T) {
	for _, tc := range []struct {
		name    string
		b       banner
		want    []string
		notWant []string
	}{
		{
			name:    "a loopback bind shows the Local URL and the hint to expose",
			b:       banner{version: "v1.2.3", dir: "site", local: "http://127.0.0.1:8080/"},
			want:    []string{"hotserve v1.2.3", "serving site", "  Local:   http://127.0.0.1:8080/\n", "Network: use --host 0.0.0.0 to expose"},
			notWant: []string{"warning", "Scan"},
		},
		{
			name: "an all-interfaces bind lists the Network URLs and warns that the folder is exposed",
			b: banner{version: "v1.2.3", dir: "site", local: "http://127.0.0.1:8080/", exposed: true,
				network: []string{"http://192.168.1.20:8080/", "http://10.0.0.9:8080/"}},
			want: []string{"  Local:   http://127.0.0.1:8080/\n", "  Network: http://192.168.1.20:8080/\n", "  Network: http://10.0.0.9:8080/\n",
				"warning: site is exposed to the network: anyone who can reach this machine can read its files"},
			notWant: []string{"use --host", "Scan"},
		},
		{
			name: "the QR code encodes the first Network URL",
			b: banner{version: "v1.2.3", dir: "site", local: "http://127.0.0.1:8080/", exposed: true, qr: true,
				network: []string{"http://192.168.1.20:8080/", "http://10.0.0.9:8080/"}},
			want: []string{"Scan to open http://192.168.1.20:8080/ on a phone", "▀"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			tc.b.write(&out)
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("the banner lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("the banner has %q:\n%s", w, out.String())
				}
			}
			if ansi.MatchString(out.String()) {
				t.Errorf("the banner has ANSI escapes without colour:\n%q", out.String())
			}
		})
	}
}

func TestBannerOnStart(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>x")
	for _, tc := range []struct {
		name     string
		terminal bool
		noColor  string
		args     []string
		want     []string
		color    bool
		qr       bool
	}{
		{name: "a loopback bind on a terminal is coloured, hints at --host and has no QR code",
			terminal: true, args: []string{dir},
			want:  []string{"Local:   ", "use --host 0.0.0.0 to expose"},
			color: true},
		{name: "an exposed bind on a terminal prints the Network URL, the warning and its QR code",
			terminal: true, args: []string{"--host", "0.0.0.0", dir},
			want:  []string{"Network: ", "http://192.0.2.7:", "is exposed to the network"},
			color: true, qr: true},
		{name: "an exposed bind with --no-qr has no QR code",
			terminal: true, args: []string{"--host", "0.0.0.0", "--no-qr", dir},
			want:  []string{"http://192.0.2.7:", "is exposed to the network"},
			color: true},
		{name: "an exposed bind writing to a pipe has neither colour nor QR code",
			args: []string{"--host", "0.0.0.0", dir},
			want: []string{"http://192.0.2.7:", "is exposed to the network"}},
		{name: "an exposed bind with --https prints https Network URLs",
			args: []string{"--https", "--host", "0.0.0.0", dir},
			want: []string{"https://192.0.2.7:", "Local:   https://127.0.0.1:"}},
		{name: "NO_COLOR turns colour off on a terminal but keeps the QR code",
			terminal: true, noColor: "1", args: []string{"--host", "0.0.0.0", dir},
			want: []string{"http://192.0.2.7:"},
			qr:   true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tc.noColor)
			in := startIn(t, func(s *surroundings) {
				s.isTerminal = func(w io.Writer) bool { return tc.terminal && w == s.stdout }
			}, tc.args...)
			// The banner is written before hotserve serves; once it has
			// stopped, all of it is there.
			if code := in.stop(); code != 0 {
				t.Fatalf("exit code %d: %s", code, in.stderr.String())
			}
			out := in.stdout.String()
			if !urlPattern.MatchString(out) {
				t.Errorf("no Local URL that tests and scripts can find in:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("the banner lacks %q:\n%s", w, out)
				}
			}
			if got := ansi.MatchString(out); got != tc.color {
				t.Errorf("got colour %v, want %v:\n%q", got, tc.color, out)
			}
			if got := strings.ContainsAny(out, qrBlocks); got != tc.qr {
				t.Errorf("got a QR code %v, want %v:\n%s", got, tc.qr, out)
			}
		})
	}
}

func TestQuietStillWarnsWhenExposed(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>x")
	for _, tc := range []struct {
		name string
		args []string
		warn bool
	}{
		{"a quiet loopback bind prints only the URL", []string{"--quiet", dir}, false},
		{"a quiet exposed bind still warns", []string{"--quiet", "--host", "0.0.0.0", dir}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := startIn(t, func(*surroundings) {}, tc.args...)
			if code := in.stop(); code != 0 {
				t.Fatalf("exit code %d: %s", code, in.stderr.String())
			}
			if out := strings.TrimSpace(in.stdout.String()); !urlPattern.MatchString(out) || strings.Contains(out, "\n") {
				t.Errorf("stdout: got %q, want the URL alone", out)
			}
			if got := strings.Contains(in.stderr.String(), "hotserve: warning: "+dir+" is exposed to the network"); got != tc.warn {
				t.Errorf("got the warning %v, want %v: %q", got, tc.warn, in.stderr.String())
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>x")
	t.Run("--open passes the Local URL to the opener", func(t *testing.T) {
		opened := make(chan string, 1)
		in := startIn(t, func(s *surroundings) {
			s.openBrowser = func(url string) error { opened <- url; return nil }
		}, "--open", dir)
		select {
		case got := <-opened:
			if got != in.url+"/" {
				t.Errorf("opened %q, want %q", got, in.url+"/")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no browser opened within 10s")
		}
	})
	t.Run("a browser that cannot be opened is a warning and hotserve keeps serving", func(t *testing.T) {
		in := startIn(t, func(s *surroundings) {
			s.openBrowser = func(string) error { return errors.New("xdg-open: not found") }
		}, "--open", dir)
		want := "hotserve: warning: could not open a browser: xdg-open: not found; open " + in.url + "/ yourself"
		waitFor(t, in.stderr, want)
		resp, err := http.Get(in.url + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("got status %d after the warning, want 200", resp.StatusCode)
		}
		if code := in.stop(); code != 0 {
			t.Errorf("got exit code %d, want 0", code)
		}
	})
	t.Run("without --open no browser is opened", func(t *testing.T) {
		in := startIn(t, func(s *surroundings) {
			s.openBrowser = func(url string) error { t.Errorf("opened %s without --open", url); return nil }
		}, dir)
		in.stop()
	})
}

// waitFor waits up to 10 s for buf to contain want.
func waitFor(t *testing.T, buf *syncBuffer, want string) {
	t.Helper()
	waitForMatch(t, buf, regexp.MustCompile(regexp.QuoteMeta(want)))
}

// waitForMatch waits up to 10 s for buf to match re.
func waitForMatch(t *testing.T, buf *syncBuffer, re *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !re.MatchString(buf.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10s in:\n%s", re, buf.String())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBatchLog(t *testing.T) {
	t.Run("a batch logs the time, the first three paths, +N more and the connected browsers", func(t *testing.T) {
		dir := t.TempDir()
		// A long quiet time keeps the five writes in one batch.
		in := startInProcess(t, "--debounce", "200ms", dir)
		st, _ := in.events(t)
		for _, name := range []string{"e.txt", "d.txt", "c.txt", "b.txt", "a.txt"} {
			write(t, filepath.Join(dir, name), "x")
		}
		if got := st.Next(t, 10*time.Second).Data.Paths; len(got) != 5 {
			t.Fatalf("got batch %v, want the five files in one", got)
		}
		waitForMatch(t, in.stderr, regexp.MustCompile(
			`(?m)^hotserve: \d\d:\d\d:\d\d changed: a\.txt, b\.txt, c\.txt \+2 more \(1 browser connected\)$`))
	})
	t.Run("--quiet logs no batch", func(t *testing.T) {
		dir := t.TempDir()
		in := startInProcess(t, "--quiet", dir)
		st, _ := in.events(t)
		write(t, filepath.Join(dir, "a.txt"), "x")
		st.Next(t, 10*time.Second)
		// Stopping waits for the watcher, so any line it would log is
		// written by then.
		in.stop()
		if got := in.stderr.String(); got != "" {
			t.Errorf("got %q on stderr, want nothing", got)
		}
		if got := in.stdout.String(); strings.Count(got, "\n") != 1 || !urlPattern.MatchString(got) {
			t.Errorf("got %q on stdout, want just the URL", got)
		}
	})
	t.Run("--verbose logs one line per request", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>x")
		in := startInProcess(t, "--verbose", dir)
		for _, path := range []string{"/index.html", "/missing.css"} {
			resp, err := http.Get(in.url + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		waitForMatch(t, in.stderr, regexp.MustCompile(`(?m)^hotserve: GET /index.html 200 `))
		waitForMatch(t, in.stderr, regexp.MustCompile(`(?m)^hotserve: GET /missing.css 404 `))
	})
	t.Run("without --verbose requests are not logged", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>x")
		in := startInProcess(t, dir)
		resp, err := http.Get(in.url + "/index.html")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		in.stop()
		if strings.Contains(in.stderr.String(), "GET /") {
			t.Errorf("got a request line without --verbose: %q", in.stderr.String())
		}
	})
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths []string
		want  string
	}{
		{"one path is named", []string{"a.css"}, "a.css"},
		{"three paths are all named", []string{"a", "b", "c"}, "a, b, c"},
		{"a fourth path is counted", []string{"a", "b", "c", "d"}, "a, b, c +1 more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summarize(tc.paths); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := runBinary(t, 5*time.Second, "--help")
	if code != 0 {
		t.Fatalf("got exit code %d", code)
	}
	t.Run("it shows usage by example", func(t *testing.T) {
		for _, ex := range []string{"hotserve ./public", "hotserve -p 3000 --open", "hotserve --spa dist"} {
			if !strings.Contains(out, ex) {
				t.Errorf("--help lacks the example %q", ex)
			}
		}
	})
	t.Run("it lists every flag with its environment variable", func(t *testing.T) {
		for _, f := range newApp(surroundings{}).Flags {
			name := f.Names()[0]
			env := "$HOTSERVE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) // README's rule, written out
			line := regexp.MustCompile(`(?m)^\s+--` + regexp.QuoteMeta(name) + `\b.*\[` + regexp.QuoteMeta(env) + `\]$`)
			if !line.MatchString(out) {
				t.Errorf("--help has no line for --%s naming %s", name, env)
			}
		}
	})
	t.Run("it shows the defaults", func(t *testing.T) {
		for _, d := range []string{"(default: 8080)", `(default: "127.0.0.1")`, "(default: 5ms)"} {
			if !strings.Contains(out, d) {
				t.Errorf("--help lacks %s", d)
			}
		}
	})
	t.Run("shell completion completes flags", func(t *testing.T) {
		code, out, _ := runBinary(t, 5*time.Second, "--po", "--generate-bash-completion")
		if code != 0 || !strings.Contains(out, "--port") {
			t.Errorf("got %d %q, want --port offered", code, out)
		}
	})
}

// The README promises these flags; a flag added to the code must reach it.
func TestReadmeListsEveryFlag(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range newApp(surroundings{}).Flags {
		if !strings.Contains(string(b), "`--"+f.Names()[0]) {
			t.Errorf("README.md's flag table lacks --%s", f.Names()[0])
		}
	}
}

func TestSkippedPageWarnsOnce(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "part.html"), "<p>a fragment for fetch()</p>")
	in := startInProcess(t, dir)
	for range 3 {
		resp, err := http.Get(in.url + "/part.html")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	waitFor(t, in.stderr, "part.html")
	in.stop()
	if n := strings.Count(in.stderr.String(), "reload script not injected"); n != 1 {
		t.Errorf("got %d warnings for three requests, want 1:\n%s", n, in.stderr.String())
	}
}
