package sessionca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func newCA(t *testing.T, hosts ...string) *CA {
	t.Helper()
	ca, err := New(hosts, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// verify checks cert against ca alone, as a client in the jail would, for
// name at now.
func verify(ca *CA, cert *x509.Certificate, name string) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	_, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: now})
	return err
}

func TestLeavesForItsHostsOnly(t *testing.T) {
	ca := newCA(t, "github.com", "api.github.com", "127.0.0.1:8443")
	for _, host := range []string{"github.com", "API.github.com", "127.0.0.1"} {
		leaf, err := ca.Leaf(host)
		if err != nil {
			t.Fatalf("Leaf(%s): %v", host, err)
		}
		if err := verify(ca, leaf.Leaf, strings.ToLower(host)); err != nil {
			t.Errorf("the leaf for %s does not verify: %v", host, err)
		}
	}
	for _, host := range []string{"evil.example", "github.com.evil.example", "raw.githubusercontent.com", "127.0.0.2", ""} {
		if _, err := ca.Leaf(host); !errors.Is(err, ErrNotGitHub) {
			t.Errorf("Leaf(%q) = %v, want ErrNotGitHub", host, err)
		}
	}
	if got := strings.Join(ca.Minted(), " "); got != "127.0.0.1 api.github.com github.com" {
		t.Errorf("Minted() = %q", got)
	}
	again, _ := ca.Leaf("github.com")
	first, _ := ca.Leaf("github.com")
	if again != first {
		t.Errorf("a second Leaf for the same host made a new certificate")
	}
}

// TestNameConstraints: a certificate the CA's key signed for another host
// (as a leak of the key could make) is refused by a client that checks
// the constraints.
func TestNameConstraints(t *testing.T) {
	ca := newCA(t, "github.com", "127.0.0.1")
	for _, tc := range []struct {
		dns []string
		ip  net.IP
	}{
		{dns: []string{"evil.example"}},
		{ip: net.IPv4(10, 0, 0, 1)},
	} {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{}, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Minute),
			DNSNames: tc.dns, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if tc.ip != nil {
			tmpl.IPAddresses = []net.IP{tc.ip}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		name := "evil.example"
		if tc.ip != nil {
			name = tc.ip.String()
		}
		var invalid x509.CertificateInvalidError
		if err := verify(ca, cert, name); !errors.As(err, &invalid) || invalid.Reason != x509.CANotAuthorizedForThisName {
			t.Errorf("a certificate for %s signed by the CA: %v, want refused by the name constraints", name, err)
		}
	}
}

func TestCertificateSaysWhatItIs(t *testing.T) {
	ca := newCA(t, "github.com")
	c := ca.Certificate()
	switch {
	case c.Subject.CommonName != Subject || !c.IsCA || !c.MaxPathLenZero:
		t.Errorf("CA subject %q, IsCA %v, MaxPathLenZero %v", c.Subject.CommonName, c.IsCA, c.MaxPathLenZero)
	case !c.NotAfter.Equal(now.Add(time.Hour)):
		t.Errorf("valid until %v, want the hour asked for", c.NotAfter)
	case c.PublicKeyAlgorithm != x509.ECDSA:
		t.Errorf("key %v, want ECDSA", c.PublicKeyAlgorithm)
	case strings.Contains(string(ca.PEM()), "PRIVATE KEY") || !strings.HasPrefix(string(ca.PEM()), "-----BEGIN CERTIFICATE-----"):
		t.Errorf("PEM() is not the certificate alone")
	}
}

func TestNewRefuses(t *testing.T) {
	for _, hosts := range [][]string{nil, {""}, {"*.github.com"}} {
		if _, err := New(hosts, now, time.Hour); err == nil {
			t.Errorf("New(%q) made a CA", hosts)
		}
	}
}
