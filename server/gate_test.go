package server

// waiting reports whether an announcement waits for the backend. Only tests
// ask; the gate itself never needs to.
func (g *gate) waiting() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held != nil
}
