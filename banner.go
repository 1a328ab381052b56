package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/mdp/qrterminal/v3"
	"golang.org/x/term"
)

// surroundings is what hotserve takes from the machine it runs on, apart
// from flags and files. Tests replace parts of it: a fake terminal, a fake
// browser opener and fixed network interfaces.
type surroundings struct {
	stdout, stderr io.Writer
	// isTerminal reports whether w is a terminal. Colour and the QR code are
	// only for people, never for pipes, files or logs.
	isTerminal func(w io.Writer) bool
	// openBrowser opens url in the default browser, for --open.
	openBrowser func(url string) error
	// interfaceAddrs lists this machine's addresses, for the Network lines.
	interfaceAddrs func() ([]net.Addr, error)
}

// isTerminal is the real terminal check: an *os.File whose descriptor is a
// terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// noColor reports whether the user asked for no colour. As the NO_COLOR
// convention says, any non-empty value counts.
func noColor() bool { return os.Getenv("NO_COLOR") != "" }

// banner is what hotserve prints once it listens.
type banner struct {
	version string
	dir     string
	local   string   // the URL to open on this machine
	network []string // URLs for other machines; none when bound to loopback
	exposed bool     // bound to an address other machines can reach
	color   bool     // ANSI colour and dimming
	qr      bool     // a QR code of network[0]
}

// ANSI styles, used only when banner.color is set.
const (
	bold   = "\x1b[1m"
	dim    = "\x1b[2m"
	cyan   = "\x1b[36m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// write prints the banner. The Local line keeps the form
// "Local:   http://127.0.0.1:PORT/" that scripts and tests look for.
func (b banner) write(w io.Writer) {
	style := func(s, codes string) string {
		if !b.color {
			return s
		}
		return codes + s + reset
	}
	fmt.Fprintf(w, "\n  %s %s  serving %s\n\n", style("hotserve", bold), style(b.version, dim), b.dir)
	fmt.Fprintf(w, "  Local:   %s\n", style(b.local, cyan))
	for _, u := range b.network {
		fmt.Fprintf(w, "  Network: %s\n", style(u, cyan))
	}
	if !b.exposed {
		fmt.Fprintf(w, "  Network: %s\n", style("use --host 0.0.0.0 to expose", dim))
	}
	if b.exposed {
		fmt.Fprintf(w, "\n  %s\n", style("warning: "+b.dir+" is exposed to the network: anyone who can reach this machine can read its files", yellow))
	}
	if b.qr && len(b.network) > 0 {
		fmt.Fprintf(w, "\n  Scan to open %s on a phone:\n\n", b.network[0])
		qrterminal.GenerateWithConfig(b.network[0], qrterminal.Config{
			Level:          qrterminal.L,
			Writer:         w,
			HalfBlocks:     true,
			BlackChar:      qrterminal.BLACK_BLACK,
			WhiteBlackChar: qrterminal.WHITE_BLACK,
			WhiteChar:      qrterminal.WHITE_WHITE,
			BlackWhiteChar: qrterminal.BLACK_WHITE,
			QuietZone:      2,
		})
	}
	fmt.Fprintln(w)
}

// networkURLs lists the URLs other machines can use to reach ln: one per
// non-loopback IPv4 address when ln is bound to all interfaces, else ln's
// own address when that is not loopback.
func networkURLs(ln net.Listener, scheme string, addrs func() ([]net.Addr, error)) []string {
	a := ln.Addr().(*net.TCPAddr)
	if !a.IP.IsUnspecified() {
		if a.IP.IsLoopback() {
			return nil
		}
		return []string{siteURL(scheme, a.IP.String(), a.Port)}
	}
	list, err := addrs()
	if err != nil {
		return nil
	}
	var urls []string
	for _, addr := range list {
		ipn, ok := addr.(*net.IPNet)
		if !ok || ipn.IP.To4() == nil || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		urls = append(urls, siteURL(scheme, ipn.IP.String(), a.Port))
	}
	return urls
}

// siteURL is the root URL of the site at host and port.
func siteURL(scheme, host string, port int) string {
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"
}

// isExposed reports whether ln accepts connections from other machines.
func isExposed(ln net.Listener) bool {
	return !ln.Addr().(*net.TCPAddr).IP.IsLoopback()
}
