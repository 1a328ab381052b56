// Package devcert makes the self-signed certificate hotserve serves HTTPS
// with, and keeps it in the user's cache folder: the exception a browser
// is told to make for a certificate holds only while the certificate stays
// the same, so a new one at every start would ask again every time.
package devcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Validity is how long a new certificate is valid.
const Validity = 365 * 24 * time.Hour

// Names returns the names a certificate for hosts must hold: localhost,
// 127.0.0.1 and ::1, and each of hosts that is not an unspecified address
// (0.0.0.0 and :: are where to listen, not names to reach). They are
// lower-cased, sorted and without duplicates.
func Names(hosts []string) []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	for _, h := range hosts {
		h = strings.ToLower(strings.Trim(h, "[]"))
		if ip := net.ParseIP(h); ip != nil {
			if ip.IsUnspecified() {
				continue
			}
			h = ip.String()
		}
		if h != "" {
			names = append(names, h)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Load returns the certificate cached in dir (cert.pem and key.pem) if it
// holds exactly names and is valid for at least another day at now;
// otherwise it makes a new one (ECDSA P-256) and caches it, readable by the
// user only. A cache that cannot be written is no reason to fail: the new
// certificate is returned anyway.
func Load(dir string, names []string, now time.Time) (tls.Certificate, error) {
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil && fits(c, names, now) {
		return c, nil
	}
	certPEM, keyPEM, err := generate(names, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err == nil {
		// The key first: a cert without its key is never loaded.
		if os.WriteFile(keyFile, keyPEM, 0o600) == nil {
			os.WriteFile(certFile, certPEM, 0o600)
		}
	}
	return c, nil
}

// fits reports whether c holds exactly names and stays valid for a day.
func fits(c tls.Certificate, names []string, now time.Time) bool {
	leaf := c.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return false
		}
	}
	if now.Before(leaf.NotBefore) || now.Add(24*time.Hour).After(leaf.NotAfter) {
		return false
	}
	return slices.Equal(sans(leaf), names)
}

func sans(leaf *x509.Certificate) []string {
	var got []string
	got = append(got, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		got = append(got, ip.String())
	}
	slices.Sort(got)
	return got
}

func generate(names []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"hotserve development certificate"}, CommonName: "localhost"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, errors.New("marshal key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}
