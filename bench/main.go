// Command bench measures hotserve against a plain net/http FileServer on
// this machine and prints a Markdown table of medians for BENCHMARKS.md.
//
//	go run ./bench            # every row, 5 runs each
//	go run ./bench -rows serve,sse -runs 3
//
// It builds hotserve, generates its fixtures in a temporary folder, starts
// every server as its own process on 127.0.0.1, and interleaves the runs of
// hotserve and the FileServer so that both see the same machine. Load comes
// from wrk (apt-get install -y wrk); the browser rows drive Debian's Chromium
// (apt-get install -y chromium). Every loop here is bounded in count and
// time, and all traffic stays on 127.0.0.1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

func main() {
	// Child modes: the same binary serves as the FileServer baseline and
	// as an instrumented hotserve for the stream row.
	if len(os.Args) > 2 && os.Args[1] == "-plain" {
		servePlain(os.Args[2])
		return
	}
	if len(os.Args) > 2 && os.Args[1] == "-lib" {
		serveLib(os.Args[2])
		return
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: error: %v\n", err)
		if errors.Is(err, errNoWrk) || errors.Is(err, errNoChromium) {
			fmt.Fprintln(os.Stderr, "bench: hint: install the missing tool, then run go run ./bench again")
		}
		os.Exit(1)
	}
}

// row is one line of the table: every run's value, and the target.
type row struct {
	name   string
	target string
	unit   string
	ok     func(median float64) bool
	values []float64
	note   string
}

func (r *row) add(v float64) { r.values = append(r.values, v) }

func (r *row) median() float64 {
	if len(r.values) == 0 {
		return 0
	}
	v := slices.Clone(r.values)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (r *row) markdown() string {
	if len(r.values) == 0 {
		return fmt.Sprintf("| %s | %s | not measured | | %s |", r.name, r.target, r.note)
	}
	lo, hi := slices.Min(r.values), slices.Max(r.values)
	verdict := "met"
	if !r.ok(r.median()) {
		verdict = "**not met**"
	}
	return fmt.Sprintf("| %s | %s | %s | %s–%s (%d runs) | %s%s |", r.name, r.target,
		format(r.median(), r.unit), format(lo, r.unit), format(hi, r.unit), len(r.values), verdict, prefixed(r.note))
}

func prefixed(note string) string {
	if note == "" {
		return ""
	}
	return "; " + note
}

func format(v float64, unit string) string {
	switch unit {
	case "x":
		return fmt.Sprintf("%.2f×", v)
	case "ms":
		return fmt.Sprintf("%.1f ms", v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", v)
	}
	return fmt.Sprintf("%.0f%s", v, unit)
}

func atMost(limit float64) func(float64) bool  { return func(v float64) bool { return v <= limit } }
func atLeast(limit float64) func(float64) bool { return func(v float64) bool { return v >= limit } }
func between(lo, hi float64) func(float64) bool {
	return func(v float64) bool { return lo <= v && v <= hi }
}

func run() error {
	runs := flag.Int("runs", 5, "runs of each row")
	rows := flag.String("rows", "serve,sse,browser,streams,tree,idle", "rows to measure, comma-separated")
	loadTime := flag.Duration("load", 3*time.Second, "duration of each wrk run")
	flag.Parse()
	if *runs < 1 || *runs > 50 {
		return fmt.Errorf("-runs %d: use 1 to 50", *runs)
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run it from the repository root: go run ./bench")
	}
	if err := raiseFileLimit(); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "hotserve-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	ctx := context.Background()
	bin, err := buildHotserve(ctx, work)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	want := map[string]bool{}
	for r := range strings.SplitSeq(*rows, ",") {
		want[strings.TrimSpace(r)] = true
	}
	var table []*row
	steps := []struct {
		name string
		fn   func() ([]*row, error)
	}{
		{"serve", func() ([]*row, error) { return serveRows(bin, self, work, *runs, *loadTime) }},
		{"sse", func() ([]*row, error) { return sseRows(bin, work, *runs) }},
		{"browser", func() ([]*row, error) { return browserRows(bin, work, *runs) }},
		{"streams", func() ([]*row, error) { return streamRows(self, work, *runs) }},
		{"tree", func() ([]*row, error) { return treeRows(bin, work, *runs) }},
		{"idle", func() ([]*row, error) { return idleRows(bin, work, *runs) }},
	}
	for _, s := range steps {
		if !want[s.name] {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s…\n", s.name)
		rs, err := s.fn()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		table = append(table, rs...)
	}

	host, _ := os.Hostname()
	fmt.Printf("Measured %s on %s (%d runs per row).\n\n", time.Now().UTC().Format("2006-01-02"), host, *runs)
	fmt.Println("| measure | target | median | min–max | verdict |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range table {
		fmt.Println(r.markdown())
	}
	return nil
}
