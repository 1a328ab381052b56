package watcher

import (
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// ignoredDirs are version-control and dependency folders. They are large,
// change often for reasons that never affect a page, and would use up the
// kernel's watch limit.
var ignoredDirs = map[string]bool{
	".git":         true,
	".hg":          true,
	".svn":         true,
	"node_modules": true,
}

// tempName reports whether name is one of the temporary or backup files that
// editors write next to the file being saved: vim swap files, its 4913 probe
// and ~ backups, emacs lock and autosave files, JetBrains safe-write files and
// generic .tmp files. Saves with other temporary names are caught by the
// transient-path rule instead.
func tempName(name string) bool {
	switch {
	case name == "4913",
		strings.HasSuffix(name, ".swp"),
		strings.HasSuffix(name, ".swx"),
		strings.HasSuffix(name, "~"),
		strings.HasPrefix(name, ".#"),
		len(name) >= 2 && strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"),
		strings.HasSuffix(name, "___jb_tmp___"),
		strings.HasSuffix(name, "___jb_old___"),
		strings.HasSuffix(name, ".tmp"):
		return true
	}
	return false
}

// ignored reports whether the slash path rel, relative to the watched
// folder, is ignored. Every leading part of rel is checked as well as rel
// itself, because anything below an ignored directory is ignored too: that
// keeps stray events and later walks consistent with the initial walk, which
// never enters such a directory.
//
// A glob is matched against the path and, if it has no slash, against the
// base name. A glob with a slash is anchored at the folder, as in
// .gitignore: otherwise "build/**" would also ignore src/build, because
// "**" matches nothing and "build/**" matches the base name "build". The
// globs must be valid.
func ignored(rel string, globs []string) bool {
	if rel == "." || rel == "" {
		return false
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return true // outside the folder; fsnotify should never report it
	}
	end := 0
	for end < len(rel) {
		next := strings.IndexByte(rel[end:], '/')
		if next < 0 {
			next = len(rel)
		} else {
			next += end
		}
		prefix, name := rel[:next], rel[end:next]
		if ignoredDirs[name] || tempName(name) {
			return true
		}
		for _, g := range globs {
			if doublestar.MatchUnvalidated(g, prefix) ||
				!strings.Contains(g, "/") && doublestar.MatchUnvalidated(g, name) {
				return true
			}
		}
		end = next + 1
	}
	return false
}
