package selfsigned

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

const validity = 90 * 24 * time.Hour

func parse(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("no CERTIFICATE PEM block in %q", certPEM)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGenerate(t *testing.T) {
	hosts := []string{"shop.example.com", "*.api.example.com", "Shop.Example.com", "192.168.50.30"}
	certPEM, keyPEM, err := Generate(hosts, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	// tls.X509KeyPair is what an ingress controller effectively does with
	// the Secret: the key must match the certificate.
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("certificate and key do not form a pair: %v", err)
	}
	if k, ok := pair.PrivateKey.(*ecdsa.PrivateKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("want an ECDSA P-256 key, got %T", pair.PrivateKey)
	}

	c := parse(t, certPEM)
	if c.Subject.CommonName != "shop.example.com" {
		t.Errorf("CN %q, want the first host", c.Subject.CommonName)
	}
	if got := strings.Join(c.DNSNames, ","); got != "shop.example.com,*.api.example.com" {
		t.Errorf("DNS SANs %q (duplicates differing in case must collapse)", got)
	}
	if len(c.IPAddresses) != 1 || c.IPAddresses[0].String() != "192.168.50.30" {
		t.Errorf("IP SANs %v", c.IPAddresses)
	}
	if c.IsCA || c.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("want a leaf for digital signatures, got IsCA=%v KeyUsage=%v", c.IsCA, c.KeyUsage)
	}
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("want extended key usage serverAuth, got %v", c.ExtKeyUsage)
	}
	if !c.NotAfter.Equal(now.Add(validity)) || !c.NotBefore.Before(now) {
		t.Errorf("validity %s .. %s, want from before %s to %s", c.NotBefore, c.NotAfter, now, now.Add(validity))
	}
	if c.SerialNumber.Sign() <= 0 {
		t.Errorf("serial %s must be positive", c.SerialNumber)
	}

	// A client trusting the certificate itself can verify it for each host,
	// including through the wildcard.
	roots := x509.NewCertPool()
	roots.AddCert(c)
	for _, h := range []string{"shop.example.com", "v1.api.example.com", "192.168.50.30"} {
		if _, err := c.Verify(x509.VerifyOptions{DNSName: h, Roots: roots, CurrentTime: now}); err != nil {
			t.Errorf("verify for %s: %v", h, err)
		}
	}
	if _, err := c.Verify(x509.VerifyOptions{DNSName: "other.example.com", Roots: roots, CurrentTime: now}); err == nil {
		t.Error("verified for a host it does not name")
	}

	// Serial numbers are random: two certificates never share one.
	again, _, err := Generate(hosts, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	if parse(t, again).SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Error("two certificates got the same serial number")
	}
}

func TestGenerateLongFirstHost(t *testing.T) {
	long := strings.Repeat("a", 60) + ".example.com"
	certPEM, _, err := Generate([]string{long}, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	c := parse(t, certPEM)
	if c.Subject.CommonName != "" || len(c.DNSNames) != 1 || c.DNSNames[0] != long {
		t.Errorf("a host longer than a CN may be goes in the SANs only: CN %q, SANs %v", c.Subject.CommonName, c.DNSNames)
	}
}

func TestGenerateErrors(t *testing.T) {
	for _, tt := range []struct {
		name     string
		hosts    []string
		validity time.Duration
		want     string
	}{
		{"no hosts", nil, validity, "no hosts"},
		{"only blank hosts", []string{" ", ""}, validity, "no hosts"},
		{"zero validity", []string{"a.example.com"}, 0, "validity must be positive"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Generate(tt.hosts, now, tt.validity)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNeedsRenewal(t *testing.T) {
	hosts := []string{"shop.example.com", "*.api.example.com"}
	cert, _, err := Generate(hosts, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	lifetime := validity + time.Hour // Generate backdates by an hour
	expiry := now.Add(validity)

	tests := []struct {
		name  string
		cert  []byte
		hosts []string
		now   time.Time
		want  bool
		why   string
	}{
		{name: "fresh", cert: cert, hosts: hosts, now: now},
		{name: "hosts in another order and case", cert: cert, hosts: []string{"*.API.example.com", "shop.example.com", "shop.example.com"}, now: now},
		{name: "half way through", cert: cert, hosts: hosts, now: now.Add(validity / 2)},
		{name: "just before a third remains", cert: cert, hosts: hosts, now: expiry.Add(-lifetime/3 - time.Minute)},
		{name: "less than a third remains", cert: cert, hosts: hosts, now: expiry.Add(-lifetime/3 + time.Minute),
			want: true, why: "less than a third of its lifetime away"},
		{name: "expired", cert: cert, hosts: hosts, now: expiry.Add(time.Second),
			want: true, why: "expired at 2026-05-30T10:00:00Z"},
		{name: "a host was added", cert: cert, hosts: append([]string{"new.example.com"}, hosts...), now: now,
			want: true, why: "is for *.api.example.com, shop.example.com but the hosts are *.api.example.com, new.example.com, shop.example.com"},
		{name: "a host was removed", cert: cert, hosts: hosts[:1], now: now,
			want: true, why: "but the hosts are shop.example.com"},
		{name: "clock before NotBefore", cert: cert, hosts: hosts, now: now.Add(-2 * time.Hour),
			want: true, why: "not valid until"},
		{name: "empty Secret", cert: nil, hosts: hosts, now: now,
			want: true, why: "no PEM certificate"},
		{name: "not a certificate", cert: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), hosts: hosts, now: now,
			want: true, why: "no PEM certificate"},
		{name: "garbage in a certificate block", cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("nope")}), hosts: hosts, now: now,
			want: true, why: "cannot be parsed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := NeedsRenewal(tt.cert, tt.hosts, tt.now)
			if got != tt.want {
				t.Fatalf("NeedsRenewal = %v (%q), want %v", got, why, tt.want)
			}
			if !tt.want && why != "" {
				t.Errorf("no renewal needed but a reason was given: %q", why)
			}
			if !strings.Contains(why, tt.why) {
				t.Errorf("reason %q does not contain %q", why, tt.why)
			}
		})
	}
}

// TestRenewedCertificateIsFresh closes the loop the reconciler runs: once
// renewal is due, the new certificate is not due.
func TestRenewedCertificateIsFresh(t *testing.T) {
	hosts := []string{"shop.example.com"}
	later := now.Add(80 * 24 * time.Hour)
	old, _, _ := Generate(hosts, now, validity)
	if due, _ := NeedsRenewal(old, hosts, later); !due {
		t.Fatal("want the old certificate due for renewal")
	}
	fresh, _, err := Generate(hosts, later, validity)
	if err != nil {
		t.Fatal(err)
	}
	if due, why := NeedsRenewal(fresh, hosts, later); due {
		t.Fatalf("a just-renewed certificate is due again: %s", why)
	}
}
