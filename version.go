package main

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"time"
)

// Release builds set these with GoReleaser's
// -ldflags "-X main.version=… -X main.commit=… -X main.date=…". A build by
// go install or go build leaves them empty, and buildOf fills them from the
// build information the go command records instead, so no version string is
// ever written by hand.
var (
	version = ""
	commit  = ""
	date    = ""
)

// build names the binary that is running.
type build struct {
	version  string
	commit   string // empty when unknown
	date     string // empty when unknown
	modified bool   // built from a checkout with uncommitted changes
}

// pseudoVersion matches the tail of a Go pseudo-version such as
// v0.0.0-20260102030405-abcdef123456, which is what go install gets for a
// module with no release tag; the commit and its time are in it.
var pseudoVersion = regexp.MustCompile(`(\d{14})-([0-9a-f]{12})(\+incompatible)?$`)

// buildOf combines the values stamped by the linker with the build
// information of bi (which may be nil). Stamped values win: GoReleaser knows
// the tag, which the go command does not when it builds from a checkout.
func buildOf(bi *debug.BuildInfo, stampedVersion, stampedCommit, stampedDate string) build {
	// GoReleaser stamps "none" when it cannot read the commit (a snapshot
	// of a checkout without a remote); the build information may know it.
	if stampedCommit == "none" {
		stampedCommit = ""
	}
	b := build{version: stampedVersion, commit: stampedCommit, date: stampedDate}
	if bi != nil {
		if b.version == "" && bi.Main.Version != "" {
			b.version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.commit == "" {
					b.commit = s.Value
				}
			case "vcs.time":
				if b.date == "" {
					b.date = s.Value
				}
			case "vcs.modified":
				b.modified = s.Value == "true"
			}
		}
		// go install module@version downloads a module zip, which has no
		// VCS data; a pseudo-version still names the commit and its time.
		if m := pseudoVersion.FindStringSubmatch(bi.Main.Version); m != nil && stampedVersion == "" {
			if b.commit == "" {
				b.commit = m[2]
			}
			if t, err := time.Parse("20060102150405", m[1]); err == nil && b.date == "" {
				b.date = t.UTC().Format(time.RFC3339)
			}
		}
	}
	if b.version == "" {
		b.version = "(devel)"
	}
	return b
}

// currentBuild describes the running binary.
func currentBuild() build {
	bi, _ := debug.ReadBuildInfo()
	return buildOf(bi, version, commit, date)
}

// String is what --version prints after "hotserve version ".
func (b build) String() string {
	c, d := b.commit, b.date
	if c == "" {
		c = "unknown"
	}
	if b.modified {
		c += " (modified)"
	}
	if d == "" {
		d = "unknown"
	}
	return fmt.Sprintf("%s (commit %s, built %s)", b.version, c, d)
}
