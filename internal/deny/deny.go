// Package deny holds the one rule for which paths in a served folder are
// never served, listed or announced: the server refuses them and the
// watcher does not tell browsers about them, so both must agree.
package deny

import (
	"io/fs"
	"runtime"
	"strings"
)

// Irregular reports whether a file of type m is never served, whatever its
// name: a named pipe, socket or device is not a page, and opening a pipe
// could wait forever.
func Irregular(m fs.FileMode) bool {
	return m&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeIrregular) != 0
}

// secretSuffixes are the extensions of key and certificate files, which are
// never served.
var secretSuffixes = []string{".pem", ".crt", ".key", ".p12", ".pfx", ".cer", ".der"}

// Name reports whether a cleaned, slash-separated name must never be served
// or listed. A segment may not start with a dot, except .well-known: dotfiles
// and dot-folders are where secrets live (.env, .git, .npmrc, .yarnrc.yml,
// .aws), and where editors put the temporary files of a save. Keys and
// certificates are denied by extension. The comparison ignores case, since
// macOS and Windows file systems do.
func Name(name string) bool {
	if strings.IndexByte(name, 0) >= 0 {
		return true
	}
	for seg := range strings.SplitSeq(name, "/") {
		if Segment(seg, runtime.GOOS == "windows") {
			return true
		}
	}
	return false
}

// Segment reports whether one path segment is denied; windows adds the
// names by which Windows reaches a file under another name than the one
// checked.
func Segment(seg string, windows bool) bool {
	if seg == "." || seg == "" {
		return false
	}
	lower := strings.ToLower(seg)
	if strings.HasPrefix(lower, ".") && lower != ".well-known" {
		return true
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	if windows {
		// NTFS alternate data streams (".env::$DATA"), 8.3 short names
		// ("SECRET~1.PEM") and the trailing dots and spaces Windows strips
		// all reach a file under another name than the one checked.
		if strings.ContainsAny(seg, `:\`) || strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " ") {
			return true
		}
		if i := strings.IndexByte(seg, '~'); i >= 0 && i+1 < len(seg) && seg[i+1] >= '0' && seg[i+1] <= '9' {
			return true
		}
	}
	return false
}
