//go:build unix

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// onReloadSignal calls reload for every SIGHUP until ctx is done: build
// tools and scripts can announce a rebuild with "kill -HUP".
func onReloadSignal(ctx context.Context, reload func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGHUP)
	defer signal.Stop(c)
	for {
		select {
		case <-c:
			reload()
		case <-ctx.Done():
			return
		}
	}
}

// ignoreBrokenPipe keeps hotserve serving when the reader of its output
// goes away, as in "hotserve DIR | head": Go's runtime ends a program that
// writes to a closed pipe on descriptor 1 or 2 unless SIGPIPE is handled.
// With it ignored the write fails with EPIPE instead, and the log writer
// stops logging (see quietOnError).
func ignoreBrokenPipe() { signal.Ignore(syscall.SIGPIPE) }
