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
