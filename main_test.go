package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotserve/hotserve/internal/ssetest"
	"github.com/hotserve/hotserve/internal/testio"
)

// binary is hotserve built once for the tests that run it as a process.
var binary string

func TestMain(m *testing.M) {
	// The tests set every flag themselves.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "HOTSERVE_") {
			os.Unsetenv(k)
		}
	}
	dir, err := os.MkdirTemp("", "hotserve-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hotserve")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	// The fast tier runs no binary (see skipSlow): no build.
	flag.Parse()
	if testing.Short() {
		binary = ""
	} else if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a buffer that a test can read while hotserve writes.
type syncBuffer = testio.Buffer

var urlPattern = regexp.MustCompile(`https?://127\.0\.0\.1:(\d+)/`)

// instance is hotserve running in this process.
type instance struct {
	url            string
	stdout, stderr *syncBuffer
	stop           func() int // cancels and returns the exit code
}

// startInProcess runs hotserve with args (flags and DIR) on a free port and
// waits until it prints its URL.
func startInProcess(t *testing.T, args ...string) *instance {
	t.Helper()
	return startIn(t, nil, args...)
}

// startIn is startInProcess with surroundings that change may alter: a fake
// terminal, browser opener or network interfaces.
func startIn(t *testing.T, change func(*surroundings), args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	sys := surroundings{
		stdout:      in.stdout,
		stderr:      in.stderr,
		isTerminal:  func(io.Writer) bool { return false },
		openBrowser: func(string) error { return errors.New("tests open no browser") },
		interfaceAddrs: func() ([]net.Addr, error) {
			return []net.Addr{&net.IPNet{IP: net.IPv4(192, 0, 2, 7), Mask: net.CIDRMask(24, 32)}}, nil
		},
	}
	if change != nil {
		change(&sys)
	}
	code := make(chan int, 1)
	go func() { code <- runIn(ctx, append([]string{"hotserve", "--port", "0"}, args...), sys) }()
	var once sync.Once
	exit := -1
	in.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case exit = <-code:
			case <-time.After(10 * time.Second):
				t.Errorf("hotserve did not stop within 10s")
			}
		})
		return exit
	}
	t.Cleanup(func() { in.stop() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := urlPattern.FindString(in.stdout.String()); m != "" {
			in.url = strings.TrimSuffix(m, "/")
			return in
		}
		select {
		case c := <-code:
			t.Fatalf("hotserve exited with %d: %s", c, in.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hotserve printed no URL within 10s: %q %q", in.stdout.String(), in.stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// events opens the event stream and returns it after its first event.
func (in *instance) events(t *testing.T, header ...string) (*ssetest.Stream, ssetest.Event) {
	t.Helper()
	st := ssetest.Open(t, in.url+"/__hotserve/events", header...)
	return st, st.Next(t, 10*time.Second)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runBinary runs the built hotserve with args and returns its exit code and
// output; it fails if the process takes longer than limit.
func runBinary(t *testing.T, limit time.Duration, args ...string) (int, string, string) {
	t.Helper()
	skipSlow(t, "runs the built binary")
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("hotserve %v did not exit within %v", args, limit)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// hotserveCmd is the command that runs the built hotserve with args.
func hotserveCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	skipSlow(t, "runs the built binary")
	return exec.Command(binary, args...)
}

// process is the built hotserve running as a child process.
type process struct {
	cmd            *exec.Cmd
	url            string // as printed, with the trailing slash
	stdout, stderr *syncBuffer
	done           chan struct{} // closed when the process has exited
	err            error         // Wait's result, once done is closed
}

// startBinary runs the built hotserve with args and waits until it prints
// its URL. When the test ends the process gets SIGTERM, then SIGKILL.
func startBinary(t *testing.T, args ...string) *process {
	t.Helper()
	return startBinaryIn(t, "", args...)
}

// startBinaryIn is startBinary run from the folder wd, as a user runs
// hotserve with a relative DIR; "" is the test's own folder.
func startBinaryIn(t *testing.T, wd string, args ...string) *process {
	t.Helper()
	skipSlow(t, "runs the built binary")
	p := &process{cmd: exec.Command(binary, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Dir = wd
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	for deadline := time.Now().Add(10 * time.Second); p.url == ""; time.Sleep(time.Millisecond) {
		select {
		case <-p.done:
			t.Fatalf("hotserve exited (%v): %q %q", p.err, p.stdout.String(), p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hotserve printed no URL within 10s: %q %q", p.stdout.String(), p.stderr.String())
		}
		p.url = urlPattern.FindString(p.stdout.String())
	}
	return p
}

// running reports whether the process is still running and answering.
func (p *process) running(t *testing.T) bool {
	t.Helper()
	select {
	case <-p.done:
		return false
	default:
	}
	resp, err := http.Get(p.url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// wantErrorAndHint runs the binary with args and checks that it exits 1
// after exactly one error line mentioning errText and one hint line
// mentioning hint.
func wantErrorAndHint(t *testing.T, limit time.Duration, args []string, errText, hint string) {
	t.Helper()
	code, _, stderr := runBinary(t, limit, args...)
	if code != 1 {
		t.Errorf("got exit code %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "hotserve: error: ") || !strings.HasPrefix(lines[1], "hotserve: hint: ") {
		t.Fatalf("got stderr %q, want one error line and one hint line", stderr)
	}
	if !strings.Contains(lines[0], errText) || !strings.Contains(lines[1], hint) {
		t.Errorf("got %q, want the error to mention %q and the hint %q", stderr, errText, hint)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "page.html")
	write(t, file, "<p>x")
	for _, tc := range []struct {
		name  string
		args  []string
		error string
		hint  string
	}{
		{"a missing folder", []string{filepath.Join(dir, "nope")}, "no such folder", "hotserve ./public"},
		{"a file instead of a folder", []string{file}, "is a file, not a folder", "hotserve " + dir},
		{"an unknown flag", []string{"--frobnicate", dir}, "flag provided but not defined", "hotserve --help"},
		{"a bad port", []string{"--port", "70000", dir}, "invalid port", "1 to 65535"},
		{"a bad header", []string{"--header", "nocolon", dir}, "invalid --header", "Name: value"},
		{"a zero debounce", []string{"--debounce", "0", dir}, "invalid --debounce 0s", "5ms"},
		{"a bad glob", []string{"--ignore", "[", dir}, "[", "--ignore"},
		{"two folders", []string{dir, dir}, "too many arguments", "one folder"},
		{"an allowed host with a port", []string{"--allow-host", "dev.test:8080", dir}, "invalid --allow-host", "without scheme or port"},
		{"an allowed host with a scheme", []string{"--allow-host", "http://dev.test", dir}, "invalid --allow-host", "without scheme or port"},
		{"a poll interval too short", []string{"--poll", "1ms", dir}, "invalid --poll", "at least 10ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErrorAndHint(t, time.Second, tc.args, tc.error, tc.hint)
		})
	}
}

func TestUnreadableFolder(t *testing.T) {
	// Root reads any folder, so as root the binary runs as nobody.
	parent, err := os.MkdirTemp("", "hotserve-perm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(parent)
	dir := filepath.Join(parent, "locked")
	if err := os.Mkdir(dir, 0o000); err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755)
	skipSlow(t, "runs the built binary")
	bin := filepath.Join(parent, "hotserve")
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--port", "0", dir)
	asNobody(cmd)
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "hotserve: error: "+dir) || !strings.Contains(string(out), "hotserve: hint: check the folder's permissions") {
		t.Errorf("got exit %d and %q, want exit 1 naming the folder and its permissions", code, out)
	}
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := runBinary(t, 5*time.Second, "--help")
	if code != 0 {
		t.Errorf("--help: exit code %d", code)
	}
	for _, flag := range []string{"--port", "--host", "--no-reload", "--ignore", "--debounce", "--spa", "--header", "--cors", "--allow-host", "--poll", "--quiet", "--verbose", "HOTSERVE_PORT", "HOTSERVE_ALLOW_HOST"} {
		if !strings.Contains(out, flag) {
			t.Errorf("--help does not mention %s", flag)
		}
	}
	code, out, _ = runBinary(t, 5*time.Second, "--version")
	if code != 0 || !strings.HasPrefix(out, "hotserve version ") {
		t.Errorf("--version: got %d %q", code, out)
	}
}

// listenOn occupies a port on 127.0.0.1 for the rest of the test.
func listenOn(t *testing.T, port int) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, 0
	}
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().(*net.TCPAddr).Port
}

func TestBusyPort(t *testing.T) {
	dir := t.TempDir()
	t.Run("a busy port the user named is an error", func(t *testing.T) {
		_, port := listenOn(t, 0)
		code, _, stderr := runBinary(t, 5*time.Second, "--port", fmt.Sprint(port), dir)
		if code != 1 || !strings.Contains(stderr, "address already in use") || !strings.Contains(stderr, "hotserve: hint: port") {
			t.Errorf("got %d %q, want exit 1 with the reason and a hint", code, stderr)
		}
	})
	t.Run("a busy port from the environment is an error too", func(t *testing.T) {
		_, port := listenOn(t, 0)
		cmd := hotserveCmd(t, dir)
		cmd.Env = append(os.Environ(), fmt.Sprintf("HOTSERVE_PORT=%d", port))
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "address already in use") {
			t.Errorf("got %d %q", cmd.ProcessState.ExitCode(), out)
		}
	})
	t.Run("a busy default port moves to the next free one", func(t *testing.T) {
		// If something else already holds 8080, it is busy all the same.
		listenOn(t, defaultPort)
		p := startBinary(t, dir)
		port := urlPattern.FindStringSubmatch(p.url)[1]
		if port == fmt.Sprint(defaultPort) {
			t.Fatalf("got port %s, want another than %d", port, defaultPort)
		}
		waitFor(t, p.stderr, fmt.Sprintf("port %d is in use; using %s instead", defaultPort, port))
	})
}

func TestSignalStopsWithOpenStreams(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>x")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			p := startBinary(t, "--port", "0", dir)
			in := &instance{url: strings.TrimSuffix(p.url, "/")}
			in.events(t)
			in.events(t)
			p.cmd.Process.Signal(sig)
			select {
			case <-p.done:
				if p.err != nil {
					t.Errorf("got %v, want exit 0", p.err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("hotserve did not exit within 2s of the signal")
			}
		})
	}
}

func TestFlagValuesKeepTheirCommas(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>x")
	in := startInProcess(t, "--header", "X-Test: a, b", "--ignore", "*.{log,tmp}", dir)
	resp, err := http.Get(in.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Test"); got != "a, b" {
		t.Errorf("got X-Test %q, want %q: a repeatable flag must not split its value on commas", got, "a, b")
	}
}
