//go:build !unix

package watcher

import "testing"

func withoutDescriptors(t *testing.T, f func()) {
	t.Skip("the open-file limit is a Unix setting")
}
