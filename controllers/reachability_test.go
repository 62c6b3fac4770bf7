package controllers_test

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/probe"
)

// loopbackServer accepts TCP connections on a fixed loopback port and
// counts them; stop and start simulate a workload going down and up.
type loopbackServer struct {
	t     *testing.T
	addr  string
	l     net.Listener
	count atomic.Int32
}

func newLoopbackServer(t *testing.T) *loopbackServer {
	s := &loopbackServer{t: t, addr: "127.0.0.1:0"}
	s.start()
	s.addr = s.l.Addr().String()
	t.Cleanup(s.stop)
	return s
}

func (s *loopbackServer) start() {
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.l = l
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.count.Add(1)
			_ = c.Close()
		}
	}()
}

func (s *loopbackServer) stop() { _ = s.l.Close() }

func (s *loopbackServer) port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// exposeOnLoopbackLB creates the Exposure "web" in front of the server's
// port as a LoadBalancer Service, and publishes 127.0.0.1 as its
// load-balancer address, as MetalLB would.
func exposeOnLoopbackLB(t *testing.T, ns string, srv *loopbackServer, extraSpec string) {
	t.Helper()
	createExposure(t, ns, fmt.Sprintf(`
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: tcp, port: %d}]
  service: {type: LoadBalancer}
  %s
`, srv.port(), extraSpec))
	actAsEndpointSliceController(t, ns, "web", "10.244.1.5")
	eventually(t, 10*time.Second, func() string {
		if len(getExposure(t, ns, "web").Status.Addresses) == 0 {
			return "no addresses yet"
		}
		return ""
	})
	actAsLoadBalancer(t, ns, "web", "127.0.0.1")
}

const probingPolicy = permissive + `
probe:
  allowedDestinations: [127.0.0.0/8]
  period: 1s
  timeout: 500ms
`

func reachabilityOf(e *v1alpha1.Exposure, typ v1alpha1.AddressType) *v1alpha1.AddressReachability {
	for _, a := range e.Status.Addresses {
		if a.Type == typ {
			return a.Reachability
		}
	}
	return nil
}

func waitReachable(t *testing.T, ns, name string, typ v1alpha1.AddressType, state v1alpha1.ReachabilityState, cond metav1.ConditionStatus) *v1alpha1.Exposure {
	t.Helper()
	var e *v1alpha1.Exposure
	eventually(t, 10*time.Second, func() string {
		e = getExposure(t, ns, name)
		r := reachabilityOf(e, typ)
		if r == nil || r.State != state {
			return fmt.Sprintf("%s address reachability %+v, want %s", typ, r, state)
		}
		if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReachable); c == nil || c.Status != cond {
			return fmt.Sprintf("Reachable %+v, want %s", c, cond)
		}
		return ""
	})
	return e
}

// TestReachability: with probing on, a load-balancer address that answers
// is Answered; when the workload stops answering it flips within two
// periods, with an Event, and back again when it answers; Ready waits for
// it only when the Exposure asks; addresses outside the allowed
// destinations (cluster IPs here) are reported NotProbed; a steady
// Exposure costs no writes, probe after probe.
func TestReachability(t *testing.T) {
	rm := startManagerWithPolicy(t, probingPolicy)
	ns := newNamespace(t)
	srv := newLoopbackServer(t)
	exposeOnLoopbackLB(t, ns, srv, "")

	e := waitReachable(t, ns, "web", v1alpha1.AddressLoadBalancer, v1alpha1.ReachabilityAnswered, metav1.ConditionTrue)
	if r := reachabilityOf(e, v1alpha1.AddressClusterIP); r == nil || r.State != v1alpha1.ReachabilityNotProbed || r.Reason != probe.ReasonDestinationNotAllowed {
		t.Errorf("a cluster IP (10.x) outside the allowed destinations must be NotProbed/DestinationNotAllowed: %+v", r)
	}
	if srv.count.Load() == 0 {
		t.Error("Answered without a connection to the listener")
	}

	// Steady: probes go on, the status is not written.
	time.Sleep(1500 * time.Millisecond)
	writes, probes := rm.writes.count(), srv.count.Load()
	time.Sleep(3500 * time.Millisecond)
	if got := rm.writes.since(writes, "/namespaces/"+ns+"/"); len(got) != 0 {
		t.Errorf("%d writes while nothing changed: %v", len(got), got)
	}
	if n := srv.count.Load() - probes; n < 2 {
		t.Errorf("%d probes in 3.5s with a 1s period", n)
	}

	// The workload stops answering: NotAnswering within two periods, an
	// Event, and Ready untouched (not required).
	srv.stop()
	stopped := time.Now()
	e = waitReachable(t, ns, "web", v1alpha1.AddressLoadBalancer, v1alpha1.ReachabilityNotAnswering, metav1.ConditionFalse)
	if d := time.Since(stopped); d > 2*1100*time.Millisecond+time.Second {
		t.Errorf("took %s to notice, more than two periods", d)
	}
	if r := reachabilityOf(e, v1alpha1.AddressLoadBalancer); r.Reason != probe.ReasonConnectionRefused {
		t.Errorf("reason %q, want ConnectionRefused", r.Reason)
	}
	if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Ready must not wait for reachability unless required: %s", conditionsString(e))
	}
	eventually(t, 5*time.Second, func() string {
		if countEvents(t, ns, "web", "AddressNotAnswering") != 1 {
			return "no AddressNotAnswering Event"
		}
		return ""
	})

	// Required: Ready follows Reachable.
	editSpec(t, ns, "web", func(s *v1alpha1.ExposureSpec) {
		s.Reachability = &v1alpha1.ReachabilityOptions{RequiredForReady: true}
	})
	waitCondition(t, ns, "web", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonNotAnswering)

	// It answers again: Answered, an Event, Ready.
	srv.start()
	waitReachable(t, ns, "web", v1alpha1.AddressLoadBalancer, v1alpha1.ReachabilityAnswered, metav1.ConditionTrue)
	waitCondition(t, ns, "web", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	eventually(t, 5*time.Second, func() string {
		if countEvents(t, ns, "web", "AddressAnswering") != 1 {
			return "no AddressAnswering Event"
		}
		return ""
	})
}

// TestProbeDestinationsOutsideThePolicyAreNeverDialled: the same address
// with the loopback range not allowed is reported NotProbed, and the
// listener behind it sees no connection at all.
func TestProbeDestinationsOutsideThePolicyAreNeverDialled(t *testing.T) {
	startManagerWithPolicy(t, permissive+`
probe:
  allowedDestinations: [127.0.0.2/32]
  period: 1s
  timeout: 500ms
`)
	ns := newNamespace(t)
	srv := newLoopbackServer(t)
	exposeOnLoopbackLB(t, ns, srv, "reachability: {requiredForReady: true}")
	e := waitReachable(t, ns, "web", v1alpha1.AddressLoadBalancer, v1alpha1.ReachabilityNotProbed, metav1.ConditionUnknown)
	if r := reachabilityOf(e, v1alpha1.AddressLoadBalancer); r.Reason != probe.ReasonDestinationNotAllowed {
		t.Errorf("load-balancer address: %+v, want NotProbed/DestinationNotAllowed", r)
	}
	if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReachable); c.Reason != v1alpha1.ReasonNothingProbed {
		t.Errorf("Reachable %+v, want NothingProbed", c)
	}
	if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("Ready must wait when reachability is required and nothing could be probed: %s", conditionsString(e))
	}
	time.Sleep(2500 * time.Millisecond)
	if n := srv.count.Load(); n != 0 {
		t.Errorf("the prober connected %d times to a destination the policy does not allow", n)
	}
	if !slices.ContainsFunc(e.Status.Addresses, func(a v1alpha1.ExposureAddress) bool { return a.Type == v1alpha1.AddressLoadBalancer }) {
		t.Error("no load-balancer address")
	}
}

// TestProbingOffLeavesStatusAsBefore: without a probe section in the
// policy nothing is probed and no address carries reachability; an
// Exposure that requires it says why it cannot be Ready.
func TestProbingOffLeavesStatusAsBefore(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
  reachability: {requiredForReady: true}
`)
	actAsEndpointSliceController(t, ns, "web", "10.244.1.5")
	e := waitCondition(t, ns, "web", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonProbingDisabled)
	if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReachable); c == nil || c.Status != metav1.ConditionUnknown {
		t.Errorf("Reachable %+v, want Unknown", c)
	}
	for _, a := range e.Status.Addresses {
		if a.Reachability != nil {
			t.Errorf("address %+v has reachability with probing off", a)
		}
	}
}
