package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/hotserve/hotserve/server"
)

// checkNotSelf refuses a --proxy backend that is this hotserve: its port is
// the one listened on, and its host one of the addresses the listener
// answers on (the listener's own, or, for 0.0.0.0 and ::, loopback and
// every address of this machine). Every page load would otherwise go round
// in a circle until the server answers 508. Names are resolved, which for
// localhost never leaves the machine; a name that does not resolve now is
// left to fail on its own.
func checkNotSelf(backends []server.Backend, listening net.Addr, interfaceAddrs func() ([]net.Addr, error)) error {
	ln, ok := listening.(*net.TCPAddr)
	if !ok {
		return nil
	}
	for _, b := range backends {
		port := b.URL.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[b.URL.Scheme]
		}
		if port != fmt.Sprint(ln.Port) {
			continue
		}
		for _, ip := range resolve(b.URL.Hostname()) {
			if answersOn(ln.IP, ip, interfaceAddrs) {
				return withHint(fmt.Errorf("--proxy %s is hotserve itself: it listens on %s", b.URL.Redacted(), ln),
					"give the address of your app, e.g. --proxy http://127.0.0.1:3000, and serve hotserve on another --port")
			}
		}
	}
	return nil
}

// resolve returns the addresses of host, an IP literal or a name.
func resolve(host string) []net.IP {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil
	}
	ips := make([]net.IP, len(addrs))
	for i, a := range addrs {
		ips[i] = a.IP
	}
	return ips
}

// answersOn reports whether a listener on lnIP accepts connections to ip.
func answersOn(lnIP, ip net.IP, interfaceAddrs func() ([]net.Addr, error)) bool {
	if !lnIP.IsUnspecified() {
		return lnIP.Equal(ip)
	}
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	addrs, _ := interfaceAddrs()
	return slices.ContainsFunc(addrs, func(a net.Addr) bool {
		n, ok := a.(*net.IPNet)
		return ok && n.IP.Equal(ip)
	})
}
