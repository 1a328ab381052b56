package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/hotserve/hotserve/assets"
)

// loadResult is what one wrk run measured.
type loadResult struct {
	rps float64
	p99 time.Duration
}

// wrk loads url for d with the same settings for every server, so that the
// ratios compare like with like: one thread and 32 connections leave the
// other core to the server.
func wrk(url string, d time.Duration) (loadResult, error) {
	if _, err := exec.LookPath("wrk"); err != nil {
		return loadResult{}, errNoWrk
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "wrk", "-t1", "-c32", "-d"+d.String(), "--latency", url).CombinedOutput()
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk %s: %v\n%s", url, err, out)
	}
	return parseWrk(string(out))
}

func parseWrk(out string) (loadResult, error) {
	var r loadResult
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.rps, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "99%":
			r.p99 = parseWrkDuration(f[1])
		case len(f) > 0 && (f[0] == "Non-2xx" || f[0] == "Socket"):
			return r, fmt.Errorf("wrk reported errors: %s", line)
		}
	}
	if r.rps == 0 || r.p99 == 0 {
		return r, fmt.Errorf("could not read wrk's output:\n%s", out)
	}
	return r, nil
}

// parseWrkDuration reads wrk's "812.00us", "1.23ms" or "2.01s".
func parseWrkDuration(s string) time.Duration {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0
			}
			return time.Duration(f * float64(u.unit))
		}
	}
	return 0
}

// sseConn is one raw event stream: a TCP connection that sent the request
// and reads the response line by line.
type sseConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialSSE(base string) (*sseConn, error) {
	addr := strings.TrimPrefix(base, "http://")
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(c, "GET "+assets.Prefix+"events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", addr); err != nil {
		c.Close()
		return nil, err
	}
	return &sseConn{c: c, r: bufio.NewReaderSize(c, 1024)}, nil
}

// nextBuild reads until the next data line and returns its build, failing
// after the deadline.
func (s *sseConn) nextBuild(deadline time.Time) (int64, error) {
	s.c.SetReadDeadline(deadline)
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		if rest, ok := strings.CutPrefix(line, `data: {"build":`); ok {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				return 0, fmt.Errorf("bad event %q", line)
			}
			return strconv.ParseInt(rest[:end], 10, 64)
		}
	}
}

func (s *sseConn) close() { s.c.Close() }
