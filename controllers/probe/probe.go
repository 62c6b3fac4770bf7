package probe

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// Probe dials one target, once, within timeout. It refuses a destination
// outside allowed without a connection attempt, whatever the plan said
// (the admin may have narrowed the list since).
func Probe(ctx context.Context, t Target, timeout time.Duration, allowed []netip.Prefix) Result {
	if !Allowed(t.Dial.Addr(), allowed) {
		return *notAllowed(t.Dial.Addr())
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch t.Kind {
	case HTTP, HTTPS:
		return probeHTTP(ctx, t)
	case DNS:
		return probeDNS(ctx, t)
	default:
		return probeTCP(ctx, t)
	}
}

func answered(reason, msg string) Result {
	return Result{State: v1alpha1.ReachabilityAnswered, Reason: reason, Message: msg}
}

func probeTCP(ctx context.Context, t Target) Result {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", t.hostPort())
	if err != nil {
		return failure(err)
	}
	_ = c.Close()
	return answered(ReasonConnected, "a TCP connection was accepted")
}

func probeHTTP(ctx context.Context, t Target) Result {
	dest := t.hostPort()
	var d net.Dialer
	tr := &http.Transport{
		// Every connection goes to the planned address, whatever the
		// URL's host resolves to.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", dest)
		},
		// Reachability, not certificate validity: a self-signed or
		// not-yet-issued certificate still answers.
		TLSClientConfig:   &tls.Config{ServerName: t.Host, InsecureSkipVerify: true}, //nolint:gosec // see above
		DisableKeepAlives: true,
		Proxy:             nil,
	}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	scheme := "http"
	if t.Kind == HTTPS {
		scheme = "https"
	}
	host := t.Host
	if host == "" {
		host = dest
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+host+t.Path, nil)
	if err != nil {
		return Result{State: v1alpha1.ReachabilityNotProbed, Reason: ReasonNoPort, Message: "no request can be made of this URL"}
	}
	req.Header.Set("User-Agent", "exposure-operator-prober")
	resp, err := cl.Do(req)
	if err != nil {
		return failure(err)
	}
	_ = resp.Body.Close()
	code := int32(resp.StatusCode)
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return Result{State: v1alpha1.ReachabilityNotAnswering, Reason: ReasonBadGateway, HTTPStatus: code,
			Message: fmt.Sprintf("the front door answered %d: nothing behind it answered", resp.StatusCode)}
	}
	r := answered(ReasonHTTPResponse, fmt.Sprintf("HTTP %d", resp.StatusCode))
	r.HTTPStatus = code
	return r
}

// probeDNS sends one query for the root's NS records; any reply, whatever
// its response code, shows a DNS server answering.
func probeDNS(ctx context.Context, t Target) Result {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", t.hostPort())
	if err != nil {
		return failure(err)
	}
	defer func() { _ = c.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	q := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: false},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName("."), Type: dnsmessage.TypeNS, Class: dnsmessage.ClassINET}},
	}
	b, err := q.Pack()
	if err != nil {
		return failure(err)
	}
	if _, err := c.Write(b); err != nil {
		return failure(err)
	}
	buf := make([]byte, 1500)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return failure(err)
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err == nil && h.ID == id && h.Response {
			return answered(ReasonDNSReply, "a DNS reply ("+h.RCode.String()+")")
		}
	}
}

// failure classifies a failed probe with a stable message: the status
// changes when the kind of failure changes, not with each attempt's
// ephemeral port.
func failure(err error) Result {
	r := Result{State: v1alpha1.ReachabilityNotAnswering}
	var tlsErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		r.Reason, r.Message = ReasonConnectionRefused, "the connection was refused"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		r.Reason, r.Message = ReasonTimeout, "no answer within the probe timeout"
	case errors.As(err, &tlsErr) || errors.As(err, &certErr):
		r.Reason, r.Message = ReasonTLSHandshakeFailed, "the TLS handshake failed"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		r.Reason, r.Message = ReasonUnreachable, "no route to the address"
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			r.Reason, r.Message = ReasonTimeout, "no answer within the probe timeout"
		} else {
			r.Reason, r.Message = ReasonUnreachable, "the connection failed"
		}
	}
	return r
}
