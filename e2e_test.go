package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// skipSlow skips a test of the slow tier (Chromium, the built binary, the
// release) under go test -short, the fast tier of the edit–test loop; why
// says what makes it slow. go test ./... still runs everything.
func skipSlow(t *testing.T, why string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: this test %s", why)
	}
}

// browser starts headless Chromium for the test and returns a tab context.
// Outside CI a machine without Chromium skips the test; in CI it must run.
func browser(t *testing.T) context.Context {
	t.Helper()
	return browserWith(t)
}

// browserWith is browser with more Chromium options.
func browserWith(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	skipSlow(t, "drives headless Chromium")
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but Chromium is missing: %v (.ci/run installs it with apt-get install -y chromium)", err)
		}
		t.Skip("Chromium is not installed: apt-get install -y chromium (this test runs in CI)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

func TestBrowserReloadsOnChange(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("example")); err != nil {
		t.Fatal(err)
	}
	in := startInProcess(t, dir)

	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(in.url+"/"), chromedp.WaitVisible(chromedp.ID("title"))); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(tctx, chromedp.Text(chromedp.ID("title")))
	if err != nil {
		t.Fatal(err)
	}
	if title != "Hello from hotserve" {
		t.Fatalf("got title %q", title)
	}
	// A reload drops this; an update in place would keep it.
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`window.notReloaded = true`)); err != nil {
		t.Fatal(err)
	}

	index := filepath.Join(dir, "index.html")
	b, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	write(t, index, strings.Replace(string(b), "Hello from hotserve", "Changed on disk", 1))

	// No race with the page's connection: a stream that opens after the
	// change still starts with the new build, and the page reloads then.
	waitJS(t, tctx, `document.getElementById("title")?.textContent === "Changed on disk"`)
	kept, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`window.notReloaded === true`))
	if err != nil {
		t.Fatal(err)
	}
	if kept {
		t.Error("the page changed without a reload")
	}
}

// waitJS evaluates expr in the tab until it is true, failing after 20 s. A
// reload in between interrupts an evaluation; that is expected, so errors
// only count if the condition never holds.
func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not hold within 20s (last error: %v)", expr, last)
}
