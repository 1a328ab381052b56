package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestBuildOf(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		bi      *debug.BuildInfo
		stamped [3]string
		want    string
	}{
		{
			name:    "values stamped by GoReleaser win over build information",
			bi:      &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "aaaa", "vcs.time", "2026-01-01T00:00:00Z")},
			stamped: [3]string{"1.2.3", "bbbb", "2026-02-02T00:00:00Z"},
			want:    "1.2.3 (commit bbbb, built 2026-02-02T00:00:00Z)",
		},
		{
			name:    "a snapshot GoReleaser could not give a commit falls back to build information",
			bi:      &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "aaaa")},
			stamped: [3]string{"0.0.1-next", "none", "2026-02-02T00:00:00Z"},
			want:    "0.0.1-next (commit aaaa, built 2026-02-02T00:00:00Z)",
		},
		{
			name: "a build from a checkout names the revision and its time",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v1.0.1-0.20260101000000-0123456789ab"}, Settings: vcs("vcs.revision", "0123456789abcdef", "vcs.time", "2026-01-01T00:00:00Z", "vcs.modified", "false")},
			want: "v1.0.1-0.20260101000000-0123456789ab (commit 0123456789abcdef, built 2026-01-01T00:00:00Z)",
		},
		{
			name: "a build from a checkout with uncommitted changes says so",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "abc", "vcs.time", "2026-01-01T00:00:00Z", "vcs.modified", "true")},
			want: "(devel) (commit abc (modified), built 2026-01-01T00:00:00Z)",
		},
		{
			name: "go install of a tag gives the tag and no commit",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}},
			want: "v0.3.0 (commit unknown, built unknown)",
		},
		{
			name: "go install of an untagged commit reads the commit and time from the pseudo-version",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260102030405-abcdef123456"}},
			want: "v0.0.0-20260102030405-abcdef123456 (commit abcdef123456, built 2026-01-02T03:04:05Z)",
		},
		{
			name: "no information at all says so instead of inventing a version",
			want: "(devel) (commit unknown, built unknown)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := buildOf(tc.bi, tc.stamped[0], tc.stamped[1], tc.stamped[2]).String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// goBuild builds hotserve into a temporary folder with extra go build
// arguments and returns its --version output.
func goBuild(t *testing.T, dir string, args ...string) string {
	t.Helper()
	skipSlow(t, "builds hotserve")
	bin := filepath.Join(t.TempDir(), "hotserve")
	build := exec.Command("go", append(append([]string{"build", "-o", bin}, args...), ".")...)
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, out)
	}
	return versionOf(t, bin)
}

// checkout makes a clone of this repository at HEAD with the working
// tree's files copied over it. The go command does not find the repository
// of a linked git worktree (golang/go#58218), so building in a clone is
// what a user's checkout looks like to it.
func checkout(t *testing.T) string {
	t.Helper()
	skipSlow(t, "clones the repository")
	dir := filepath.Join(t.TempDir(), "hotserve")
	if out, err := exec.Command("git", "clone", "--quiet", "--shared", ".", dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	for _, name := range publishedFiles(t) {
		b, err := os.ReadFile(name)
		if os.IsNotExist(err) {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, name), string(b))
	}
	return dir
}

// publishedFiles lists the files git would publish: tracked, or new and not
// ignored.
func publishedFiles(t *testing.T) []string {
	t.Helper()
	list, err := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(list), "\x00"), "\x00")
}

func versionOf(t *testing.T, bin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	if !strings.HasPrefix(string(out), "hotserve version ") {
		t.Fatalf("%s --version: got %q", bin, out)
	}
	return string(out)
}

// head is the commit checked out, and its committer time.
func head(t *testing.T) (string, time.Time) {
	t.Helper()
	out, err := exec.Command("git", "log", "-1", "--format=%H %cI").Output()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but git log failed (%v): the commit cannot be checked", err)
		}
		t.Skipf("not a git checkout (%v): the commit cannot be checked", err)
	}
	hash, when, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	tm, err := time.Parse(time.RFC3339, when)
	if err != nil {
		t.Fatal(err)
	}
	return hash, tm.UTC()
}

func TestVersion(t *testing.T) {
	t.Run("a go build from a checkout names the commit of HEAD", func(t *testing.T) {
		hash, when := head(t)
		// The environment may set GOFLAGS=-buildvcs=false; a flag on the
		// command line wins over GOFLAGS.
		out := goBuild(t, checkout(t), "-buildvcs=auto")
		if !strings.Contains(out, "commit "+hash) {
			t.Errorf("got %q, want the commit of HEAD, %s", out, hash)
		}
		if !strings.Contains(out, "built "+when.Format(time.RFC3339)) {
			t.Errorf("got %q, want HEAD's time %s", out, when.Format(time.RFC3339))
		}
	})
	t.Run("a release build prints the values GoReleaser stamps", func(t *testing.T) {
		out := goBuild(t, ".", "-ldflags", "-s -w -X main.version=9.8.7 -X main.commit=feedface -X main.date=2031-04-05T06:07:08Z")
		if want := "hotserve version 9.8.7 (commit feedface, built 2031-04-05T06:07:08Z)\n"; out != want {
			t.Errorf("got %q, want %q", out, want)
		}
	})
}

// TestGoInstallLatest runs "go install github.com/hotserve/hotserve@latest"
// against a module proxy in a temporary folder that serves this checkout as
// a pseudo-version of HEAD. go install refuses modules with replace
// directives or without a main package at the module path, so this is the
// command users run, checked offline. Dependencies come from the local
// module cache, which is laid out as a proxy too.
func TestGoInstallLatest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hotserve from a module zip")
	}
	hash, when := head(t)
	const module = "github.com/hotserve/hotserve"
	ver := fmt.Sprintf("v0.0.0-%s-%s", when.Format("20060102150405"), hash[:12])

	tmp := t.TempDir()
	at := filepath.Join(tmp, "proxy", module, "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]string{"Version": ver, "Time": when.Format(time.RFC3339)})
	for name, content := range map[string][]byte{"list": []byte(ver + "\n"), ver + ".info": info, ver + ".mod": gomod} {
		if err := os.WriteFile(filepath.Join(at, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeModuleZip(t, filepath.Join(at, ver+".zip"), module+"@"+ver)

	cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	install := exec.Command("go", "install", module+"@latest")
	install.Dir = tmp
	install.Env = append(os.Environ(),
		"GOBIN="+filepath.Join(tmp, "bin"),
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOPROXY=file://"+filepath.ToSlash(filepath.Join(tmp, "proxy"))+",file://"+filepath.ToSlash(filepath.Join(strings.TrimSpace(string(cache)), "cache", "download")),
		"GOSUMDB=off",
		"GOFLAGS=-modcacherw",
		"GOTOOLCHAIN=local",
	)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install %s@latest: %v\n%s", module, err, out)
	}
	out := versionOf(t, filepath.Join(tmp, "bin", "hotserve"))
	want := fmt.Sprintf("hotserve version %s (commit %s, built %s)\n", ver, hash[:12], when.Format(time.RFC3339))
	if out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

// writeModuleZip zips the files git would publish under prefix, the layout
// of a module zip.
func writeModuleZip(t *testing.T, path, prefix string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, name := range publishedFiles(t) {
		b, err := os.ReadFile(name)
		if os.IsNotExist(err) {
			continue // deleted but not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(prefix + "/" + filepath.ToSlash(name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}
