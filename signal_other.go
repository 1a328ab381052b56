//go:build !unix

package main

import "context"

// onReloadSignal waits for ctx: there is no SIGHUP here; build tools use
// POST /__hotserve/reload instead.
func onReloadSignal(ctx context.Context, _ func()) { <-ctx.Done() }

// ignoreBrokenPipe does nothing: only Unix ends a program for writing to a
// closed pipe.
func ignoreBrokenPipe() {}
