package controllers_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// This file sorts after metallb_test.go and multus_test.go on purpose:
// those tests start without the MetalLB and NAD CRDs, which these install.

// restoreDeadline is how soon drift must be undone: a watch event and one
// reconcile, with room for a busy machine.
const restoreDeadline = 2 * time.Second

// everyKind is an Exposure with a child of every kind the operator makes
// in its namespace and in MetalLB's; its pool holds 192.168.<octet>.10-20.
func everyKind(octet int) string {
	return fmt.Sprintf(`
spec:
  workload:
    image: nginx:1.27
    replicas: 2
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80}]
  service: {type: LoadBalancer}
  loadBalancer: {addresses: [192.168.%[1]d.10-192.168.%[1]d.20]}
  ingress:
    rules: [{host: shop.example.com, paths: [{path: /}]}]
    tls: {selfSigned: true}
  networkPolicy: {enabled: true}
  secondaryNetworks:
    - name: data
      type: macvlan
      master: ens5
      mode: bridge
      ipam: {whereabouts: {range: 192.168.78.0/24}}
`, octet)
}

// externalOnly is an Exposure whose EndpointSlice is the operator's own.
const externalOnly = `
spec:
  external: {addresses: [192.0.2.10]}
  ports: [{name: pg, port: 5432}]
`

// child names one object an Exposure named exp in ns owns, and an edit
// that drifts a field the operator owns.
type child struct {
	apiVersion, kind string
	namespace, name  string
	pointer          string // JSON pointer of the drifted field
	drifted          any
	// regenerated: restoring writes a fresh value (a new certificate)
	// rather than the old one.
	regenerated bool
}

func childrenOf(ns, exp, ext string) []child {
	pool := names.Pool(ns, exp)
	return []child{
		{apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: exp, pointer: "/spec/replicas", drifted: 7},
		// Not .port: ports are a list keyed by port and protocol, so a
		// changed port is someone else's new entry, which server-side
		// apply rightly leaves next to ours.
		{apiVersion: "v1", kind: "Service", namespace: ns, name: exp, pointer: "/spec/ports/0/targetPort", drifted: 9999},
		{apiVersion: "networking.k8s.io/v1", kind: "Ingress", namespace: ns, name: exp, pointer: "/spec/rules/0/host", drifted: "evil.example.com"},
		{apiVersion: "v1", kind: "Secret", namespace: ns, name: names.SelfSignedSecret(exp), pointer: "/data/tls.crt",
			drifted: base64.StdEncoding.EncodeToString([]byte("not a certificate")), regenerated: true},
		// An empty peer list would admit every source.
		{apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", namespace: ns, name: names.NetworkPolicy(exp), pointer: "/spec/ingress/0/from", drifted: []any{}},
		{apiVersion: "k8s.cni.cncf.io/v1", kind: "NetworkAttachmentDefinition", namespace: ns, name: names.NetworkAttachmentDefinition(exp, "data"),
			pointer: "/spec/config", drifted: `{"cniVersion":"0.3.1","type":"host-device","device":"eth0"}`},
		{apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", namespace: ns, name: names.EndpointSlice(ext, "ipv4"), pointer: "/endpoints/0/addresses/0", drifted: "192.0.2.99"},
		{apiVersion: "metallb.io/v1beta1", kind: "IPAddressPool", namespace: metallbNS, name: pool, pointer: "/spec/addresses/0", drifted: "192.168.99.0/24"},
		{apiVersion: "metallb.io/v1beta1", kind: "L2Advertisement", namespace: metallbNS, name: pool, pointer: "/spec/ipAddressPools/0", drifted: "someone-elses-pool"},
	}
}

func (c child) String() string { return c.kind + " " + c.namespace + "/" + c.name }

func (c child) get(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(c.apiVersion)
	u.SetKind(c.kind)
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: c.namespace, Name: c.name}, u); err != nil {
		t.Fatalf("%s: %v", c, err)
	}
	return u
}

func (c child) patch(t *testing.T, pt types.PatchType, patch any) {
	t.Helper()
	b, err := json.Marshal(patch)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(c.apiVersion)
	u.SetKind(c.kind)
	u.SetNamespace(c.namespace)
	u.SetName(c.name)
	if err := env.Client.Patch(ctx, u, client.RawPatch(pt, b), client.FieldOwner("someone-else")); err != nil {
		t.Fatalf("%s: patching %s: %v", c, b, err)
	}
}

// valueAt reads a JSON pointer (RFC 6901, without escapes) from an object.
func valueAt(obj map[string]any, pointer string) any {
	var cur any = obj
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

// sameJSON compares values as JSON, so 7 and int64(7) are equal.
func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// waitRestored waits for cond, failing if it takes longer than the deadline,
// and returns how long it took.
func waitRestored(t *testing.T, what string, cond func() string) time.Duration {
	t.Helper()
	start := time.Now()
	testenv.Eventually(t, restoreDeadline, func() string {
		if msg := cond(); msg != "" {
			return what + ": " + msg
		}
		return ""
	})
	return time.Since(start)
}

func installOptionalCRDs(t *testing.T) {
	t.Helper()
	paths, err := testenv.MetalLBCRDPaths()
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.InstallCRDs(env.Config, append(paths, testenv.NADCRDPath())...); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: metallbNS}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// TestEveryChildIsRestored: for every kind of child, a field the operator
// owns edited by someone else, the controller reference stripped, or the
// whole object deleted, is restored within restoreDeadline; an annotation
// someone else added is kept. Stripping the Exposure's finalizer puts it
// back too.
func TestEveryChildIsRestored(t *testing.T) {
	installOptionalCRDs(t)
	startManager(t)
	ns := newNamespace(t)
	exp := createExposure(t, ns, "metadata: {name: full}"+everyKind(77))
	ext := createExposure(t, ns, "metadata: {name: ext}"+externalOnly)
	waitCondition(t, ns, "full", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")
	waitCondition(t, ns, "ext", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")

	var slowest time.Duration
	note := func(d time.Duration) { slowest = max(slowest, d) }
	for _, c := range childrenOf(ns, "full", "ext") {
		owner := exp
		if c.kind == "EndpointSlice" {
			owner = ext
		}
		t.Run(c.kind, func(t *testing.T) {
			before := c.get(t)
			want := valueAt(before.Object, c.pointer)
			if want == nil {
				t.Fatalf("%s has no %s: %v", c, c.pointer, before.Object)
			}

			// 1. Someone annotates the object, then edits a field we own.
			c.patch(t, types.MergePatchType, map[string]any{"metadata": map[string]any{"annotations": map[string]any{"team.example.com/owner": "payments"}}})
			c.patch(t, types.JSONPatchType, []map[string]any{{"op": "replace", "path": c.pointer, "value": c.drifted}})
			note(waitRestored(t, "edited "+c.pointer, func() string {
				now := valueAt(c.get(t).Object, c.pointer)
				switch {
				case sameJSON(now, c.drifted):
					return fmt.Sprintf("still %v", now)
				case !c.regenerated && !sameJSON(now, want):
					return fmt.Sprintf("%v, want %v", now, want)
				}
				return ""
			}))
			if got := c.get(t).GetAnnotations()["team.example.com/owner"]; got != "payments" {
				t.Errorf("%s: an annotation someone else added was removed (now %q)", c, got)
			}

			// 2. Someone strips the controller reference (same
			// namespace children; the others are ours by label).
			if c.namespace == ns {
				c.patch(t, types.JSONPatchType, []map[string]any{{"op": "remove", "path": "/metadata/ownerReferences"}})
				note(waitRestored(t, "stripped owner reference", func() string {
					ref := metav1.GetControllerOf(c.get(t))
					if ref == nil || ref.UID != owner.UID {
						return fmt.Sprintf("controller reference %v", ref)
					}
					return ""
				}))
			}

			// 3. Someone deletes it.
			if err := env.Client.Delete(ctx, before); err != nil {
				t.Fatal(err)
			}
			note(waitRestored(t, "deleted", func() string {
				u := &unstructured.Unstructured{}
				u.SetGroupVersionKind(before.GroupVersionKind())
				if err := env.Client.Get(ctx, client.ObjectKeyFromObject(before), u); err != nil {
					return err.Error()
				}
				if u.GetUID() == before.GetUID() {
					return "not recreated yet"
				}
				return ""
			}))
		})
	}

	// The finalizer that guards the MetalLB pool's cleanup. With its
	// address assigned the Exposure has no timed retry pending, so only the
	// watch can notice.
	actAsLoadBalancer(t, ns, "full", "192.168.77.10")
	waitCondition(t, ns, "full", v1alpha1.ConditionAddressesAssigned, metav1.ConditionTrue, "")
	patch := client.RawPatch(types.JSONPatchType, []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`))
	if err := env.Client.Patch(ctx, exp, patch); err != nil {
		t.Fatal(err)
	}
	note(waitRestored(t, "stripped finalizer", func() string {
		if f := getExposure(t, ns, "full").Finalizers; !slices.Contains(f, names.Finalizer) {
			return fmt.Sprintf("finalizers %v", f)
		}
		return ""
	}))
	t.Logf("slowest restore: %v (deadline %v)", slowest.Round(time.Millisecond), restoreDeadline)
}

// foreignObjects are valid objects of every kind, made by someone else.
var foreignObjects = map[string]string{
	"Deployment": `spec:
  selector: {matchLabels: {app: legacy}}
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: app, image: legacy:1}]}`,
	"Service":                     `spec: {ports: [{port: 5432}], selector: {app: legacy}}`,
	"Ingress":                     `spec: {defaultBackend: {service: {name: legacy, port: {number: 80}}}}`,
	"Secret":                      `type: Opaque`,
	"NetworkPolicy":               `spec: {podSelector: {matchLabels: {app: legacy}}}`,
	"NetworkAttachmentDefinition": `spec: {config: '{"cniVersion":"0.3.1","type":"bridge"}'}`,
	"EndpointSlice": `addressType: IPv4
endpoints: [{addresses: [192.0.2.50]}]`,
	"IPAddressPool":   `spec: {addresses: [192.168.97.0/24]}`,
	"L2Advertisement": `spec: {}`,
}

// TestForeignObjectsOfEveryKindAreLeftAlone: an object of the name a child
// would have, made by someone else, is never modified; the Exposure is
// Stalled with reason Conflict naming it, with a Warning Event. When the
// object in the way is the NetworkPolicy, no Service, EndpointSlice or
// Ingress is opened without it.
func TestForeignObjectsOfEveryKindAreLeftAlone(t *testing.T) {
	installOptionalCRDs(t)
	startManager(t)
	for i, kind := range slices.Sorted(maps.Keys(foreignObjects)) {
		t.Run(kind, func(t *testing.T) {
			ns := newNamespace(t)
			children := childrenOf(ns, "web", "web")
			c := children[slices.IndexFunc(children, func(o child) bool { return o.kind == kind })]
			theirs := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(foreignObjects[c.kind]), &theirs.Object); err != nil {
				t.Fatal(err)
			}
			theirs.SetAPIVersion(c.apiVersion)
			theirs.SetKind(c.kind)
			theirs.SetNamespace(c.namespace)
			theirs.SetName(c.name)
			theirs.SetLabels(map[string]string{"owner": "someone-else"})
			if err := env.Client.Create(ctx, theirs); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = env.Client.Delete(ctx, theirs) })

			spec := everyKind(100 + i)
			if c.kind == "EndpointSlice" {
				spec = externalOnly
			}
			createExposure(t, ns, "metadata: {name: web}"+spec)
			exp := waitCondition(t, ns, "web", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonConflict)
			if msg := findCond(exp, v1alpha1.ConditionStalled).Message; !strings.Contains(msg, c.String()) {
				t.Errorf("the Stalled message must name %s: %q", c, msg)
			}
			eventually(t, 5*time.Second, func() string {
				for _, e := range eventsFor(t, ns, "web") {
					if e.Type == corev1.EventTypeWarning && e.Reason == v1alpha1.ReasonConflict && strings.Contains(e.Note, c.name) {
						return ""
					}
				}
				return "no Warning Event Conflict naming " + c.name
			})
			if c.kind == "NetworkPolicy" {
				for _, door := range []client.Object{&corev1.Service{}, &networkingv1.Ingress{}} {
					if err := env.Client.Get(ctx, key(ns, "web"), door); !apierrors.IsNotFound(err) {
						t.Errorf("%T opened while the NetworkPolicy guarding it is blocked: %v", door, err)
					}
				}
			}
			// A few more reconciles (retries of the stall) must not touch it.
			time.Sleep(1500 * time.Millisecond)
			after := c.get(t)
			if after.GetResourceVersion() != theirs.GetResourceVersion() {
				t.Errorf("%s was modified: resourceVersion %s -> %s", c, theirs.GetResourceVersion(), after.GetResourceVersion())
			}
			if !reflect.DeepEqual(after.GetLabels(), theirs.GetLabels()) || len(after.GetOwnerReferences()) != 0 {
				t.Errorf("%s was adopted: labels %v, owners %v", c, after.GetLabels(), after.GetOwnerReferences())
			}
		})
	}
}
