package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFlagsFirst(t *testing.T) {
	flags := newApp(surroundings{}).Flags
	for _, tc := range []struct{ in, want string }{
		{"hotserve site -p 3000", "hotserve -p 3000 site"},
		{"hotserve site --port=3000 --spa", "hotserve --port=3000 --spa site"},
		{"hotserve site --spa -h", "hotserve --spa -h"},
		{"hotserve -h site", "hotserve -h"},
		{"hotserve site --mount /v=lib --proxy http://127.0.0.1:3000", "hotserve --mount /v=lib --proxy http://127.0.0.1:3000 site"},
		// A value that looks like a flag or a folder is the flag's.
		{"hotserve --header -x site", "hotserve --header -x site"},
		{"hotserve --debounce 5ms site --no-reload", "hotserve --debounce 5ms --no-reload site"},
		{"hotserve -- -weird-dir", "hotserve -- -weird-dir"},
		{"hotserve --spa -- -weird-dir -p 3000", "hotserve --spa -- -weird-dir -p 3000"},
		{"hotserve site -", "hotserve site -"},
		// An unknown flag is left for the parser to report.
		{"hotserve site --frobnicate", "hotserve --frobnicate site"},
		// A value missing at the end is left for the parser to report,
		// and the folder does not become the value.
		{"hotserve site -p", "hotserve -p"},
		{"hotserve site --proxy", "hotserve --proxy"},
		{"hotserve site --spa --watch", "hotserve --spa --watch"},
		{"hotserve -p -- site", "hotserve -p -- site"},
		{"hotserve site --sp --generate-bash-completion", "hotserve --sp site --generate-bash-completion"},
		{"hotserve", "hotserve"},
	} {
		got := strings.Join(flagsFirst(strings.Fields(tc.in), flags), " ")
		if got != tc.want {
			t.Errorf("flagsFirst(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFlagsAfterTheFolder(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><title>app</title>")

	t.Run("every kind of flag works after DIR", func(t *testing.T) {
		p := startBinary(t, dir, "-p", "0", "--spa", "--header=X-Test: yes", "--debounce", "10ms")
		resp, err := http.Get(p.url + "users/42")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "<title>app</title>") || resp.Header.Get("X-Test") != "yes" {
			t.Errorf("got %d %q X-Test %q, want index.html for a route (--spa) with X-Test: yes (--header)", resp.StatusCode, body, resp.Header.Get("X-Test"))
		}
	})
	t.Run("-h after DIR prints help", func(t *testing.T) {
		for _, args := range [][]string{{dir, "--spa", "-h"}, {"-h", dir}, {dir, "--help"}} {
			code, stdout, stderr := runBinary(t, 5*time.Second, args...)
			if code != 0 || !strings.Contains(stdout, "before or after it; -- ends them") || stderr != "" {
				t.Errorf("hotserve %s: got %d %q %q, want exit 0 and the help", strings.Join(args, " "), code, stdout, stderr)
			}
		}
	})
	t.Run("-- ends the flags", func(t *testing.T) {
		parent := t.TempDir()
		if err := os.Mkdir(filepath.Join(parent, "-site"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Chdir(parent)
		in := startInProcess(t, "--", "-site")
		if !strings.Contains(in.stdout.String(), "serving -site") {
			t.Errorf("got %q, want it to serve the folder -site", in.stdout.String())
		}
	})
	t.Run("a second folder is still too many", func(t *testing.T) {
		code, _, stderr := runBinary(t, 5*time.Second, dir, "-p", "0", dir)
		if code != 1 || !strings.Contains(stderr, "too many arguments") {
			t.Errorf("got %d %q", code, stderr)
		}
	})
}

func TestHintsPointAtTheMistake(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "page.html")
	write(t, file, "<p>x")
	missing := filepath.Join(dir, "nope")
	cert := filepath.Join(dir, "c.pem")
	for _, tc := range []struct {
		name  string
		args  []string
		error string
		hint  string
	}{
		{"a missing --watch folder", []string{"--watch", missing, dir}, "--watch " + missing + ": no such folder", "check the folder given to --watch"},
		{"a missing --mount folder", []string{dir, "--mount", "/v=" + missing}, "--mount /v=" + missing + ": no such folder", "check the folder given to --mount"},
		{"a file to --watch", []string{"--watch", file, dir}, "--watch " + file + " is a file, not a folder", "--watch takes folders; pass the one that holds it: --watch " + dir},
		{"a file to --mount", []string{"--mount", "/v=" + file, dir}, "is a file, not a folder", "--mount takes folders; pass the one that holds it: --mount /v=" + dir},
		{"a --proxy prefix without a slash", []string{"--proxy", "api=http://127.0.0.1:3000", dir}, `invalid --proxy "api=http://127.0.0.1:3000"`, "--proxy /api=http://127.0.0.1:3000"},
		{"a --mount prefix without a slash", []string{"--mount", "v=" + dir, dir}, "invalid --mount", "--mount /v=" + dir},
		{"a port alone to --proxy", []string{"--proxy", "3000", dir}, `invalid --proxy "3000"`, "localhost:3000"},
		{"a --debounce without unit", []string{dir, "--debounce", "5"}, `missing unit in duration "5"`, "--debounce 100ms"},
		{"a --poll without unit", []string{"--poll", "500", dir}, `missing unit in duration "500"`, "--poll 500ms"},
		{"a --debounce above the cap", []string{"--debounce", "2s", dir}, "invalid --debounce 2s", "/__hotserve/reload"},
		{"a port that is no number", []string{dir, "-p", "abc"}, `invalid value "abc" for flag -p`, "-p takes a number"},
		{"a flag without its value after DIR", []string{dir, "--proxy"}, "flag needs an argument: -proxy", "give the app's address, e.g. --proxy localhost:3000"},
		{"a misspelt flag", []string{"--prot", "3000", dir}, "flag provided but not defined: -prot", "did you mean --port?"},
		{"a misspelt flag after DIR", []string{dir, "--no-relaod"}, "flag provided but not defined: -no-relaod", "did you mean --no-reload?"},
		{"--no-reload with --watch", []string{"--no-reload", "--watch", dir, dir}, "--no-reload and --watch both given", "drop --watch"},
		{"--no-reload with --ignore", []string{"--no-reload", "--ignore", "*.log", dir}, "--no-reload and --ignore both given", "drop --ignore"},
		{"--no-reload with --reload-html", []string{"--no-reload", "--reload-html", dir}, "--no-reload and --reload-html both given", "drop --reload-html"},
		{"--proxy-insecure without --proxy", []string{"--proxy-insecure", dir}, "--proxy-insecure without --proxy", "add the app's address"},
		{"--no-reload with --poll", []string{dir, "--poll", "1s", "--no-reload"}, "--no-reload and --poll both given", "drop --poll"},
		{"--https with --cert", []string{"--https", "--cert", cert, "--key", cert, dir}, "--https and --cert both given", "drop --https"},
		{"--spa with a --proxy for every path", []string{"--spa", "--proxy", "http://127.0.0.1:3000", dir}, "--spa and --proxy URL both given", "--proxy /api="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErrorAndHint(t, 5*time.Second, tc.args, tc.error, tc.hint)
		})
	}
	t.Run("the environment variable says the same", func(t *testing.T) {
		t.Setenv("HOTSERVE_DEBOUNCE", "5")
		code, _, stderr := runBinary(t, 5*time.Second, dir)
		if code != 1 || !strings.Contains(stderr, `missing unit in duration "5"`) || !strings.Contains(stderr, "hint: write a duration with its unit") {
			t.Errorf("got %d %q", code, stderr)
		}
	})
}

func TestProxyWithoutScheme(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "from the app")
	}))
	t.Cleanup(app.Close)
	_, port, _ := net.SplitHostPort(app.Listener.Addr().String())
	dir := t.TempDir()
	// BrowserSync's habit, and the port alone after a colon: both mean
	// http://localhost:PORT, with a prefix too.
	for _, tc := range []struct{ arg, prefix string }{
		{"localhost:" + port, "/"},
		{":" + port, "/"},
		{"/api=localhost:" + port, "/api"},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			in := startInProcess(t, "--proxy", tc.arg, dir)
			waitFor(t, in.stderr, "proxying "+tc.prefix+" to http://localhost:"+port+"\n")
			resp, err := http.Get(in.url + "/api/anything")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "from the app" {
				t.Errorf("got %d %q, want the app's answer", resp.StatusCode, body)
			}
		})
	}
}
