// Package ssetest reads hotserve's event stream in tests the way a browser's
// EventSource does: one goroutine parses the stream into events, and tests
// wait for the next one with a deadline.
package ssetest

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotserve/hotserve/assets"
)

// Event is one server-sent event carrying data.
type Event struct {
	ID   string
	Data assets.Event // the data field, decoded as a browser's client does
	Raw  string       // the data field as sent
}

// Stream is one open event stream.
type Stream struct {
	Header http.Header
	Retry  string // the retry: field, once seen
	events chan Event
	errc   chan error
	cancel context.CancelFunc
	done   chan struct{}
}

// Open connects to url with the given header name/value pairs and starts
// reading. The stream is closed when the test ends.
func Open(t testing.TB, url string, header ...string) *Stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &Stream{Header: resp.Header, events: make(chan Event, 64), errc: make(chan error, 1), cancel: cancel, done: make(chan struct{})}
	retry := make(chan string, 1)
	go func() {
		defer close(s.done)
		defer resp.Body.Close()
		s.errc <- read(bufio.NewReader(resp.Body), s.events, retry)
	}()
	t.Cleanup(s.Close)
	select {
	case s.Retry = <-retry:
	case err := <-s.errc:
		t.Fatalf("event stream: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("event stream: no retry: line within 5s")
	}
	return s
}

func read(r *bufio.Reader, events chan<- Event, retry chan<- string) error {
	var ev Event
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, ":") {
			continue // a comment, such as the keep-alive ": ping"
		}
		field, value, _ := strings.Cut(line, ": ")
		switch field {
		case "":
			if ev.Raw != "" {
				events <- ev
			}
			ev = Event{}
		case "id":
			ev.ID = value
		case "retry":
			select {
			case retry <- value:
			default:
			}
		case "data":
			ev.Raw = value
			if err := json.Unmarshal([]byte(value), &ev.Data); err != nil {
				return err
			}
		}
	}
}

// Next returns the next event, failing the test if none comes within d.
func (s *Stream) Next(t testing.TB, d time.Duration) Event {
	t.Helper()
	select {
	case ev := <-s.events:
		return ev
	case err := <-s.errc:
		t.Fatalf("event stream ended: %v", err)
	case <-time.After(d):
		t.Fatalf("no event within %v", d)
	}
	return Event{}
}

// Close ends the stream and waits for its reader to stop.
func (s *Stream) Close() {
	s.cancel()
	<-s.done
}
