package server

import (
	"context"
	"slices"
	"sync"
	"time"
)

// gateEvery is how often a held announcement checks for its backend.
var gateEvery = 100 * time.Millisecond

// gate holds announcements while the backend that serves the site's pages
// does not accept connections, and makes them once it does: a tab reloaded
// into a dead backend would only show the waiting page. One goroutine at
// most checks the backend; it ends when nothing is held, and Close waits
// for it.
type gate struct {
	s       *Server
	backend *proxy

	mu      sync.Mutex
	held    *Change // merged batches not yet announced
	running bool
	stopped bool
	wg      sync.WaitGroup
}

func (g *gate) hold(c Change) {
	// The folder is the app's, not served: a path that is not
	// known to be a swappable URL reloads every page.
	c.Full = c.Full || !g.s.inPlace(c)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	if g.held == nil {
		c.Paths = slices.Clone(c.Paths)
		g.held = &c
	} else {
		h := g.held
		h.Paths = append(h.Paths, c.Paths...)
		slices.Sort(h.Paths)
		h.Paths = slices.Compact(h.Paths)
		if c.ModTime.After(h.ModTime) {
			h.ModTime = c.ModTime
		}
		h.Full = h.Full || c.Full
	}
	if !g.running {
		g.running = true
		g.wg.Add(1)
		go g.run()
	}
}

func (g *gate) run() {
	defer g.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-g.s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	tick := time.NewTicker(gateEvery)
	defer tick.Stop()
	for {
		if g.backend.up(ctx) {
			g.mu.Lock()
			c := g.held
			g.held = nil
			if c == nil {
				g.running = false
				g.mu.Unlock()
				return
			}
			g.mu.Unlock()
			g.s.publish(*c)
			continue
		}
		select {
		case <-ctx.Done():
			g.mu.Lock()
			g.running = false
			g.mu.Unlock()
			return
		case <-tick.C:
		}
	}
}

// stop drops what is held and waits for the goroutine.
func (g *gate) stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	g.wg.Wait()
}
