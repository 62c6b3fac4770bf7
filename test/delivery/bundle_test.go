package delivery_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/internal/delivery"
)

const csvFile = "bundle/manifests/exposure-operator.clusterserviceversion.yaml"

// The committed bundle is exactly what `make bundle` generates from the
// current tree, and generating it twice gives the same bytes.
func TestBundleIsUpToDate(t *testing.T) {
	o := bundleOptions(t)
	files, err := delivery.GenerateBundle(o)
	if err != nil {
		t.Fatal(err)
	}
	again, err := delivery.GenerateBundle(o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(files, again) {
		t.Fatal("two generations of the bundle differ: the generator is not deterministic")
	}
	diffs, err := delivery.DiffBundle(root, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("%s (run 'make bundle' and commit)", d)
	}
}

// The bundle passes the checks of `operator-sdk bundle validate
// --select-optional suite=operatorframework` without an error or a
// warning.
func TestBundleValidates(t *testing.T) {
	errs, warns, err := delivery.ValidateBundle(filepath.Join(root, "bundle"), makeVars(t)["BUNDLE_K8S_VERSION"])
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("validation error: %s", e)
	}
	for _, w := range warns {
		t.Errorf("validation warning: %s", w)
	}
	t.Logf("bundle: %d validators, %d errors, %d warnings", len(delivery.BundleValidators), len(errs), len(warns))
}

// The validators do find problems: the clean result above is not an
// accident of a validator set that checks nothing.
func TestBundleValidatorsReportProblems(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"manifests", "metadata"} {
		entries, err := os.ReadDir(filepath.Join(root, "bundle", sub))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(root, "bundle", sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, sub, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	csv := readCSVMap(t, filepath.Join(dir, "manifests", filepath.Base(csvFile)))
	unstructured.RemoveNestedField(csv, "spec", "minKubeVersion") // a warning
	unstructured.RemoveNestedField(csv, "spec", "icon")           // a warning
	_ = unstructured.SetNestedField(csv, "Magic", "metadata", "annotations", "categories")
	b, err := sigsyaml.Marshal(csv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifests", filepath.Base(csvFile)), b, 0o644); err != nil {
		t.Fatal(err)
	}
	errs, warns, err := delivery.ValidateBundle(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !anyContains(errs, "categories") {
		t.Errorf("no error for an unknown category; errors: %q", errs)
	}
	if !anyContains(warns, "minKubeVersion") || !anyContains(warns, "Icon") {
		t.Errorf("no warnings for a missing minKubeVersion and icon; warnings: %q", warns)
	}
}

// The CSV says what the brief asks it to say.
func TestBundleCSV(t *testing.T) {
	vars := makeVars(t)
	b, err := os.ReadFile(filepath.Join(root, csvFile))
	if err != nil {
		t.Fatal(err)
	}
	var csv operatorsv1alpha1.ClusterServiceVersion
	if err := sigsyaml.UnmarshalStrict(b, &csv); err != nil {
		t.Fatalf("%s does not decode strictly as a ClusterServiceVersion: %v", csvFile, err)
	}
	if csv.Name != "exposure-operator.v"+vars["VERSION"] || csv.Spec.Version.String() != vars["VERSION"] {
		t.Errorf("CSV %s version %s, want exposure-operator.v%s", csv.Name, csv.Spec.Version.String(), vars["VERSION"])
	}
	if csv.Spec.DisplayName == "" || csv.Spec.Description == "" || !strings.Contains(csv.Spec.Description, "kind: Exposure") {
		t.Error("the CSV needs a displayName and a description with an example Exposure")
	}
	if csv.Spec.MinKubeVersion == "" || csv.Spec.Maturity != "alpha" || csv.Spec.Provider.Name == "" ||
		len(csv.Spec.Maintainers) == 0 || len(csv.Spec.Links) == 0 || len(csv.Spec.Keywords) == 0 || len(csv.Spec.Icon) != 1 {
		t.Errorf("incomplete CSV: minKubeVersion %q maturity %q provider %q maintainers %d links %d keywords %d icons %d",
			csv.Spec.MinKubeVersion, csv.Spec.Maturity, csv.Spec.Provider.Name, len(csv.Spec.Maintainers), len(csv.Spec.Links), len(csv.Spec.Keywords), len(csv.Spec.Icon))
	}

	ann := csv.Annotations
	for k, want := range map[string]string{
		"capabilities":   "Basic Install",
		"categories":     "Networking",
		"containerImage": vars["IMG"],
		"createdAt":      vars["BUNDLE_CREATED_AT"],
		"operatorframework.io/suggested-namespace":         "exposure-operator-system",
		"features.operators.openshift.io/disconnected":     "true",
		"features.operators.openshift.io/fips-compliant":   "false",
		"features.operators.openshift.io/proxy-aware":      "false",
		"features.operators.openshift.io/tls-profiles":     "false",
		"features.operators.openshift.io/token-auth-aws":   "false",
		"features.operators.openshift.io/token-auth-azure": "false",
		"features.operators.openshift.io/token-auth-gcp":   "false",
		"features.operators.openshift.io/cnf":              "false",
		"features.operators.openshift.io/cni":              "false",
		"features.operators.openshift.io/csi":              "false",
	} {
		if ann[k] != want {
			t.Errorf("annotation %s = %q, want %q", k, ann[k], want)
		}
	}

	// AllNamespaces only: the operator works cluster-wide (MetalLB pools
	// in metallb-system, Nodes, one cluster-wide policy).
	for _, m := range csv.Spec.InstallModes {
		if m.Supported != (m.Type == operatorsv1alpha1.InstallModeTypeAllNamespaces) {
			t.Errorf("install mode %s supported=%v", m.Type, m.Supported)
		}
	}
	if len(csv.Spec.InstallModes) != 4 {
		t.Errorf("%d install modes, want all four stated", len(csv.Spec.InstallModes))
	}

	// The install strategy is config/default's Deployment and RBAC.
	objs := buildDir(t, "config/default")
	d := find(t, objs, "Deployment", "exposure-operator-controller-manager")
	specs := csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs
	if len(specs) != 1 || specs[0].Name != d.GetName() {
		t.Fatalf("install strategy deployments %v, want %s", specs, d.GetName())
	}
	got, err := json.Marshal(specs[0].Spec)
	if err != nil {
		t.Fatal(err)
	}
	gotMap := map[string]any{}
	if err := json.Unmarshal(got, &gotMap); err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := json.Marshal(d.Object["spec"])
	wantMap := map[string]any{}
	_ = json.Unmarshal(wantJSON, &wantMap)
	if !reflect.DeepEqual(prune(gotMap), prune(wantMap)) {
		t.Errorf("the CSV's deployment spec differs from config/default's:\n got %s\nwant %s", got, wantJSON)
	}
	if img := specs[0].Spec.Template.Spec.Containers[0].Image; img != vars["IMG"] {
		t.Errorf("the CSV's deployment runs %s, want %s", img, vars["IMG"])
	}
	sa := specs[0].Spec.Template.Spec.ServiceAccountName
	perms := csv.Spec.InstallStrategy.StrategySpec.Permissions
	cperms := csv.Spec.InstallStrategy.StrategySpec.ClusterPermissions
	if len(perms) != 1 || perms[0].ServiceAccountName != sa || len(cperms) != 1 || cperms[0].ServiceAccountName != sa {
		t.Fatalf("permissions %v / clusterPermissions %v, want one each for %s", perms, cperms, sa)
	}
	has := func(rules []any, group, resource, verb string) bool {
		for _, r := range rules {
			rm := r.(map[string]any)
			if containsAny(rm["apiGroups"], group) && containsAny(rm["resources"], resource) && containsAny(rm["verbs"], verb) {
				return true
			}
		}
		return false
	}
	pr, cpr := toAny(t, perms[0].Rules), toAny(t, cperms[0].Rules)
	for _, w := range append(wildcards(pr), wildcards(cpr)...) {
		t.Errorf("bundle permissions: %s", w)
	}
	if !has(pr, "coordination.k8s.io", "leases", "update") {
		t.Error("the namespaced permissions lack the leader-election lease")
	}
	for _, want := range [][3]string{{"authentication.k8s.io", "tokenreviews", "create"}, {"authorization.k8s.io", "subjectaccessreviews", "create"}, {"exposure.dev", "exposures", "watch"}, {"metallb.io", "ipaddresspools", "create"}} {
		if !has(cpr, want[0], want[1], want[2]) {
			t.Errorf("the cluster permissions lack %s %s %s", want[2], want[0], want[1])
		}
	}

	if len(csv.Spec.RelatedImages) != 1 || csv.Spec.RelatedImages[0].Image != vars["IMG"] {
		t.Errorf("relatedImages %v, want the manager image %s", csv.Spec.RelatedImages, vars["IMG"])
	}

	// The owned CRD with descriptors the console shows.
	owned := csv.Spec.CustomResourceDefinitions.Owned
	if len(owned) != 1 || owned[0].Name != "exposures.exposure.dev" || owned[0].Version != "v1alpha1" || owned[0].Kind != "Exposure" {
		t.Fatalf("owned CRDs %v, want exposures.exposure.dev v1alpha1 Exposure", owned)
	}
	status := map[string][]string{}
	for _, sd := range owned[0].StatusDescriptors {
		status[sd.Path] = sd.XDescriptors
	}
	for path, want := range map[string]string{
		"conditions":           "urn:alm:descriptor:io.kubernetes.conditions",
		"externalAddress":      "urn:alm:descriptor:text",
		"serviceType":          "urn:alm:descriptor:text",
		"addresses[0].type":    "urn:alm:descriptor:text",
		"addresses[0].address": "urn:alm:descriptor:text",
		"addresses[0].url":     "urn:alm:descriptor:org.w3:link",
	} {
		if !contains(status[path], want) {
			t.Errorf("status descriptor %s: x-descriptors %v, want %s", path, status[path], want)
		}
	}
	spec := map[string]bool{}
	for _, sd := range owned[0].SpecDescriptors {
		spec[sd.Path] = len(sd.XDescriptors) > 0
	}
	for _, path := range []string{"workload.image", "workload.replicas", "service.type", "loadBalancer.ip", "networkPolicy.enabled"} {
		if !spec[path] {
			t.Errorf("no spec descriptor with x-descriptors for %s", path)
		}
	}

	// Channels.
	meta, err := os.ReadFile(filepath.Join(root, "bundle/metadata/annotations.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var annotations struct{ Annotations map[string]string }
	if err := sigsyaml.Unmarshal(meta, &annotations); err != nil {
		t.Fatal(err)
	}
	if a := annotations.Annotations; a["operators.operatorframework.io.bundle.channels.v1"] != "stable,candidate" ||
		a["operators.operatorframework.io.bundle.channel.default.v1"] != "stable" ||
		a["operators.operatorframework.io.bundle.package.v1"] != "exposure-operator" {
		t.Errorf("bundle annotations %v", a)
	}
	dockerfile, err := os.ReadFile(filepath.Join(root, "bundle.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range annotations.Annotations {
		if !strings.Contains(string(dockerfile), "LABEL "+k+"="+v+"\n") {
			t.Errorf("bundle.Dockerfile lacks the label %s=%s", k, v)
		}
	}
}

// Every alm-example is accepted by the real API server's validation of
// the CRD (schema and CEL rules), so the console's create form starts
// from a valid object.
func TestBundleExamplesAreValid(t *testing.T) {
	ctx := context.Background()
	csv := readCSVMap(t, filepath.Join(root, csvFile))
	raw, _, _ := unstructured.NestedString(csv, "metadata", "annotations", "alm-examples")
	var examples []map[string]any
	if err := json.Unmarshal([]byte(raw), &examples); err != nil {
		t.Fatalf("alm-examples: %v", err)
	}
	if len(examples) < 3 {
		t.Errorf("%d alm-examples, want a few", len(examples))
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "alm-examples-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), ns) })
	for _, e := range examples {
		u := &unstructured.Unstructured{Object: e}
		u.SetNamespace(ns.Name)
		if err := env.Client.Create(ctx, u, client.DryRunAll); err != nil {
			t.Errorf("alm-example %s %s is refused: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

func readCSVMap(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := sigsyaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// prune drops nulls and empty maps, which typed round trips add
// (creationTimestamp: null, strategy: {}, resources: {}).
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			p := prune(val)
			if p == nil {
				continue
			}
			if m, ok := p.(map[string]any); ok && len(m) == 0 {
				continue
			}
			out[k] = p
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = prune(val)
		}
		return out
	default:
		return v
	}
}

func toAny(t *testing.T, v any) []any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func containsAny(list any, s string) bool {
	l, _ := list.([]any)
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func anyContains(list []string, s string) bool {
	for _, v := range list {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}
