package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hotserve/hotserve/internal/testio"
)

// These tests read what README.md tells a newcomer and check it against
// what hotserve does, so that the text cannot drift from the behaviour:
// editing a quoted passage without the behaviour (or the behaviour without
// the passage) fails them.

// readmeText is README.md with its line breaks inside paragraphs kept.
func readmeText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeSays fails the test unless README.md says claim, compared with
// runs of white space (line breaks included) taken as one space.
func readmeSays(t *testing.T, claim string) {
	t.Helper()
	flat := strings.Join(strings.Fields(readmeText(t)), " ")
	if !strings.Contains(flat, claim) {
		t.Fatalf("README.md no longer says %q; change this test along with the text, so that it checks what the text now says", claim)
	}
}

// bannerBlock matches the banner README.md shows: the command, then what
// it prints, up to the end of the code block.
var bannerBlock = regexp.MustCompile("(?s)When it starts, hotserve prints a banner:\n\n```\n\\$ (hotserve [^\n]*)\n(.*?)```\n\n\\(that is a build from a clone; a release shows its tag, such as `(v[0-9.]+)`\\)")

// bannerVersion is the version in the banner's first line.
var bannerVersion = regexp.MustCompile(`(?m)^  hotserve (\S+)  serving `)

func TestReadmeBannerIsWhatItPrints(t *testing.T) {
	m := bannerBlock.FindStringSubmatch(readmeText(t))
	if m == nil {
		t.Fatal("README.md has no banner block after \"When it starts, hotserve prints a banner:\" (with the sentence about a build from a clone after it)")
	}
	command, want, release := strings.Fields(m[1]), m[2], m[3]
	v := bannerVersion.FindStringSubmatch(want)
	if v == nil {
		t.Fatalf("README.md's banner has no \"  hotserve VERSION  serving DIR\" line:\n%s", want)
	}
	// The version shown is what a build from a clone reports (a Go
	// pseudo-version), and a release's is its tag.
	clone := buildOf(&debug.BuildInfo{Main: debug.Module{Version: v[1]}}, "", "", "")
	if !strings.HasPrefix(v[1], "v0.0.0-") || !pseudoVersion.MatchString(v[1]) || clone.version != v[1] || clone.commit == "" {
		t.Errorf("README.md's banner shows version %q, which is not what a build from a clone reports (got %+v)", v[1], clone)
	}
	if got := buildOf(nil, release, "abc", "").version; got != release {
		t.Errorf("a release stamped %s shows %q", release, got)
	}

	// The command README shows, run from a folder that holds ./site.
	parent := t.TempDir()
	write(t, filepath.Join(parent, "site", "index.html"), "<!doctype html><title>site</title>")
	p := startBinaryIn(t, parent, command[1:]...)
	for deadline := time.Now().Add(10 * time.Second); strings.Count(p.stdout.String(), "\n") < strings.Count(want, "\n"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("hotserve printed less than README.md's banner within 10s: %q", p.stdout.String())
		}
	}
	got := p.stdout.String()
	// What may differ: the version (the tests' build is not README's), and
	// the port if 8080 is busy, which hotserve then says.
	if g := bannerVersion.FindStringSubmatch(got); g != nil {
		want = strings.Replace(want, "hotserve "+v[1]+"  ", "hotserve "+g[1]+"  ", 1)
	}
	if moved := regexp.MustCompile(`port 8080 is in use; using (\d+) instead`).FindStringSubmatch(p.stderr.String()); moved != nil {
		want = strings.ReplaceAll(want, ":8080/", ":"+moved[1]+"/")
	}
	if got != want {
		t.Errorf("README.md says %s prints\n%s\nbut it prints\n%s", m[1], quoteLines(want), quoteLines(got))
	}
}

// quoteLines shows text one quoted line at a time, spaces and blank lines
// visible.
func quoteLines(text string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(text, "\n") {
		fmt.Fprintf(&b, "\t%q\n", line)
	}
	return b.String()
}

// hideTab makes tab hidden as a tab in the background is: Chromium
// freezes it and then lets it run again, hidden (document.visibilityState
// "hidden", after a visibilitychange event), its scripts and workers
// running.
func hideTab(t *testing.T, tab context.Context) {
	t.Helper()
	for _, state := range []page.SetWebLifecycleStateState{page.SetWebLifecycleStateStateFrozen, page.SetWebLifecycleStateStateActive} {
		if err := chromedp.Do(tab, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, page.SetWebLifecycleState, page.SetWebLifecycleStateParams{State: state})
			return chromedp.Void{}, err
		}); err != nil {
			t.Fatal(err)
		}
	}
	waitJS(t, tab, `document.visibilityState === "hidden"`)
}

func TestReadmeHiddenTabs(t *testing.T) {
	b := browser(t)
	const hidden = `document.visibilityState === "hidden"`

	t.Run("a tab with a stream of its own keeps it in the background and lets go when it leaves the page", func(t *testing.T) {
		readmeSays(t, "Where both are missing, each tab holds its own stream for as long as it shows the page, in the background too")
		readmeSays(t, "A tab lets go of its stream, or of the leadership, only when it leaves the page (`pagehide`: another page loaded in the tab")
		dir := site(t)
		in := startInProcess(t, dir)
		tab := openTab(t, b, in.url+"/", withoutWebLocks)
		if mode := eval[string](t, tab, `__hotserve.mode`); mode != "direct" {
			t.Fatalf("got mode %q, want direct", mode)
		}
		mark(t, tab)
		hideTab(t, tab)
		restyle(t, dir, 1)
		waitJS(t, tab, restyled(1)+` && `+hidden)
		waitLog(t, in, "changed: css/site.css (1 browser connected)")
		kept(t, tab, "a hidden tab took a stylesheet change")

		// Another page loaded in the tab: the stream is let go.
		eval[bool](t, tab, `location.href = "about:blank", true`)
		waitJS(t, tab, `location.href === "about:blank" && document.readyState === "complete"`)
		// hotserve counts the stream gone once the closed connection
		// reaches it: change the stylesheet until a batch counts none.
		for i := 2; !strings.Contains(in.stderr.String(), "changed: css/site.css (0 browsers connected)"); i++ {
			if i > 50 {
				t.Fatalf("the stream was not let go after %d changes: %q", i-2, in.stderr.String())
			}
			restyle(t, dir, i)
			waitLog(t, in, "changed: css/site.css", i)
		}
	})

	t.Run("a hidden leader keeps the leadership and relays, and hands it on when it leaves the page", func(t *testing.T) {
		dir := site(t)
		in := startInProcess(t, dir)
		lead := openTab(t, b, in.url+"/", withoutSharedWorker)
		waitJS(t, lead, `__hotserve.mode === "leader"`)
		other := openTab(t, b, in.url+"/about.html", withoutSharedWorker)
		if mode := eval[string](t, other, `__hotserve.mode`); mode != "follower" {
			t.Fatalf("the second tab's mode is %q, want follower", mode)
		}
		mark(t, lead, other)
		hideTab(t, lead)
		restyle(t, dir, 1)
		waitJS(t, other, restyled(1))
		waitJS(t, lead, restyled(1)+` && `+hidden+` && __hotserve.mode === "leader"`)
		waitLog(t, in, "changed: css/site.css (1 browser connected)")
		kept(t, lead, "the hidden leader took a stylesheet change")
		kept(t, other, "the follower took a stylesheet change")

		eval[bool](t, lead, `location.href = "about:blank", true`)
		waitJS(t, other, `__hotserve.mode === "leader"`)
		restyle(t, dir, 2)
		waitJS(t, other, restyled(2))
		kept(t, other, "the new leader took a stylesheet change")
	})
}

// codeBlocks are the fenced code blocks of README.md.
var codeBlocks = regexp.MustCompile("(?s)```[a-z]*\n(.*?)```")

func TestReadmeQuotesRealLines(t *testing.T) {
	printed := hotserveLines(t)
	n := 0
	for _, block := range codeBlocks.FindAllStringSubmatch(readmeText(t), -1) {
		for line := range strings.SplitSeq(block[1], "\n") {
			if !strings.HasPrefix(line, "hotserve: ") {
				continue
			}
			n++
			if !slices.ContainsFunc(printed, func(p testio.Printed) bool { return p.Line("hotserve: ").MatchString(line) }) {
				t.Errorf("README.md quotes %q, which is no line hotserve's code prints", line)
			}
		}
	}
	if n == 0 {
		t.Error("README.md quotes no line that hotserve prints; the test looks for lines starting \"hotserve: \" in code blocks")
	}
}

// errorsBlock is README.md's example of errors: commands, each followed by
// what it prints on stderr.
var errorsBlock = regexp.MustCompile("(?s)Errors are printed as `hotserve: error: …` followed by `hotserve: hint: …`\nnaming the fix, and hotserve exits with status 1:\n\n```\n(.*?)```")

func TestReadmeErrorsAreWhatItPrints(t *testing.T) {
	m := errorsBlock.FindStringSubmatch(readmeText(t))
	if m == nil {
		t.Fatal("README.md has no example of errors after \"Errors are printed as\"")
	}
	runs := strings.Split(strings.TrimPrefix(m[1], "$ "), "\n$ ")
	if len(runs) < 2 {
		t.Fatalf("README.md's example of errors has %d commands, want at least 2:\n%s", len(runs), m[1])
	}
	wd := t.TempDir()
	write(t, filepath.Join(wd, "site", "index.html"), "<!doctype html><title>site</title>")
	for _, run := range runs {
		command, want, _ := strings.Cut(run, "\n")
		t.Run(command, func(t *testing.T) {
			args := strings.Fields(command)
			if args[0] != "hotserve" {
				t.Fatalf("README.md's example runs %q, not hotserve", command)
			}
			cmd := hotserveCmd(t, args[1:]...)
			cmd.Dir = wd
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("got %v, want exit status 1", err)
			}
			// /home/me/project is README's name for the folder it runs in.
			want = strings.ReplaceAll(strings.TrimSuffix(want, "\n")+"\n", "/home/me/project", wd)
			if stderr.String() != want || stdout.Len() != 0 {
				t.Errorf("README.md says %s prints\n%s\nbut it prints\n%s\nand on stdout %q", command, quoteLines(want), quoteLines(stderr.String()), stdout.String())
			}
		})
	}
}

// linkBlock is README.md's example of the warning about a symbolic link
// that leads out of DIR.
var linkBlock = regexp.MustCompile("(?s)\\*\\*A symbolic link answers 404\\.\\*\\*.*?```\n(hotserve: warning: [^\n]*)\n```")

func TestReadmeSymlinkWarningIsWhatItPrints(t *testing.T) {
	m := linkBlock.FindStringSubmatch(readmeText(t))
	if m == nil {
		t.Fatal("README.md has no example of the warning after \"A symbolic link answers 404.\"")
	}
	// What the example is about: site/shared is a link to lib, beside
	// site, and hotserve serves site.
	wd := t.TempDir()
	write(t, filepath.Join(wd, "site", "index.html"), "<!doctype html><title>site</title>")
	write(t, filepath.Join(wd, "lib", "a.js"), "a")
	if err := os.Symlink("../lib", filepath.Join(wd, "site", "shared")); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	p := startBinaryIn(t, wd, "--port", "0", "site")
	if status := get(t, p.url+"shared/a.js"); status != http.StatusNotFound {
		t.Errorf("a file through the link: got %d, want 404", status)
	}
	waitForMatch(t, p.stderr, regexp.MustCompile(`(?m)^hotserve: warning: .*leads out of`))
	if got := strings.TrimSpace(p.stderr.String()); got != m[1] {
		t.Errorf("README.md says hotserve prints\n\t%q\nbut it prints\n%s", m[1], quoteLines(got))
	}
}

// versionBlock is README.md's example of --version for a build from a
// clone, and what it says of other builds.
var versionBlock = regexp.MustCompile("(?s)```\n\\$ hotserve --version\n(hotserve version ([^ ]+) \\(commit ([0-9a-f]{40}), built ([^)]+)\\))\n```\n\nBuilt from a clone with uncommitted changes, the version ends in `\\+dirty`\nand the commit in `\\(modified\\)`\\. .*? print\n`([^`]+)`")

func TestReadmeVersionIsWhatItPrints(t *testing.T) {
	m := versionBlock.FindStringSubmatch(readmeText(t))
	if m == nil {
		t.Fatal("README.md has no example of \"hotserve --version\" followed by what other builds print")
	}
	line, ver, rev, built, devel := m[1], m[2], m[3], m[4], m[5]
	// What the go command records for go install . in a clone.
	clone := func(version string, modified bool) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/hotserve/hotserve", Version: version}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: built}, {Key: "vcs.modified", Value: fmt.Sprint(modified)},
		}}
	}
	if got := "hotserve version " + buildOf(clone(ver, false), "", "", "").String(); got != line {
		t.Errorf("README.md says a build from a clone prints\n\t%q\nbut it prints\n\t%q", line, got)
	}
	dirty := buildOf(clone(ver+"+dirty", true), "", "", "")
	if !strings.HasSuffix(dirty.version, "+dirty") || !strings.Contains(dirty.String(), "(commit "+rev+" (modified),") {
		t.Errorf("a build with uncommitted changes prints %q, want the version ending in +dirty and the commit in (modified)", dirty.String())
	}
	if got := buildOf(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "", "", "").String(); got != devel {
		t.Errorf("README.md says a build without VCS data prints %q, but it prints %q", devel, got)
	}
	// The tests' own build is one of the kinds README describes.
	code, out, _ := runBinary(t, 10*time.Second, "--version")
	kind := regexp.MustCompile(`^hotserve version (` + regexp.QuoteMeta(devel) + `|v\d+\.\d+\.\d+\S* \(commit [0-9a-f]{40}( \(modified\))?, built \S+\))\n$`)
	if code != 0 || !kind.MatchString(out) {
		t.Errorf("hotserve --version: got %d %q, want one of the forms README.md describes", code, out)
	}
}
