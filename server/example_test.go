package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"

	"github.com/hotserve/hotserve/server"
)

// A Go program adds live reload to its own handler: Wrap injects the
// script into its pages and serves /__hotserve/ itself.
func ExampleServer_Wrap() {
	srv, err := server.New("", server.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><head><title>app</title></head><body>hi</body></html>")
	})
	ts := httptest.NewServer(srv.Wrap(app))
	defer ts.Close()

	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	// The build is a time, so the example hides it.
	fmt.Println(regexp.MustCompile(`data-build="\d+"`).ReplaceAllString(string(page), `data-build="…"`))
	fmt.Println(resp.Header.Get("Cache-Control"))
	// Output:
	// <!doctype html><html><head><script src="/__hotserve/client.js" data-build="…" async></script><title>app</title></head><body>hi</body></html>
	// no-store
}

// After a template changes, Reload with no paths makes every open page
// reload; with paths, pages swap changed stylesheets and images in place.
func ExampleServer_Reload() {
	srv, err := server.New("", server.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	before := srv.Build()
	srv.Reload("css/site.css")
	fmt.Println(srv.Build() > before)
	srv.Reload()
	fmt.Println(srv.Build() > before+1)
	// Output:
	// true
	// true
}

// A program that serves its pages with its own mux mounts the endpoints
// under server.Prefix and injects into the rest.
func ExampleServer_ServeHTTP() {
	srv, err := server.New("", server.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	mux := http.NewServeMux()
	mux.Handle(server.Prefix, srv)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/__hotserve/client.js")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, strings.Split(resp.Header.Get("Content-Type"), ";")[0])
	// Output:
	// 200 text/javascript
}
