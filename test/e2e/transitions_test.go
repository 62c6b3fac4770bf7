package e2e

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/controllers/render"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

// A state of the transition matrix: a valid spec, and what it must reach:
// Ready, or Stalled with a reason.
type matrixState struct {
	name string
	// spec is the spec body for chain c (each chain gets its own fixed
	// addresses and ports, so that chains running at once never collide).
	spec func(c int) string
	// stalled is the Stalled reason the spec must get; "" for Ready.
	stalled string
	// singleStackOnly: stalled applies on a cluster without IPv6 Services
	// only; on a dual-stack cluster the state must be Ready.
	singleStackOnly bool
}

// expectStall is the Stalled reason s must reach on this cluster.
func (s matrixState) expectStall(singleStack bool) string {
	if s.singleStackOnly && !singleStack {
		return ""
	}
	return s.stalled
}

// clusterSingleStack reports whether the cluster serves IPv4 Services only,
// from the families of the API server's own Service.
func clusterSingleStack(t *testing.T) bool {
	t.Helper()
	svc := &corev1.Service{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: "default", Name: "kubernetes"}, svc); err != nil {
		t.Fatalf("reading Service default/kubernetes: %v", err)
	}
	return !slices.Contains(svc.Spec.IPFamilies, corev1.IPv6Protocol)
}

const mWorkload = `
  workload: {image: nginx:1.27, replicas: 1, ports: [{name: http, containerPort: 8080}]}
  ports: [{name: http, port: 80, targetPort: http}]`

// matrixStates are the representative specs: every Service type, fixed and
// allocated addresses, each load-balancer source (fixed IP, operator-made
// pool, admin pool, auto-assignment), each backend kind (workload, selector,
// external addresses of each family, external hostname), Ingress with each
// TLS mode, NetworkPolicy, a secondary network, host ports, a UDP port, and
// two that must stall (a policy refusal; an IPv6-only Service, which an
// IPv4-only cluster refuses). Their number is prime (23).
var matrixStates = []matrixState{
	{name: "clusterip", spec: func(int) string { return mWorkload }},
	{name: "headless", spec: func(int) string { return mWorkload + "\n  service: {type: Headless}" }},
	{name: "clusterip-fixed", spec: func(c int) string {
		return mWorkload + fmt.Sprintf("\n  service: {clusterIP: 10.0.77.%d}", 10+c)
	}},
	{name: "nodeport", spec: func(int) string { return mWorkload + "\n  service: {type: NodePort}" }},
	{name: "nodeport-fixed", spec: func(c int) string {
		return fmt.Sprintf(`
  workload: {image: nginx:1.27, replicas: 1, ports: [{name: http, containerPort: 8080}]}
  ports: [{name: http, port: 80, targetPort: http, nodePort: %d}]
  service: {type: NodePort}`, 31700+c)
	}},
	{name: "lb-pool", spec: func(c int) string {
		return mWorkload + fmt.Sprintf("\n  service: {type: LoadBalancer}\n  loadBalancer: {addresses: [%s]}", matrixRange(c))
	}},
	{name: "lb-pool-ip", spec: func(c int) string {
		return mWorkload + fmt.Sprintf("\n  service: {type: LoadBalancer}\n  loadBalancer: {ip: %s, addresses: [%s]}", matrixIP(c, 2), matrixRange(c))
	}},
	{name: "lb-admin-pool", spec: func(int) string {
		return mWorkload + "\n  service: {type: LoadBalancer}\n  loadBalancer: {pool: shared}"
	}},
	{name: "selector", spec: func(int) string {
		return "\n  selector: {app: matrix-pods}\n  ports: [{name: http, port: 80, targetPort: 8080}]"
	}},
	{name: "external-v4", spec: func(int) string {
		return "\n  external: {addresses: [192.0.2.10, 192.0.2.11]}\n  ports: [{name: pg, port: 5432}]"
	}},
	{name: "external-dual", spec: func(int) string {
		return "\n  external: {addresses: [192.0.2.10, \"2001:db8::10\"]}\n  ports: [{name: pg, port: 5432}]"
	}},
	{name: "external-name", spec: func(int) string {
		return "\n  external: {hostname: db.example.com}\n  ports: [{name: pg, port: 5432}]"
	}},
	{name: "ingress", spec: func(c int) string {
		return mWorkload + fmt.Sprintf("\n  ingress: {rules: [{host: m%d.example.com, paths: [{path: /}]}]}", c)
	}},
	{name: "ingress-selfsigned", spec: func(c int) string {
		return mWorkload + fmt.Sprintf("\n  ingress: {rules: [{host: m%d.example.com, paths: [{path: /}]}], tls: {selfSigned: true}}", c)
	}},
	{name: "ingress-secret", spec: func(c int) string {
		return mWorkload + fmt.Sprintf("\n  ingress: {rules: [{host: m%d.example.com, paths: [{path: /}]}], tls: {secretName: matrix-tls}}", c)
	}},
	{name: "networkpolicy", spec: func(int) string { return mWorkload + "\n  networkPolicy: {enabled: true}" }},
	{name: "secondary", spec: func(c int) string {
		return mWorkload + fmt.Sprintf("\n  secondaryNetworks: [{name: storage, type: macvlan, master: ens4, ipam: {static: {addresses: [192.168.51.%d/24]}}}]", 10+c)
	}},
	{name: "hostports", spec: func(c int) string {
		return mWorkload + fmt.Sprintf("\n  hostAccess: {hostPorts: [{port: http, hostPort: %d}]}", 20000+c)
	}},
	{name: "policy-denied", stalled: v1alpha1.ReasonPolicyDenied, spec: func(int) string {
		return mWorkload + "\n  service: {type: LoadBalancer}\n  loadBalancer: {addresses: [10.99.0.0/30]}"
	}},
	{name: "lb-auto", spec: func(int) string { return mWorkload + "\n  service: {type: LoadBalancer}" }},
	// IPv6 backends alone need an IPv6 Service: a single-stack IPv4
	// cluster refuses it (matrixSingleStack), a dual-stack one serves it.
	{name: "external-v6", stalled: v1alpha1.ReasonApplyFailed, singleStackOnly: true, spec: func(int) string {
		return "\n  external: {addresses: [\"2001:db8::10\"]}\n  ports: [{name: pg, port: 5432}]"
	}},
	{name: "ingress-cert-manager", spec: func(c int) string {
		return mWorkload + fmt.Sprintf("\n  ingress: {rules: [{host: m%d.example.com, paths: [{path: /}]}], tls: {certManager: {issuer: letsencrypt}}}", c)
	}},
	{name: "multiport-udp", spec: func(int) string {
		return `
  workload: {image: nginx:1.27, replicas: 1, ports: [{name: http, containerPort: 8080}, {name: dns, containerPort: 5353, protocol: UDP}]}
  ports: [{name: http, port: 80, targetPort: http}, {name: dns, port: 53, protocol: UDP, targetPort: dns}]
  service: {type: NodePort}`
	}},
}

// matrixRange is chain c's own operator-made pool range (data for MetalLB
// only: nothing is sent to it).
func matrixRange(c int) string { return fmt.Sprintf("192.168.60.%d/30", 128+4*c) }
func matrixIP(c, i int) string { return fmt.Sprintf("192.168.60.%d", 128+4*c+i) }

// matrixChains is how many chains run at once; chain c walks every state
// with stride c+1 (the number of states is prime, so every stride visits
// all of them), so no two chains share an edge.
const matrixChains = 9

// matrixDeadline is how long each edge may take to converge.
const matrixDeadline = 30 * time.Second

type edgeResult struct {
	chain    int
	ns       string
	from, to string
	took     time.Duration
	start    time.Time
	end      time.Time // the next edge's start, or the chain's end
	children int       // children of A and B, for the write bound
	writes   int
}

// TestTransitionMatrix applies ordered pairs of specs A -> B in place, as a
// user's edits or an Argo CD sync do. For each edge, B converges within
// matrixDeadline to Ready (or to the stall it must get), exactly the
// children B renders exist in every namespace (nothing of A is left), the
// status addresses are those the live objects hold, and, on the local
// cluster, the operator's writes stay within a bound.
func TestTransitionMatrix(t *testing.T) {
	t.Parallel()
	ensureAdminPools(t)
	singleStack := clusterSingleStack(t)
	n := len(matrixStates)
	var mu sync.Mutex
	var edges []edgeResult
	for c := 0; c < matrixChains; c++ {
		t.Run(fmt.Sprintf("chain-%d", c), func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t, fmt.Sprintf("matrix-%d", c))
			t.Cleanup(func() {
				if t.Failed() {
					dumpNamespace(t, ns)
				}
			})
			prepareMatrix(t, ns, c)
			stride := c + 1
			// Start so that the first edge of each chain differs too.
			cur := c % n
			apply(t, ns, matrixStates[cur], c)
			waitState(t, ns, matrixStates[cur], c, singleStack)
			var chain []edgeResult
			for step := 0; step < n; step++ {
				next := (cur + stride) % n
				if next == cur {
					next = (next + 1) % n
				}
				from, to := matrixStates[cur], matrixStates[next]
				start := time.Now()
				apply(t, ns, to, c)
				took := waitState(t, ns, to, c, singleStack)
				if len(chain) > 0 {
					chain[len(chain)-1].end = start
				}
				chain = append(chain, edgeResult{chain: c, ns: ns, from: from.name, to: to.name, took: took, start: start,
					children: len(rendered(t, ns, from, c)) + len(rendered(t, ns, to, c))})
				if t.Failed() {
					t.Fatalf("edge %s -> %s failed", from.name, to.name)
				}
				cur = next
			}
			// Writes caused by the last edge settle within seconds.
			time.Sleep(3 * time.Second)
			chain[len(chain)-1].end = time.Now()
			mu.Lock()
			edges = append(edges, chain...)
			mu.Unlock()
		})
	}
	t.Cleanup(func() { reportMatrix(t, edges) })
}

// prepareMatrix creates what the states take for granted in a namespace,
// as `make run` does for the samples: the pods the selector state selects,
// the TLS Secret one state names.
func prepareMatrix(t *testing.T, ns string, c int) {
	t.Helper()
	need := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "exposure.dev/v1alpha1", "kind": "Exposure",
		"metadata": map[string]any{"name": "matrix"},
		"spec": map[string]any{
			"selector": map[string]any{"app": "matrix-pods"},
			"ports":    []any{map[string]any{"name": "http", "port": int64(8080)}},
			"ingress": map[string]any{
				"rules": []any{map[string]any{"host": fmt.Sprintf("m%d.example.com", c)}},
				"tls":   map[string]any{"secretName": "matrix-tls"},
			},
		},
	}}
	if err := cluster.PrepareSamples(ctx, k8s, ns, []cluster.Sample{{File: "matrix", Exposure: need}}); err != nil {
		t.Fatal(err)
	}
}

func matrixExposure(t *testing.T, ns string, s matrixState, c int) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	doc := "apiVersion: exposure.dev/v1alpha1\nkind: Exposure\nmetadata: {name: m, namespace: " + ns + "}\nspec:" + s.spec(c)
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatalf("state %s: %v", s.name, err)
	}
	return u
}

// apply applies a state as `kubectl apply --server-side` does: fields the
// new state leaves out are removed.
func apply(t *testing.T, ns string, s matrixState, c int) {
	t.Helper()
	u := matrixExposure(t, ns, s, c)
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		return k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldManager), client.ForceOwnership)
	}); err != nil {
		t.Fatalf("applying state %s: %v", s.name, err)
	}
}

// rendered are the identities of the children a state renders, as the
// operator renders them with the suite's policy (render's defaults).
func rendered(t *testing.T, ns string, s matrixState, c int) map[string]bool {
	t.Helper()
	exp := &v1alpha1.Exposure{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(matrixExposure(t, ns, s, c).Object, exp); err != nil {
		t.Fatal(err)
	}
	objs, err := render.Render(exp, render.DefaultOptions())
	if err != nil {
		t.Fatalf("rendering state %s: %v", s.name, err)
	}
	out := map[string]bool{}
	for _, o := range objs {
		out[o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName()] = true
	}
	if in := exp.Spec.Ingress; in != nil && in.TLS != nil && in.TLS.SelfSigned != nil && *in.TLS.SelfSigned {
		out["Secret "+ns+"/"+names.SelfSignedSecret("m")] = true
	}
	return out
}

// childKinds are every kind the operator makes, where it makes them.
var childKinds = []struct {
	gvk       schema.GroupVersionKind
	elsewhere bool // in the MetalLB namespace, found by label
}{
	{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, false},
	{schema.GroupVersionKind{Version: "v1", Kind: "Service"}, false},
	{schema.GroupVersionKind{Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSlice"}, false},
	{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"}, false},
	{schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, false},
	{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}, false},
	{schema.GroupVersionKind{Group: "k8s.cni.cncf.io", Version: "v1", Kind: "NetworkAttachmentDefinition"}, false},
	{schema.GroupVersionKind{Group: "metallb.io", Version: "v1beta1", Kind: "IPAddressPool"}, true},
	{schema.GroupVersionKind{Group: "metallb.io", Version: "v1beta1", Kind: "L2Advertisement"}, true},
	{schema.GroupVersionKind{Group: "metallb.io", Version: "v1beta1", Kind: "BGPAdvertisement"}, true},
}

// liveChildren lists what the operator made for Exposure m of ns, in every
// namespace.
func liveChildren(t *testing.T, ns string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, k := range childKinds {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(k.gvk.GroupVersion().WithKind(k.gvk.Kind + "List"))
		opts := []client.ListOption{client.MatchingLabels{names.ManagedByLabel: names.ManagedByValue, names.ExposureLabel: "m"}}
		if k.elsewhere {
			opts = append(opts, client.MatchingLabels{names.ExposureNamespaceLabel: ns})
		} else {
			opts = append(opts, client.InNamespace(ns))
		}
		if err := k8s.List(ctx, l, opts...); err != nil {
			t.Fatalf("listing %s: %v", k.gvk.Kind, err)
		}
		for _, o := range l.Items {
			if o.GetDeletionTimestamp() != nil {
				continue
			}
			// The EndpointSlices kube-controller-manager makes for our
			// Service inherit its labels, and are its, not ours.
			if ref := metav1.GetControllerOf(&o); !k.elsewhere && (ref == nil || ref.Kind != "Exposure") {
				continue
			}
			out[k.gvk.Kind+" "+o.GetNamespace()+"/"+o.GetName()] = true
		}
	}
	return out
}

// waitState waits until Exposure m of ns has reached what state s must
// reach, and checks its children and addresses; it returns how long that
// took.
func waitState(t *testing.T, ns string, s matrixState, c int, singleStack bool) time.Duration {
	t.Helper()
	start := time.Now()
	stalled := s.expectStall(singleStack)
	want := rendered(t, ns, s, c)
	var exp *v1alpha1.Exposure
	eventually(t, matrixDeadline, func() string {
		exp = getExposure(t, ns, "m")
		if exp.Status.ObservedGeneration != exp.Generation {
			return fmt.Sprintf("%s: generation %d not observed yet", s.name, exp.Generation)
		}
		if stalled != "" {
			if c := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionTrue || c.Reason != stalled {
				return fmt.Sprintf("%s: not Stalled/%s: %s", s.name, stalled, conditions(exp))
			}
			return ""
		}
		// Converged: Ready, and nothing still changing (a rollout keeps
		// Ready True with Reconciling True until it is done).
		if c := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue ||
			meta.IsStatusConditionTrue(exp.Status.Conditions, v1alpha1.ConditionReconciling) {
			return fmt.Sprintf("%s: not Ready and settled: %s", s.name, conditions(exp))
		}
		if got := liveChildren(t, ns); !sameSet(got, want) {
			return fmt.Sprintf("%s: children %v, want exactly %v", s.name, keys(got), keys(want))
		}
		return ""
	})
	took := time.Since(start)
	if stalled == "" && !t.Failed() {
		checkAddresses(t, exp)
	}
	return took
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// writesPerEdge is the bound on the operator's writes for one edge: a
// delete of each child of A and an apply of each child of B at most, plus
// the finalizer (added and removed), a status write per part that comes
// ready, and the Events that say what happened.
func writesPerEdge(e edgeResult) int { return e.children + 12 }

// reportMatrix prints the matrix's table and, on the local cluster, checks
// the operator's writes per edge (from the API server's audit log).
func reportMatrix(t *testing.T, edges []edgeResult) {
	if len(edges) == 0 {
		return
	}
	measured := false
	if local != nil {
		time.Sleep(2 * time.Second) // the audit log is written in 1 s batches
		writes, err := local.Writes("exposure-manager")
		if err != nil {
			t.Errorf("reading the audit log: %v", err)
		} else {
			measured = true
			for i := range edges {
				e := &edges[i]
				pool := names.Pool(e.ns, "m")
				for _, w := range writes {
					if w.Time.Before(e.start) || !w.Time.Before(e.end) {
						continue
					}
					if w.Namespace == e.ns || (w.Namespace != "" && strings.HasPrefix(w.Name, pool)) {
						e.writes++
					}
				}
				if e.writes > writesPerEdge(*e) {
					t.Errorf("edge %s -> %s (chain %d): %d writes, bound %d", e.from, e.to, e.chain, e.writes, writesPerEdge(*e))
				}
			}
		}
	}
	type row struct {
		to    string
		took  []time.Duration
		write []int
	}
	rows := map[string]*row{}
	var all []time.Duration
	var allW []int
	for _, e := range edges {
		r := rows[e.to]
		if r == nil {
			r = &row{to: e.to}
			rows[e.to] = r
		}
		r.took = append(r.took, e.took)
		r.write = append(r.write, e.writes)
		all = append(all, e.took)
		allW = append(allW, e.writes)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "transition matrix: %d edges into %d states (%d chains)\n", len(edges), len(rows), matrixChains)
	fmt.Fprintln(w, "to state\tedges\tconverge p50\tconverge max\twrites p50\twrites max")
	order := make([]string, 0, len(rows))
	for k := range rows {
		order = append(order, k)
	}
	sort.Strings(order)
	line := func(name string, took []time.Duration, ws []int) {
		wp, wm := "-", "-"
		if measured {
			wp, wm = fmt.Sprint(pctInt(ws, 50)), fmt.Sprint(pctInt(ws, 100))
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", name, len(took), pct(took, 50).Round(10*time.Millisecond), pct(took, 100).Round(10*time.Millisecond), wp, wm)
	}
	for _, k := range order {
		line(k, rows[k].took, rows[k].write)
	}
	line("ALL", all, allW)
	_ = w.Flush()
}

func pct(ds []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}

func pctInt(xs []int, p int) int {
	s := append([]int(nil), xs...)
	sort.Ints(s)
	return s[(len(s)-1)*p/100]
}
