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
// writes to a closed pipe on descriptor 1 or 2 unless it is notified of
// SIGPIPE. With a channel registered the write fails with EPIPE instead,
// and the log writer stops logging (see quietOnError). The channel is never
// read; the signal package drops what does not fit. Notify, unlike Ignore,
// leaves the programs hotserve starts (the --open browser) the default
// disposition, since a handler, unlike an ignored signal, is reset by exec.
func ignoreBrokenPipe() { signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE) }
