package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server running as a child process.
type proc struct {
	cmd   *exec.Cmd
	url   string // base URL without the trailing slash
	start time.Time
}

var urlLine = regexp.MustCompile(`http://127\.0\.0\.1:\d+/`)

// startProc runs name with args and waits until it prints its URL. Every
// wait is bounded: a server that prints nothing within 20 s is an error.
func startProc(name string, args ...string) (*proc, error) {
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, start: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := urlLine.FindString(sc.Text()); m != "" {
				found <- m
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case u := <-found:
		p.url = strings.TrimSuffix(u, "/")
		return p, nil
	case <-time.After(20 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s printed no URL within 20s", name)
	}
}

// stop ends the process with SIGTERM, then SIGKILL after 5 s.
func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// status reads a field of /proc/PID/status in KiB (VmRSS, VmHWM).
func (p *proc) status(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, p.cmd.Process.Pid)
}

func (p *proc) rssMiB() float64  { kb, _ := p.status("VmRSS"); return float64(kb) / 1024 }
func (p *proc) peakMiB() float64 { kb, _ := p.status("VmHWM"); return float64(kb) / 1024 }

// inotifyWatches counts the watches of every inotify instance the process
// holds, from /proc/PID/fdinfo.
func (p *proc) inotifyWatches() int {
	dir := fmt.Sprintf("/proc/%d/fdinfo", p.cmd.Process.Pid)
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		n += strings.Count(string(b), "inotify wd:")
	}
	return n
}

// waitOK polls url until it answers 200 or the deadline passes, and returns
// when it first did.
func waitOK(url string, limit time.Duration) (time.Time, error) {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now(), nil
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	return time.Time{}, fmt.Errorf("%s: no 200 within %v", url, limit)
}

// buildHotserve builds the binary under test into dir.
func buildHotserve(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "hotserve")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}

var errNoWrk = errors.New("wrk is not installed: apt-get install -y wrk")
