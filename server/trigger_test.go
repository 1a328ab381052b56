package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, url, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return response{status: resp.StatusCode, header: resp.Header}
}

func TestTriggerEndpoint(t *testing.T) {
	s, base := start(t, "", Options{})
	st := openStream(t, base)
	st.Next(t, 5*time.Second)

	if resp := post(t, base+"/__hotserve/reload", `{"paths": ["/css/site.css", "img/../a.png"]}`); resp.status != 204 {
		t.Fatalf("got %d, want 204", resp.status)
	}
	ev := st.Next(t, 5*time.Second)
	if strings.Join(ev.Data.Paths, " ") != "css/site.css a.png" || ev.Data.Reload {
		t.Errorf("got %s, want the two cleaned paths and no full reload", ev.Raw)
	}
	if resp := post(t, base+"/__hotserve/reload", ""); resp.status != 204 {
		t.Fatalf("an empty body got %d, want 204", resp.status)
	}
	if ev := st.Next(t, 5*time.Second); !ev.Data.Reload || len(ev.Data.Paths) != 0 {
		t.Errorf("an empty body announced %s, want a full reload", ev.Raw)
	}

	build := s.Build()
	refused := []struct {
		name   string
		body   string
		header []string
		want   int
	}{
		{name: "a cross-site form post is refused", header: []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example"}, want: 403},
		{name: "a same-site but cross-origin post is refused", header: []string{"Sec-Fetch-Site", "same-site"}, want: 403},
		{name: "a foreign Origin without Sec-Fetch-Site is refused", header: []string{"Origin", "http://evil.example"}, want: 403},
		{name: "a body that is not the JSON expected is refused", body: `["a"]`, want: 400},
		{name: "unknown fields are refused", body: `{"path": "a"}`, want: 400},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if resp := post(t, base+"/__hotserve/reload", tt.body, tt.header...); resp.status != tt.want {
				t.Errorf("got %d, want %d", resp.status, tt.want)
			}
		})
	}
	if resp := get(t, base+"/__hotserve/reload"); resp.status != 405 {
		t.Errorf("GET got %d, want 405", resp.status)
	}
	if s.Build() != build {
		t.Error("a refused trigger changed the build")
	}
}

func TestTriggerNeedsLoopback(t *testing.T) {
	s, err := New("", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	build := s.Build()
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/__hotserve/reload", nil)
	req.RemoteAddr = "192.0.2.7:5000"
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 403 || s.Build() != build {
		t.Errorf("a trigger from another machine got %d (build %d → %d), want 403 and no change", rec.Code, build, s.Build())
	}
}

func TestOnTrigger(t *testing.T) {
	for _, noReload := range []bool{false, true} {
		var calls [][]string
		s, err := New("", Options{NoReload: noReload, OnTrigger: func(paths []string) { calls = append(calls, paths) }})
		if err != nil {
			t.Fatal(err)
		}
		build := s.Build()
		want := map[bool]int{false: 204, true: 404}[noReload]
		for _, body := range []string{`{"paths": ["css/site.css"]}`, "", `["not", "this"]`} {
			req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/__hotserve/reload", strings.NewReader(body))
			req.RemoteAddr = "127.0.0.1:5000"
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if body != `["not", "this"]` && rec.Code != want {
				t.Errorf("NoReload %v: got %d, want %d", noReload, rec.Code, want)
			}
		}
		// A refused request (another machine) is not announced either.
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/__hotserve/reload", nil)
		req.RemoteAddr = "192.0.2.7:5000"
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		s.Close()
		if len(calls) != 2 || len(calls[0]) != 1 || calls[0][0] != "css/site.css" || len(calls[1]) != 0 {
			t.Errorf("NoReload %v: got calls %q, want one with css/site.css and one with no paths", noReload, calls)
		}
		if noReload && (s.Build() != build || rec.Code != 403) {
			t.Errorf("NoReload: the build went from %d to %d and another machine got %d, want no change and 403", build, s.Build(), rec.Code)
		}
	}
}
