// Package selfsigned makes and checks the self-signed TLS certificate that
// spec.ingress.tls.selfSigned asks for. The reconciler keeps it in a Secret
// it owns; this package only decides (NeedsRenewal) and generates
// (Generate), so both are tested without a cluster. Generate draws its key
// and serial number from crypto/rand; everything else, including the clock,
// is an argument.
package selfsigned

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"time"
)

// backdate moves NotBefore into the past so that clients whose clocks lag
// the operator's accept a brand-new certificate (client-go's self-signed
// helper does the same).
const backdate = time.Hour

// maxCommonName is the X.520 upper bound on a common name; some TLS stacks
// reject a certificate whose CN is longer, and the SANs are what clients
// check anyway.
const maxCommonName = 64

// Generate makes a self-signed serving certificate for hosts: an ECDSA P-256
// key, the hosts as subject alternative names (wildcards such as
// "*.example.com" allowed; an IP literal becomes an IP SAN), the first host as
// common name, a random serial, valid from an hour before now until now plus
// validity. It returns the certificate and the PKCS#8 private key in PEM, the
// tls.crt and tls.key of a kubernetes.io/tls Secret.
func Generate(hosts []string, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	hosts = normalize(hosts)
	if len(hosts) == 0 {
		return nil, nil, errors.New("selfsigned: no hosts to put in the certificate")
	}
	if validity <= 0 {
		return nil, nil, fmt.Errorf("selfsigned: validity must be positive, got %s", validity)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("selfsigned: generating key: %w", err)
	}
	// RFC 5280 allows up to 20 octets; 128 random bits make collisions
	// between renewals impossible in practice, and +1 keeps it positive.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("selfsigned: generating serial number: %w", err)
	}
	serial.Add(serial, big.NewInt(1))

	tmpl := &x509.Certificate{
		SerialNumber: serial,
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(validity),
		// An ECDSA key only signs the handshake; it is a leaf, not a CA,
		// because browsers refuse a CA certificate as a server's.
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	if len(hosts[0]) <= maxCommonName {
		tmpl.Subject = pkix.Name{CommonName: hosts[0]}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("selfsigned: creating certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("selfsigned: encoding key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// NeedsRenewal decides whether the certificate in certPEM must be replaced
// for hosts at time now, and says why in words fit for an Event: it cannot
// be parsed, it names other hosts than wanted, it is not valid yet, or less
// than a third of its lifetime remains (cert-manager's default renewal
// point, which leaves time to retry before anything breaks).
func NeedsRenewal(certPEM []byte, hosts []string, now time.Time) (bool, string) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return true, "the Secret holds no PEM certificate"
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return true, fmt.Sprintf("the certificate cannot be parsed: %v", err)
	}
	has := make([]string, 0, len(cert.DNSNames)+len(cert.IPAddresses))
	has = append(has, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		has = append(has, ip.String())
	}
	has, want := sortedSet(has), sortedSet(hosts)
	if !slices.Equal(has, want) {
		return true, fmt.Sprintf("the certificate is for %s but the hosts are %s",
			listOrNone(has), listOrNone(want))
	}
	if now.Before(cert.NotBefore) {
		return true, fmt.Sprintf("the certificate is not valid until %s", cert.NotBefore.UTC().Format(time.RFC3339))
	}
	lifetime := cert.NotAfter.Sub(cert.NotBefore)
	remaining := cert.NotAfter.Sub(now)
	if remaining <= 0 {
		return true, fmt.Sprintf("the certificate expired at %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if remaining < lifetime/3 {
		return true, fmt.Sprintf("the certificate expires at %s, less than a third of its lifetime away",
			cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return false, ""
}

// normalize lower-cases hosts (DNS names are case-insensitive and x509
// comparisons are not) and drops empty entries and duplicates, keeping the
// first host first since it becomes the common name.
func normalize(hosts []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String()
		}
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		out = append(out, h)
	}
	return out
}

func sortedSet(hosts []string) []string {
	out := normalize(hosts)
	slices.Sort(out)
	return out
}

func listOrNone(hosts []string) string {
	if len(hosts) == 0 {
		return "no hosts"
	}
	return strings.Join(hosts, ", ")
}
