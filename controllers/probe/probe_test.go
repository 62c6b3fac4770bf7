package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"k8s.io/apimachinery/pkg/types"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// countingListener accepts TCP connections on loopback and counts them.
func countingListener(t *testing.T) (netip.AddrPort, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			_ = c.Close()
		}
	}()
	return netip.MustParseAddrPort(l.Addr().String()), &n
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(l.Addr().String())
	_ = l.Close()
	return ap
}

func TestPlan(t *testing.T) {
	addrs := []v1alpha1.ExposureAddress{
		{Type: v1alpha1.AddressClusterIP, Address: "10.0.0.5", Port: 80, Protocol: v1alpha1.ProtocolTCP, PortName: "http"},
		{Type: v1alpha1.AddressLoadBalancer, Address: "127.0.0.9", Port: 80, Protocol: v1alpha1.ProtocolTCP, PortName: "http"},
		{Type: v1alpha1.AddressLoadBalancer, Address: "127.0.0.9", Port: 53, Protocol: v1alpha1.ProtocolUDP, PortName: "dns"},
		{Type: v1alpha1.AddressLoadBalancer, Address: "127.0.0.9", Port: 514, Protocol: v1alpha1.ProtocolUDP, PortName: "syslog"},
		{Type: v1alpha1.AddressLoadBalancer, Hostname: "lb.example.com", Port: 80, PortName: "http"},
		{Type: v1alpha1.AddressExternal, Address: "127.0.0.1", Port: 80, PortName: "http"},
		{Type: v1alpha1.AddressExternalName, Hostname: "db.example.com"},
		{Type: v1alpha1.AddressDNS, Hostname: "web.ns.svc.cluster.local", Port: 80},
		{Type: v1alpha1.AddressIngress, URL: "https://shop.example.com/api", Hostname: "shop.example.com", Address: "127.0.0.20"},
		{Type: v1alpha1.AddressHTTPRoute, URL: "http://shop.example.com:8000/", Address: "127.0.0.21"},
		{Type: v1alpha1.AddressIngress, URL: "http://shop.example.com/", Hostname: "shop.example.com"},
	}
	targets, fixed := Plan(addrs, map[string]string{"dns": "dns"}, loopback)
	want := []Target{
		{Kind: TCP, Dial: netip.MustParseAddrPort("127.0.0.9:80")},
		{Kind: DNS, Dial: netip.MustParseAddrPort("127.0.0.9:53")},
		{Kind: HTTPS, Dial: netip.MustParseAddrPort("127.0.0.20:443"), Host: "shop.example.com", Path: "/api"},
		{Kind: HTTP, Dial: netip.MustParseAddrPort("127.0.0.21:8000"), Host: "shop.example.com", Path: "/"},
	}
	if len(targets) != len(want) {
		t.Fatalf("targets %+v, want %d", targets, len(want))
	}
	for i, w := range want {
		got := targets[i]
		got.Key = ""
		if got != w {
			t.Errorf("target %d: %+v, want %+v", i, got, w)
		}
	}
	reasons := map[string]string{}
	for _, a := range addrs {
		if r, ok := fixed[KeyOf(a)]; ok {
			reasons[Describe(a)] = r.Reason
		}
	}
	for what, reason := range map[string]string{
		"ClusterIP 10.0.0.5:80":           ReasonDestinationNotAllowed,
		"LoadBalancer 127.0.0.9:514":      ReasonProtocolNotSpoken,
		"LoadBalancer lb.example.com:80":  ReasonHostnameOnly,
		"External 127.0.0.1:80":           ReasonUserSupplied,
		"ExternalName db.example.com":     ReasonUserSupplied,
		"DNS web.ns.svc.cluster.local:80": ReasonHostnameOnly,
		"http://shop.example.com/":        ReasonHostnameOnly,
	} {
		if reasons[what] != reason {
			t.Errorf("%s: reason %q, want %q", what, reasons[what], reason)
		}
	}
}

func TestProbeTCP(t *testing.T) {
	open, n := countingListener(t)
	ctx := context.Background()
	if r := Probe(ctx, Target{Kind: TCP, Dial: open}, time.Second, loopback); r.State != v1alpha1.ReachabilityAnswered || r.Reason != ReasonConnected {
		t.Errorf("open port: %+v", r)
	}
	if r := Probe(ctx, Target{Kind: TCP, Dial: closedPort(t)}, time.Second, loopback); r.State != v1alpha1.ReachabilityNotAnswering || r.Reason != ReasonConnectionRefused {
		t.Errorf("closed port: %+v", r)
	}
	// Outside the allowed destinations: reported, never dialled. The
	// listener counts in its own goroutine: wait for the open port's one
	// connection to be counted first, or a slow accept looks like a dial.
	for deadline := time.Now().Add(5 * time.Second); n.Load() < 1 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	before := n.Load()
	if before != 1 {
		t.Fatalf("the open port counted %d connections, want 1", before)
	}
	other := []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	if r := Probe(ctx, Target{Kind: TCP, Dial: open}, time.Second, other); r.State != v1alpha1.ReachabilityNotProbed || r.Reason != ReasonDestinationNotAllowed {
		t.Errorf("not allowed: %+v", r)
	}
	time.Sleep(50 * time.Millisecond)
	if got := n.Load(); got != before {
		t.Errorf("a destination outside the allowed CIDRs got %d connections", got-before)
	}
}

func TestProbeHTTP(t *testing.T) {
	var host atomic.Value
	code := atomic.Int32{}
	code.Store(http.StatusNotFound)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host.Store(r.Host + r.URL.Path)
		w.WriteHeader(int(code.Load()))
	}))
	defer srv.Close()
	dial := netip.MustParseAddrPort(srv.Listener.Addr().String())
	tg := Target{Kind: HTTP, Dial: dial, Host: "shop.example.com", Path: "/api"}
	r := Probe(context.Background(), tg, time.Second, loopback)
	if r.State != v1alpha1.ReachabilityAnswered || r.HTTPStatus != 404 {
		t.Errorf("a 404 answers: %+v", r)
	}
	if got := host.Load(); got != "shop.example.com/api" {
		t.Errorf("request for %v, want Host shop.example.com and path /api", got)
	}
	code.Store(http.StatusBadGateway)
	if r := Probe(context.Background(), tg, time.Second, loopback); r.State != v1alpha1.ReachabilityNotAnswering || r.Reason != ReasonBadGateway || r.HTTPStatus != 502 {
		t.Errorf("a proxy's 502 is not an answer of the workload: %+v", r)
	}

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || r.TLS.ServerName != "shop.example.com" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer tlsSrv.Close()
	tg = Target{Kind: HTTPS, Dial: netip.MustParseAddrPort(tlsSrv.Listener.Addr().String()), Host: "shop.example.com", Path: "/"}
	if r := Probe(context.Background(), tg, time.Second, loopback); r.State != v1alpha1.ReachabilityAnswered || r.HTTPStatus != 200 {
		t.Errorf("HTTPS with SNI shop.example.com (self-signed): %+v", r)
	}
}

func TestProbeDNS(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close() }()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var m dnsmessage.Message
			if m.Unpack(buf[:n]) != nil {
				continue
			}
			m.Response, m.RCode = true, dnsmessage.RCodeRefused
			b, _ := m.Pack()
			_, _ = pc.WriteTo(b, from)
		}
	}()
	tg := Target{Kind: DNS, Dial: netip.MustParseAddrPort(pc.LocalAddr().String())}
	if r := Probe(context.Background(), tg, time.Second, loopback); r.State != v1alpha1.ReachabilityAnswered || r.Reason != ReasonDNSReply {
		t.Errorf("a REFUSED reply still answers: %+v", r)
	}
	_ = pc.Close()
	if r := Probe(context.Background(), tg, 300*time.Millisecond, loopback); r.State != v1alpha1.ReachabilityNotAnswering {
		t.Errorf("no server: %+v", r)
	}
}

// TestProberReportsChangesOnly: OnChange fires when a result changes, not
// for every round that finds the same.
func TestProberReportsChangesOnly(t *testing.T) {
	open, n := countingListener(t)
	var changes atomic.Int32
	p := &Prober{
		Settings: func() (Settings, bool) {
			return Settings{Allowed: loopback, Period: 100 * time.Millisecond, Timeout: time.Second, Concurrency: 2}, true
		},
		OnChange: func(types.NamespacedName) { changes.Add(1) },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Start(ctx) }()
	key := types.NamespacedName{Namespace: "ns", Name: "web"}
	p.Set(key, []Target{{Key: "a", Kind: TCP, Dial: open}})
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n.Load() < 5 {
		t.Fatalf("only %d probes in 5s with a 100ms period", n.Load())
	}
	if got := changes.Load(); got != 1 {
		t.Errorf("%d changes reported for %d probes that all answered, want 1", got, n.Load())
	}
	if r := p.Results(key)["a"]; r.State != v1alpha1.ReachabilityAnswered {
		t.Errorf("result %+v", r)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("prober stopped with %v", err)
	}
}

// TestUserSuppliedAddressesAreNeverDialled: an external backend the user
// names, even on an allowed destination with a listener behind it, gets
// no connection from a whole round of the plan's targets.
func TestUserSuppliedAddressesAreNeverDialled(t *testing.T) {
	open, n := countingListener(t)
	addrs := []v1alpha1.ExposureAddress{
		{Type: v1alpha1.AddressExternal, Address: open.Addr().String(), Port: int32(open.Port()), Protocol: v1alpha1.ProtocolTCP},
		{Type: v1alpha1.AddressExternalName, Hostname: "localhost", Port: int32(open.Port())},
		{Type: v1alpha1.AddressIngress, URL: "http://localhost:" + strconv.Itoa(int(open.Port())) + "/", Hostname: "localhost"},
	}
	targets, fixed := Plan(addrs, nil, []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")})
	for _, tg := range targets {
		Probe(context.Background(), tg, time.Second, loopback)
	}
	time.Sleep(50 * time.Millisecond)
	if len(targets) != 0 || n.Load() != 0 {
		t.Errorf("%d targets, %d connections to user-supplied addresses", len(targets), n.Load())
	}
	for _, a := range addrs {
		if r := fixed[KeyOf(a)]; r.State != v1alpha1.ReachabilityNotProbed {
			t.Errorf("%s: %+v, want NotProbed", Describe(a), r)
		}
	}
}
