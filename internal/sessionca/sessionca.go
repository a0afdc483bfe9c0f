// Package sessionca is the certificate authority of one jailed session: made
// in memory at launch, trusted only inside that session's jail, and able to
// sign certificates for the GitHub hosts alone. jailrun's proxy presents its
// leaf certificates to the agent for the connections it terminates, so that
// it can put the real token in place of the session's placeholder.
//
// The CA's private key lives in this process's memory only: nothing here
// writes it anywhere, and PEM returns the certificate alone. Its X.509 name
// constraints permit only the hosts it was made for (each DNS name with the
// names below it, each IP address alone), so even a certificate it signed
// for another name would be refused by any client that checks them.
package sessionca

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
	"slices"
	"strings"
	"sync"
	"time"
)

// Subject is the CA's common name, which certificate viewers show.
const Subject = "jailrun session CA (this jail only)"

// clockSkew back-dates every certificate, so a clock a little behind the
// supervisor's still accepts it.
const clockSkew = 5 * time.Minute

// CA signs leaf certificates for its hosts. It is safe for concurrent use.
type CA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	pem     []byte
	hosts   []string // lower-case names and IP literals, without ports
	expires time.Time

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

// New makes a CA valid from now for validFor that may sign certificates
// for hosts only: DNS names or IP literals, a port (host:port) ignored.
func New(hosts []string, now time.Time, validFor time.Duration) (*CA, error) {
	names, ips, err := split(hosts)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("cannot make the session's CA key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: Subject, Organization: []string{"jailrun"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // it signs leaves, never another CA
		// Only these DNS names and only these IP addresses (none at all
		// when no host is one).
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         names,
		PermittedIPRanges:           ips,
	}
	if len(ips) == 0 {
		tmpl.ExcludedIPRanges = []*net.IPNet{{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}, {IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("cannot make the session's CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cannot read the session's CA: %v", err)
	}
	return &CA{
		cert:    cert,
		key:     key,
		pem:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		hosts:   append(names, ipStrings(ips)...),
		expires: tmpl.NotAfter,
		leaves:  map[string]*tls.Certificate{},
	}, nil
}

// PEM returns the CA's certificate, PEM-encoded, for the jail's trust
// bundle. It never holds the key.
func (ca *CA) PEM() []byte { return slices.Clone(ca.pem) }

// Certificate returns the CA's certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// ErrNotGitHub is returned for a host the CA was not made for.
var ErrNotGitHub = errors.New("not one of the session's GitHub hosts")

// Leaf returns the certificate for host (a DNS name or IP literal, without
// a port), signed by ca and made at most once per host for the CA's life.
func (ca *CA) Leaf(host string) (*tls.Certificate, error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !slices.Contains(ca.hosts, host) {
		return nil, fmt.Errorf("no certificate for %q: %w", host, ErrNotGitHub)
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if leaf := ca.leaves[host]; leaf != nil {
		return leaf, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"jailrun"}},
		NotBefore:    ca.cert.NotBefore,
		NotAfter:     ca.expires,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	// An IP address's certificate has no common name: GnuTLS checks a
	// common name against the DNS constraints when there is no DNS name.
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.Subject.CommonName = host
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	leaf := &tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}
	if leaf.Leaf, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	ca.leaves[host] = leaf
	return leaf, nil
}

// Minted returns the hosts a leaf certificate was made for, sorted.
func (ca *CA) Minted() []string {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	hosts := make([]string, 0, len(ca.leaves))
	for h := range ca.leaves {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	return hosts
}

// split sorts hosts into DNS names and single-address IP ranges, ports
// dropped and duplicates removed.
func split(hosts []string) (names []string, ips []*net.IPNet, err error) {
	for _, h := range hosts {
		if name, _, err := net.SplitHostPort(h); err == nil {
			h = name
		}
		h = strings.ToLower(strings.Trim(h, "[]"))
		if ip := net.ParseIP(h); ip != nil {
			bits := 128
			if ip4 := ip.To4(); ip4 != nil {
				ip, bits = ip4, 32
			}
			if !slices.ContainsFunc(ips, func(n *net.IPNet) bool { return n.IP.Equal(ip) }) {
				ips = append(ips, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			}
			continue
		}
		if h == "" || strings.ContainsAny(h, "*/ ") {
			return nil, nil, fmt.Errorf("cannot make the session's CA for %q: not a host name", h)
		}
		if !slices.Contains(names, h) {
			names = append(names, h)
		}
	}
	if len(names) == 0 && len(ips) == 0 {
		return nil, nil, errors.New("cannot make the session's CA: no GitHub host")
	}
	return names, ips, nil
}

func ipStrings(ips []*net.IPNet) []string {
	s := make([]string, len(ips))
	for i, n := range ips {
		s[i] = n.IP.String()
	}
	return s
}

// serial returns a random 128-bit serial number.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux or macOS
	}
	return n
}
