package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// servePlain is the baseline: net/http's FileServer on dir, nothing else.
func servePlain(dir string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("http://%s/\n", ln.Addr())
	http.Serve(ln, http.FileServer(http.Dir(dir)))
}

// writeSite writes the serving fixtures: a 2 KB page, a 2 KB stylesheet, a
// 1 MB page (read whole before it is sent) and a 4 MB page (streamed).
func writeSite(dir string) error {
	// page returns an HTML page of exactly size bytes.
	page := func(size int) string {
		var b strings.Builder
		b.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>bench</title>\n<link rel=\"stylesheet\" href=\"site.css\">\n</head>\n<body>\n")
		const para = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n"
		const end = "</body></html>\n"
		for b.Len()+len(para)+len(end) <= size {
			b.WriteString(para)
		}
		b.WriteString(strings.Repeat(" ", size-b.Len()-len(end)))
		b.WriteString(end)
		return b.String()
	}
	files := map[string]string{
		"index.html": page(2 << 10),
		"big.html":   page(1_000_000),
		"huge.html":  page(4_000_000),
		"site.css":   strings.Repeat("p { color: #333; margin: 0 0 1em; }\n", 2048/37),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// serveRows loads the same files from hotserve and from the FileServer,
// alternating which goes first in each run.
func serveRows(bin, self, work string, runs int, d time.Duration) ([]*row, error) {
	dir := filepath.Join(work, "serve")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeSite(dir); err != nil {
		return nil, err
	}
	hot, err := startProc(bin, "--quiet", "--port", "0", dir)
	if err != nil {
		return nil, err
	}
	defer hot.stop()
	plain, err := startProc(self, "-plain", dir)
	if err != nil {
		return nil, err
	}
	defer plain.stop()
	// A second FileServer, the same code as the first: how far apart two
	// identical servers land on this machine today. A serving ratio within
	// that spread is the machine's, not hotserve's.
	twin, err := startProc(self, "-plain", dir)
	if err != nil {
		return nil, err
	}
	defer twin.stop()

	type target struct {
		path       string
		rps, p99   *row
		rpsAtLeast float64
		control    *row // FileServer ÷ its twin on the same path; nil for none
	}
	targets := []target{
		// "/", not "/index.html": the FileServer answers that with a
		// redirect to "./", which would flatter it.
		{"/", &row{name: "req/s, injected 2 KB index.html ÷ FileServer", target: "≥ 0.90", unit: "x", ok: atLeast(0.90)},
			&row{name: "p99 latency, 2 KB index.html ÷ FileServer", target: "≤ 1.2", unit: "x", ok: atMost(1.2)}, 0.90, nil},
		{"/site.css", &row{name: "req/s, 2 KB CSS ÷ FileServer", target: "≥ 0.95", unit: "x", ok: atLeast(0.95)},
			&row{name: "p99 latency, 2 KB CSS ÷ FileServer", target: "≤ 1.2", unit: "x", ok: atMost(1.2)}, 0.95, nil},
		{"/big.html", &row{name: "req/s, injected 1 MB page ÷ FileServer", target: "≥ 0.90", unit: "x", ok: atLeast(0.90)},
			&row{name: "p99 latency, 1 MB page ÷ FileServer", target: "≤ 1.2", unit: "x", ok: atMost(1.2)}, 0.90,
			&row{name: "control: req/s, 1 MB page, FileServer ÷ a second FileServer", target: "0.95–1.05", unit: "x", ok: between(0.95, 1.05),
				note: "the same server twice, so its distance from 1.00× is the machine's alone"}},
		{"/huge.html", &row{name: "req/s, injected 4 MB page ÷ FileServer (extra)", target: "≥ 0.90", unit: "x", ok: atLeast(0.90)},
			&row{name: "p99 latency, 4 MB page ÷ FileServer (extra)", target: "≤ 1.2", unit: "x", ok: atMost(1.2)}, 0.90, nil},
	}
	for i := range runs {
		for _, t := range targets {
			order := []*proc{plain, hot}
			if t.control != nil {
				// Each of the three goes first, second and third in turn.
				order = []*proc{plain, hot, twin}
				order = append(order[i%3:], order[:i%3]...)
			} else if i%2 == 1 {
				order = []*proc{hot, plain}
			}
			got := map[*proc]loadResult{}
			for _, p := range order {
				r, err := wrk(p.url+t.path, d)
				if err != nil {
					return nil, err
				}
				got[p] = r
			}
			t.rps.add(got[hot].rps / got[plain].rps)
			t.p99.add(float64(got[hot].p99) / float64(got[plain].p99))
			if t.control != nil {
				t.control.add(got[plain].rps / got[twin].rps)
			}
		}
	}
	var rows []*row
	for _, t := range targets {
		rows = append(rows, t.rps, t.p99)
		if t.control != nil {
			rows = append(rows, t.control)
		}
	}
	return rows, nil
}
