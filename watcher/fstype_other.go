//go:build !linux

package watcher

import "errors"

// fsType is only known on Linux; elsewhere every folder is watched
// natively unless Config.Poll says otherwise.
var fsType = func(string) (int64, error) { return 0, errors.ErrUnsupported }

var unwatchable = map[int64]string{}

// limitHint says which limit a refused watch ran into and how to raise it.
func limitHint(enospc bool) string {
	if enospc {
		return "the system's file-watch limit is reached"
	}
	return "raise the open-file limit, e.g. \"ulimit -n 65536\""
}
