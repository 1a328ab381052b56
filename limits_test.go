package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotserve/hotserve/server"
)

// headerBlock is the largest request line plus headers that is answered:
// Go's server reads up to 4096 bytes past MaxHeaderBytes.
const headerBlock = maxHeaderBytes + 4096

// rawStatus sends req as it is and returns the response's status code.
func rawStatus(t *testing.T, base, req string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(strings.TrimSuffix(base, "/"), "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go fmt.Fprint(c, req) // the server may answer before it has read it all
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no response to a %d-byte request: %v", len(req), err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestHeaderSizeLimit sends a request line and header block of exactly the
// stated size, then one byte more, once with a long URL and once with a
// long header.
func TestHeaderSizeLimit(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<p>x")
	in := startInProcess(t, dir)
	pad := func(prefix, suffix string, total int) string {
		return prefix + strings.Repeat("a", total-len(prefix)-len(suffix)) + suffix
	}
	for _, tc := range []struct {
		name           string
		prefix, suffix string
	}{
		{"a long URL", "GET /?q=", " HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"a long header", "GET / HTTP/1.1\r\nHost: localhost\r\nX-Pad: ", "\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rawStatus(t, in.url, pad(tc.prefix, tc.suffix, headerBlock)); got != http.StatusOK {
				t.Errorf("%d bytes: got %d, want 200", headerBlock, got)
			}
			if got := rawStatus(t, in.url, pad(tc.prefix, tc.suffix, headerBlock+1)); got != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("%d bytes: got %d, want 431", headerBlock+1, got)
			}
		})
	}
}

// TestStatedLimits holds SECURITY.md to the limits in the code.
func TestStatedLimits(t *testing.T) {
	b, err := os.ReadFile("SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(string(b)), " ")
	for _, want := range []string{
		fmt.Sprintf("%d bytes", headerBlock),
		fmt.Sprintf("`ReadHeaderTimeout` (%d s)", int(readHeaderTimeout.Seconds())),
		fmt.Sprintf("At most %d streams", server.DefaultMaxStreams),
		"up to 65536 bytes; more is answered 413",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("SECURITY.md does not say %q", want)
		}
	}
}
