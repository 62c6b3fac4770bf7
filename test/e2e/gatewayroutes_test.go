package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/selfsigned"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

// l4BackendEnv makes the test binary serve a TCP echo, a gRPC health
// service and an HTTPS greeting instead of running tests ("tcp-address
// grpc-address https-address"): it is how the port-route, GRPCRoute and
// BackendTLSPolicy backend starts inside its network namespace. The HTTPS
// server's certificate and key come in l4CertEnv and l4KeyEnv (PEM).
const (
	l4BackendEnv = "E2E_L4_BACKEND"
	l4CertEnv    = "E2E_L4_TLS_CERT"
	l4KeyEnv     = "E2E_L4_TLS_KEY"
)

const (
	tcpGreeting = "hello from the exposure-operator e2e tcp backend"
	// grpcService is the service name the backend's health service
	// reports SERVING for.
	grpcService = "exposure.e2e"
	l4Backend   = "10.99.1.2"
	tcpPort     = 7000
	grpcPort    = 50051
	httpsPort   = 8443
	// secureHost is the name the HTTPS backend's certificate is for, the
	// BackendTLSPolicy's hostname.
	secureHost = "secure.e2e.example"
)

// l4CA is the HTTPS backend's certificate (self-signed: it is its own
// CA), for the ConfigMap the BackendTLSPolicy names.
var l4CA []byte

// serveL4Backend runs the TCP echo (a greeting line, then every byte back)
// and the gRPC health service until the process is killed.
func serveL4Backend(spec string) {
	addrs := strings.Fields(spec)
	tcpAddr, grpcAddr, httpsAddr := addrs[0], addrs[1], addrs[2]
	cert, err := tls.X509KeyPair([]byte(os.Getenv(l4CertEnv)), []byte(os.Getenv(l4KeyEnv)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "https backend:", err)
		os.Exit(1)
	}
	go func() {
		srv := &http.Server{Addr: httpsAddr, ReadHeaderTimeout: 5 * time.Second,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "%s over TLS (SNI %s): %s %s\n", backendGreeting, r.TLS.ServerName, r.Host, r.URL.Path)
			})}
		if err := srv.ListenAndServeTLS("", ""); err != nil {
			fmt.Fprintln(os.Stderr, "https backend:", err)
			os.Exit(1)
		}
	}()
	tl, err := net.Listen("tcp", tcpAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcp backend:", err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fmt.Fprintln(c, tcpGreeting)
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	gl, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc backend:", err)
		os.Exit(1)
	}
	s := grpc.NewServer()
	h := health.NewServer()
	h.SetServingStatus(grpcService, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, h)
	if err := s.Serve(gl); err != nil {
		fmt.Fprintln(os.Stderr, "grpc backend:", err)
		os.Exit(1)
	}
}

// startL4BackendNetns creates a network namespace of its own (beside the
// HTTP backend's, on 10.99.1.0/30) with the TCP echo and gRPC backend
// inside, removed when the test ends.
func startL4BackendNetns(t *testing.T) {
	t.Helper()
	id := os.Getpid() % 10000
	name, hostIf, peer := fmt.Sprintf("e2e-l4-%d", id), fmt.Sprintf("e2l%d", id), fmt.Sprintf("e2m%d", id)
	var server *exec.Cmd
	t.Cleanup(func() {
		if server != nil && server.Process != nil {
			_ = server.Process.Kill()
			_ = server.Wait()
		}
		_ = ipCmd("link", "del", hostIf)
		_ = ipCmd("netns", "del", name)
	})
	for _, s := range [][]string{
		{"netns", "add", name},
		{"link", "add", hostIf, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", name},
		{"addr", "add", "10.99.1.1/30", "dev", hostIf},
		{"link", "set", hostIf, "up"},
		{"-n", name, "addr", "add", l4Backend + "/30", "dev", peer},
		{"-n", name, "link", "set", peer, "up"},
		{"-n", name, "link", "set", "lo", "up"},
	} {
		if err := ipCmd(s...); err != nil {
			t.Fatalf("creating the L4 backend's network namespace (needs root and iproute2): %v", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := selfsigned.Generate([]string{secureHost}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l4CA = certPEM
	server = exec.Command("ip", "netns", "exec", name, self)
	server.Env = append(os.Environ(),
		fmt.Sprintf("%s=%s:%d %s:%d %s:%d", l4BackendEnv, l4Backend, tcpPort, l4Backend, grpcPort, l4Backend, httpsPort),
		l4CertEnv+"="+string(certPEM), l4KeyEnv+"="+string(keyPEM))
	server.Stderr = os.Stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	for _, port := range []int{tcpPort, grpcPort, httpsPort} {
		addr := net.JoinHostPort(l4Backend, strconv.Itoa(port))
		eventually(t, 10*time.Second, func() string {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				return err.Error()
			}
			c.Close()
			return ""
		})
	}
}

// echo opens a TCP connection, reads the greeting, sends a line and reads
// it back: "" when the backend answered so.
func echo(addr, line string) string {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(c)
	greeting, err := r.ReadString('\n')
	if err != nil {
		return "reading the greeting: " + err.Error()
	}
	if strings.TrimSpace(greeting) != tcpGreeting {
		return "unexpected greeting " + strconv.Quote(greeting)
	}
	if _, err := fmt.Fprintln(c, line); err != nil {
		return err.Error()
	}
	back, err := r.ReadString('\n')
	if err != nil {
		return "reading the echo: " + err.Error()
	}
	if strings.TrimSpace(back) != line {
		return "echo " + strconv.Quote(back) + ", want " + strconv.Quote(line)
	}
	return ""
}

// TestGatewayRouteTraffic: real bytes through the local Gateway (Traefik)
// to a backend in a network namespace the test creates: TCP through a
// TCPRoute on the Gateway's TCP listener, at the address the status
// reports; a UDPRoute on a UDP listener, which Traefik does not support,
// reported with its reason and never Ready; a gRPC health check through a
// GRPCRoute; HTTPS to the backend through a BackendTLSPolicy that checks
// its certificate. (One function: the backend's network namespace is one
// per process.)
func TestGatewayRouteTraffic(t *testing.T) {
	if local == nil {
		t.Skip("needs the local cluster: its Traefik reaches the suite's network namespace (and its Gateway has the TCP listener)")
	}
	t.Parallel()
	startL4BackendNetns(t)

	t.Run("TCP through a TCPRoute", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t, "tcproute")
		applyExposure(t, ns, fmt.Sprintf(`
metadata: {name: echo}
spec:
  external: {addresses: [%s]}
  ports:
    - name: echo
      port: %d
      gatewayRoute: {kind: TCPRoute, parentRefs: [{name: %s, namespace: %s, sectionName: %s}]}
`, l4Backend, tcpPort, cluster.GatewayName, cluster.GatewayNamespace, cluster.GatewayListenerTCP))
		exp := waitReady(t, ns, "echo", 90*time.Second)
		var addr string
		for _, a := range exp.Status.Addresses {
			if a.Type == v1alpha1.AddressTCPRoute {
				addr = net.JoinHostPort(a.Address, strconv.Itoa(int(a.Port)))
			}
		}
		if addr != local.GatewayTCP {
			t.Fatalf("TCPRoute address in status = %q, want the Gateway's TCP listener %s: %+v", addr, local.GatewayTCP, exp.Status.Addresses)
		}
		eventually(t, 30*time.Second, func() string { return echo(addr, "ping through the TCPRoute") })
	})

	t.Run("UDPRoute on a listener Traefik does not support", func(t *testing.T) {
		t.Parallel()
		ns := newNamespace(t, "udproute")
		// A Gateway of its own: a listener Traefik refuses makes the whole
		// Gateway not Accepted. Its port is an entrypoint's (Traefik
		// checks that first), so the refusal is the protocol's.
		_, port, _ := net.SplitHostPort(local.GatewayTCP)
		p, _ := strconv.ParseInt(port, 10, 64)
		gw := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
			"metadata": map[string]any{"namespace": ns, "name": "udp"},
			"spec": map[string]any{"gatewayClassName": cluster.GatewayClassName, "listeners": []any{
				map[string]any{"name": "dns", "protocol": "UDP", "port": p},
			}},
		}}
		if err := k8s.Create(ctx, gw); err != nil {
			t.Fatalf("creating the UDP Gateway: %v", err)
		}
		applyExposure(t, ns, fmt.Sprintf(`
metadata: {name: dns}
spec:
  external: {addresses: [%s]}
  ports:
    - name: dns
      port: 53
      protocol: UDP
      gatewayRoute: {kind: UDPRoute, parentRefs: [{name: udp, namespace: %s, sectionName: dns}]}
`, l4Backend, ns))
		eventually(t, 60*time.Second, func() string {
			exp := getExposure(t, ns, "dns")
			c := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionPortRoutesReady)
			s := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionStalled)
			if c == nil || c.Status != metav1.ConditionFalse || c.Reason != "UnsupportedProtocol" || s == nil || s.Status != metav1.ConditionTrue {
				return "want PortRoutesReady False and Stalled with Traefik's UnsupportedProtocol: " + conditions(exp)
			}
			t.Logf("refused: %s", c.Message)
			return ""
		})
		// Never Ready, and no address, for as long as we look.
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			exp := getExposure(t, ns, "dns")
			if meta.IsStatusConditionTrue(exp.Status.Conditions, v1alpha1.ConditionReady) {
				t.Fatalf("Ready with a UDPRoute no Gateway accepted: %s", conditions(exp))
			}
			for _, a := range exp.Status.Addresses {
				if a.Type == v1alpha1.AddressUDPRoute {
					t.Fatalf("a UDPRoute address no Gateway serves: %+v", a)
				}
			}
		}
	})

	t.Run("gRPC through a GRPCRoute", func(t *testing.T) {
		t.Parallel()
		g := gatewayFor(t)
		ns := newNamespace(t, "grpcroute")
		applyExposure(t, ns, fmt.Sprintf(`
metadata: {name: greeter}
spec:
  external: {addresses: [%s]}
  ports: [{name: grpc, port: %d, appProtocol: kubernetes.io/h2c}]
  ingress:
    frontDoors: [HTTPRoute]
    backendProtocol: GRPC
    gateway: {parentRefs: [%s]}
    rules: [{host: greeter.e2e.example, paths: [{path: /}]}]
`, l4Backend, grpcPort, g.parentRef(g.listener)))
		waitReady(t, ns, "greeter", 90*time.Second)
		front := g.listenerAddress(t)
		conn, err := grpc.NewClient(front, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority("greeter.e2e.example"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		hc := healthpb.NewHealthClient(conn)
		eventually(t, 30*time.Second, func() string {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			resp, err := hc.Check(cctx, &healthpb.HealthCheckRequest{Service: grpcService})
			if err != nil {
				return err.Error()
			}
			if resp.Status != healthpb.HealthCheckResponse_SERVING {
				return "health: " + resp.Status.String()
			}
			return ""
		})
	})
	t.Run("HTTPS to the backend through a BackendTLSPolicy", func(t *testing.T) {
		t.Parallel()
		g := gatewayFor(t)
		ns := newNamespace(t, "backendtls")
		ca := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "secure-ca"}, Data: map[string]string{"ca.crt": string(l4CA)}}
		if err := k8s.Create(ctx, ca); err != nil {
			t.Fatalf("creating the CA ConfigMap: %v", err)
		}
		applyExposure(t, ns, fmt.Sprintf(`
metadata: {name: secure}
spec:
  external: {addresses: [%s]}
  ports: [{name: https, port: 443, targetPort: %d}]
  ingress:
    frontDoors: [HTTPRoute]
    backendProtocol: HTTPS
    backendTLS: {hostname: %s, caConfigMap: secure-ca}
    gateway: {parentRefs: [%s]}
    rules: [{host: secure-front.e2e.example, paths: [{path: /}]}]
`, l4Backend, httpsPort, secureHost, g.parentRef(g.listener)))
		exp := waitReady(t, ns, "secure", 90*time.Second)
		t.Logf("HTTPRouteReady: %s", meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionHTTPRouteReady).Message)
		front := g.listenerAddress(t)
		hc := &http.Client{Timeout: 3 * time.Second}
		eventually(t, 30*time.Second, func() string {
			req, _ := http.NewRequest(http.MethodGet, "http://"+front+"/", nil)
			req.Host = "secure-front.e2e.example"
			resp, err := hc.Do(req)
			if err != nil {
				return err.Error()
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "over TLS (SNI "+secureHost+")") {
				return fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
			}
			return ""
		})
	})
}
