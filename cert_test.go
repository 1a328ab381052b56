package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotserve/hotserve/internal/devcert"
)

func TestOwnCertificate(t *testing.T) {
	// A certificate of the user's own, as mkcert would make: here devcert
	// writes one into a folder of the test's.
	certs := t.TempDir()
	own, err := devcert.Load(certs, devcert.Names([]string{"127.0.0.1"}), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(certs, "cert.pem"), filepath.Join(certs, "key.pem")
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no certificate in cert.pem")
	}

	dir := t.TempDir()
	write(t, filepath.Join(dir, "index.html"), "<!doctype html><p>own")
	in := startInProcess(t, "--cert", certFile, "--key", keyFile, dir)
	if !strings.HasPrefix(in.url, "https://") {
		t.Fatalf("got URL %s, want https: --cert implies --https", in.url)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
	}}
	resp, err := client.Get(in.url + "/")
	if err != nil {
		t.Fatalf("a client that trusts only the given certificate: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "own") {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("got %s, want HTTP/2", resp.Proto)
	}
	if got := resp.TLS.PeerCertificates[0].Raw; !bytes.Equal(got, own.Certificate[0]) {
		t.Error("the server did not present the given certificate")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the site folder holds %d entries, want only index.html: nothing may be written into it", len(entries))
	}

	t.Run("a key that does not exist is an error with a hint", func(t *testing.T) {
		code, _, stderr := runBinary(t, 5*time.Second, "--port", "0", "--cert", certFile, "--key", filepath.Join(certs, "missing.pem"), dir)
		if code != 1 || !strings.Contains(stderr, "hotserve: error: load --cert") || !strings.Contains(stderr, "hotserve: hint: ") {
			t.Errorf("got %d %q", code, stderr)
		}
	})
	t.Run("--cert without --key is an error with a hint", func(t *testing.T) {
		code, _, stderr := runBinary(t, 5*time.Second, "--port", "0", "--cert", certFile, dir)
		if code != 1 || !strings.Contains(stderr, "--cert and --key go together") {
			t.Errorf("got %d %q", code, stderr)
		}
	})
}
