package devcert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"slices"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	names := Names([]string{"0.0.0.0", "myapp.test", "LOCALHOST"})
	if want := []string{"127.0.0.1", "::1", "localhost", "myapp.test"}; !slices.Equal(names, want) {
		t.Fatalf("got names %q, want %q", names, want)
	}
	first, err := Load(dir, names, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(first.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("got a %T key, want ECDSA", leaf.PublicKey)
	}
	if err := leaf.VerifyHostname("myapp.test"); err != nil {
		t.Error(err)
	}
	if err := leaf.VerifyHostname("::1"); err != nil {
		t.Error(err)
	}
	tests := []struct {
		name  string
		names []string
		at    time.Time
		same  bool
	}{
		{name: "the cached certificate is used again on the next start", names: names, at: now.Add(time.Hour), same: true},
		{name: "other names give a new certificate", names: Names([]string{"other.test"}), at: now, same: false},
		{name: "a certificate about to expire is replaced", names: names, at: now.Add(Validity), same: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a, err := Load(dir, names, now)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Load(dir, tt.names, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Equal(a.Certificate[0], b.Certificate[0]); got != tt.same {
				t.Errorf("got same %v, want %v", got, tt.same)
			}
		})
	}
}
