package main

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestProxyToItselfIsRefused(t *testing.T) {
	port := freePort(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"the same address", []string{"--port", port, "--proxy", "http://127.0.0.1:" + port}},
		{"localhost for 127.0.0.1", []string{"--port", port, "--proxy", "http://localhost:" + port + "/app"}},
		{"a prefix", []string{"--port", port, "--proxy", "/api=http://127.0.0.1:" + port}},
		{"loopback for every address", []string{"--host", "0.0.0.0", "--port", port, "--proxy", "http://127.0.0.2:" + port}},
		{"this machine's address for every address", []string{"--host", "0.0.0.0", "--port", port, "--proxy", "http://192.0.2.7:" + port}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr syncBuffer
			env := surroundings{
				stdout:      &syncBuffer{},
				stderr:      &stderr,
				isTerminal:  func(io.Writer) bool { return false },
				openBrowser: func(string) error { return nil },
				interfaceAddrs: func() ([]net.Addr, error) {
					return []net.Addr{&net.IPNet{IP: net.IPv4(192, 0, 2, 7), Mask: net.CIDRMask(24, 32)}}, nil
				},
			}
			done := make(chan int, 1)
			go func() { done <- runIn(t.Context(), append(append([]string{"hotserve"}, tc.args...), t.TempDir()), env) }()
			select {
			case code := <-done:
				out := stderr.String()
				if code != 1 || !strings.Contains(out, "hotserve: error: --proxy") || !strings.Contains(out, "is hotserve itself") || !strings.Contains(out, "hotserve: hint: give the address of your app") {
					t.Errorf("exit %d, stderr %q", code, out)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("hotserve started with itself as its backend")
			}
		})
	}
	t.Run("another port is fine", func(t *testing.T) {
		in := startInProcess(t, "--port", port, "--proxy", "http://127.0.0.1:1", t.TempDir())
		in.stop()
	})
}
