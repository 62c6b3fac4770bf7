package apply_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/controllers/apply"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/internal/scheme"
)

// goldenChildren are the children of every render golden case whose kind
// the scheme knows (the kinds a create sends typed), with their namespace
// set to ns, and without what the API server allocates (dropAllocated), so
// that the same object can be created twice.
func goldenChildren(t *testing.T, ns string) []*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "render", "testdata", "*", "expected.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	var out []*unstructured.Unstructured
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := d.Decode(&u.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(u.Object) == 0 || !scheme.Scheme.Recognizes(u.GroupVersionKind()) || u.GetNamespace() == "" {
				continue
			}
			u.SetNamespace(ns)
			u.SetName(filepath.Base(filepath.Dir(f)) + "-" + strings.ToLower(u.GetKind()) + "-" + u.GetName())
			dropAllocated(u)
			out = append(out, u)
		}
	}
	return out
}

// dropAllocated removes what the API server allocates uniquely to a
// Service (cluster IPs, node ports, the health-check node port): a golden
// child holds fixed values, which a second create could not get, and two
// creates get different ones.
func dropAllocated(u *unstructured.Unstructured) {
	if u.GetKind() != "Service" {
		return
	}
	for _, f := range []string{"clusterIP", "clusterIPs", "healthCheckNodePort"} {
		unstructured.RemoveNestedField(u.Object, "spec", f)
	}
	if ports, ok, _ := unstructured.NestedSlice(u.Object, "spec", "ports"); ok {
		for _, p := range ports {
			delete(p.(map[string]any), "nodePort")
		}
		_ = unstructured.SetNestedSlice(u.Object, ports, "spec", "ports")
	}
}

// comparable is what two creates of the same desired object must agree
// on: everything but what the API server assigns per object.
func comparable(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	for _, f := range [][]string{
		{"metadata", "namespace"}, {"metadata", "uid"}, {"metadata", "resourceVersion"}, {"metadata", "creationTimestamp"},
		{"metadata", "managedFields"}, {"metadata", "generation"}, {"status"},
	} {
		unstructured.RemoveNestedField(c.Object, f...)
	}
	dropAllocated(c)
	return c.Object
}

// A create sends a known kind typed (protobuf), and the API server must
// store exactly what the JSON create of the same rendered object stores,
// defaults included, for every child the golden cases render; and the
// create's field-ownership record must own the same fields.
func TestTypedCreateStoresWhatJSONStores(t *testing.T) {
	ctx, a, _, owner := setup(t)
	jsonNS := newNamespace(t, ctx)
	children := goldenChildren(t, owner.Namespace)
	if len(children) < 50 {
		t.Fatalf("only %d golden children of known kinds", len(children))
	}
	kinds := map[string]bool{}
	for _, desired := range children {
		desired.SetOwnerReferences(nil) // no Exposure "owns" them here
		_, terr := a.Apply(ctx, apply.Owner{Namespace: owner.Namespace, Name: "none"}, desired)
		// The same object, with the hash annotation Apply added, created
		// as JSON by the unstructured client.
		viaJSON := desired.DeepCopy()
		viaJSON.SetNamespace(jsonNS)
		if terr == nil {
			viaJSON.SetAnnotations(live(t, ctx, desired).GetAnnotations())
		}
		jerr := env.Client.Create(ctx, viaJSON, client.FieldOwner(names.FieldOwner))
		if apierrors.IsInvalid(jerr) {
			// What the test cluster cannot hold (IPv6 Services on a
			// single-stack cluster) must be refused the same way.
			if !apierrors.IsInvalid(terr) {
				t.Errorf("%s %s: the JSON create was refused (%v), the typed one: %v", desired.GetKind(), desired.GetName(), jerr, terr)
			}
			continue
		}
		if jerr != nil || terr != nil {
			t.Fatalf("creating %s %s: JSON %v, typed %v", desired.GetKind(), desired.GetName(), jerr, terr)
		}
		typed, stored := live(t, ctx, desired), live(t, ctx, viaJSON)
		if !equality.Semantic.DeepEqual(comparable(typed), comparable(stored)) {
			t.Errorf("%s %s: the typed create stored\n%v\nthe JSON create\n%v", desired.GetKind(), desired.GetName(), comparable(typed), comparable(stored))
		}
		tf, jf := typed.GetManagedFields(), stored.GetManagedFields()
		if len(tf) != 1 || len(jf) != 1 {
			t.Errorf("%s %s: %d field-ownership records after the typed create, %d after the JSON one; want 1 each", desired.GetKind(), desired.GetName(), len(tf), len(jf))
		} else if a, b := tf[0].FieldsV1.GetRawString(), jf[0].FieldsV1.GetRawString(); a != b {
			t.Errorf("%s %s: field ownership differs: typed %s, JSON %s", desired.GetKind(), desired.GetName(), a, b)
		}
		kinds[desired.GetKind()] = true
	}
	for _, k := range []string{"Deployment", "Service", "Ingress", "NetworkPolicy", "EndpointSlice"} {
		if !kinds[k] {
			t.Errorf("no golden child of kind %s was compared", k)
		}
	}
}

// A field the type does not have (a patch's typo) is refused by the API
// server's strict validation, which names it, exactly as before the
// creates were typed: such content is sent as it is, not converted (which
// would drop the field).
func TestUnknownFieldIsRefusedByName(t *testing.T) {
	ctx, a, _, owner := setup(t)
	desired := child(t, owner, deploymentV1)
	containers, _, _ := unstructured.NestedSlice(desired.Object, "spec", "template", "spec", "containers")
	containers[0].(map[string]any)["imagePullPolicyy"] = "Always"
	_ = unstructured.SetNestedSlice(desired.Object, containers, "spec", "template", "spec", "containers")
	_, err := a.Apply(ctx, owner, desired)
	if err == nil || !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "imagePullPolicyy") {
		t.Fatalf("Apply with an unknown field: %v; want the API server's refusal naming the field", err)
	}
}
