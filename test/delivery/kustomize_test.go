package delivery_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/types"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/controllers/policy"
	"github.com/exposure-operator/exposure-operator/internal/delivery"
)

// Every kustomization under config/ builds, with kustomize's default
// root-only load restrictions (as `kubectl apply -k` and Argo CD build
// them) unless it is one of the few that need the samples from outside
// config/.
func TestEveryKustomizationBuilds(t *testing.T) {
	dirs, err := delivery.Kustomizations(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"config/crd", "config/rbac", "config/manager", "config/policy", "config/default", "config/prometheus", "config/network-policy", "config/samples", "config/manifests"} {
		if !contains(dirs, want) {
			t.Errorf("no kustomization in %s", want)
		}
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			if objs := buildDir(t, dir); len(objs) == 0 {
				t.Errorf("%s builds to nothing", dir)
			}
		})
	}
	// The exceptions really need it: without them the list would only grow.
	for dir := range delivery.OutsideRoot {
		if _, err := delivery.Build(filepath.Join(root, dir), delivery.BuildOptions{}); err == nil {
			t.Errorf("%s builds with root-only load restrictions: drop it from delivery.OutsideRoot", dir)
		}
	}
}

// The committed installer is exactly what `make build-installer` makes
// from the current tree.
func TestInstallerIsUpToDate(t *testing.T) {
	img := makeVars(t)["IMG"]
	fresh, err := delivery.BuildYAML(filepath.Join(root, "config/default"), delivery.BuildOptions{Image: img})
	if err != nil {
		t.Fatal(err)
	}
	again, err := delivery.BuildYAML(filepath.Join(root, "config/default"), delivery.BuildOptions{Image: img})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, again) {
		t.Fatal("two builds of config/default differ: the build is not deterministic")
	}
	committed, err := os.ReadFile(filepath.Join(root, "dist", "install.yaml"))
	if err != nil {
		t.Fatalf("%v: run 'make build-installer' and commit dist/install.yaml", err)
	}
	if !bytes.Equal(committed, fresh) {
		t.Errorf("dist/install.yaml differs from a fresh build of config/default (%s): run 'make build-installer' and commit it", firstDiff(committed, fresh))
	}
}

// The image config/manager sets is the Makefile's IMG, so a plain
// `kubectl apply -k config/default` runs the same image as the installer
// and the bundle.
func TestManagerImageMatchesMakefile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "config/manager/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k types.Kustomization
	if err := sigsyaml.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	if len(k.Images) != 1 {
		t.Fatalf("config/manager: want one image setting, got %d", len(k.Images))
	}
	got := k.Images[0].NewName + ":" + k.Images[0].NewTag
	if want := makeVars(t)["IMG"]; got != want {
		t.Errorf("config/manager sets the image %s, the Makefile's IMG is %s: keep them equal", got, want)
	}
}

// The installer holds what the operator needs, in one namespace, with the
// restricted manager pod the brief asks for.
func TestInstallerContents(t *testing.T) {
	objs := buildDir(t, "config/default")
	kinds := map[string]int{}
	for _, u := range objs {
		kinds[u.GetKind()]++
		// Everything in the operator's namespace, but the manager's Role
		// for MetalLB objects (and its binding), in MetalLB's.
		wantNS := "exposure-operator-system"
		if u.GetName() == "exposure-operator-manager-role" || u.GetName() == "exposure-operator-metallb-manager-rolebinding" {
			wantNS = "metallb-system"
		}
		if ns := u.GetNamespace(); ns != "" && ns != wantNS {
			t.Errorf("%s %s is in namespace %s, want %s", u.GetKind(), u.GetName(), ns, wantNS)
		}
		if v := u.GetLabels()["app.kubernetes.io/managed-by"]; v == "exposure-operator" {
			// The operator caches and prunes objects with this label.
			t.Errorf("%s %s carries the label of the operator's own children", u.GetKind(), u.GetName())
		}
	}
	for kind, n := range map[string]int{"Namespace": 1, "CustomResourceDefinition": 1, "ServiceAccount": 1, "Deployment": 1, "Service": 1, "ConfigMap": 1, "Role": 2, "RoleBinding": 2, "ClusterRoleBinding": 2} {
		if kinds[kind] != n {
			t.Errorf("config/default: %d %s, want %d", kinds[kind], kind, n)
		}
	}
	d := find(t, objs, "Deployment", "exposure-operator-controller-manager")
	c := managerContainer(t, d)
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	want := []string{"--leader-elect", "--metrics-bind-address=:8443", "--metrics-secure", "--health-probe-bind-address=:8081", "--policy-file=/etc/exposure-operator/policy.yaml"}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("manager args %q, want %q", args, want)
	}
	for _, p := range []string{"livenessProbe", "readinessProbe"} {
		port, _, _ := unstructured.NestedInt64(c, p, "httpGet", "port")
		if port != 8081 {
			t.Errorf("%s on port %d, want 8081", p, port)
		}
	}
	for _, r := range []string{"requests", "limits"} {
		for _, res := range []string{"cpu", "memory"} {
			if v, _, _ := unstructured.NestedString(c, "resources", r, res); v == "" {
				t.Errorf("manager has no %s.%s", r, res)
			}
		}
	}
	// The policy ConfigMap is mounted where --policy-file points.
	vols, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	if len(vols) != 1 || fmt.Sprint(vols[0].(map[string]any)["configMap"].(map[string]any)["name"]) != "exposure-operator-policy" {
		t.Errorf("the manager mounts %v, want the ConfigMap exposure-operator-policy", vols)
	}
	// The MetalLB binding names the manager's service account (kustomize
	// leaves a subject in another namespace alone; a replacement sets it).
	rb := find(t, objs, "RoleBinding", "exposure-operator-metallb-manager-rolebinding")
	subjects, _, _ := unstructured.NestedSlice(rb.Object, "subjects")
	if len(subjects) != 1 || subjects[0].(map[string]any)["name"] != "exposure-operator-controller-manager" || subjects[0].(map[string]any)["namespace"] != "exposure-operator-system" {
		t.Errorf("the MetalLB RoleBinding binds %v, want the manager's service account", subjects)
	}
	svc := find(t, objs, "Service", "exposure-operator-controller-manager-metrics-service")
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if len(ports) != 1 || ports[0].(map[string]any)["port"] != int64(8443) {
		t.Errorf("metrics Service ports %v, want 8443", ports)
	}
}

// No Role or ClusterRole under config/ (nor the bundle's permissions, see
// TestBundleCSV) grants a wildcard verb, resource, API group or URL.
func TestRBACHasNoWildcard(t *testing.T) {
	dirs, err := delivery.Kustomizations(root)
	if err != nil {
		t.Fatal(err)
	}
	roles := 0
	for _, dir := range dirs {
		for _, u := range buildDir(t, dir) {
			if u.GetAPIVersion() != "rbac.authorization.k8s.io/v1" || (u.GetKind() != "Role" && u.GetKind() != "ClusterRole") {
				continue
			}
			roles++
			rules, _, _ := unstructured.NestedSlice(u.Object, "rules")
			for _, w := range wildcards(rules) {
				t.Errorf("%s: %s %s: %s", dir, u.GetKind(), u.GetName(), w)
			}
			if _, ok := u.Object["aggregationRule"]; ok {
				t.Errorf("%s: %s %s aggregates other roles", dir, u.GetKind(), u.GetName())
			}
		}
	}
	if roles < 6 {
		t.Fatalf("found only %d roles under config/", roles)
	}
}

// wildcards lists the wildcard entries of RBAC rules.
func wildcards(rules []any) []string {
	var out []string
	for i, r := range rules {
		rm, _ := r.(map[string]any)
		for _, field := range []string{"apiGroups", "resources", "verbs", "nonResourceURLs", "resourceNames"} {
			list, _ := rm[field].([]any)
			for _, v := range list {
				if s := fmt.Sprint(v); strings.Contains(s, "*") {
					out = append(out, fmt.Sprintf("rules[%d].%s has %q", i, field, s))
				}
			}
		}
		if verbs, _ := rm["verbs"].([]any); len(verbs) == 0 {
			out = append(out, fmt.Sprintf("rules[%d] has no verbs", i))
		}
	}
	return out
}

// The shipped policy grants nothing, and its commented example grants are
// exactly those of samples/policy/operator-policy.yaml once uncommented.
func TestShippedPolicy(t *testing.T) {
	cm := find(t, buildDir(t, "config/default"), "ConfigMap", "exposure-operator-policy")
	text, _, _ := unstructured.NestedString(cm.Object, "data", "policy.yaml")
	p, err := policy.Parse([]byte(text))
	if err != nil {
		t.Fatalf("the shipped policy does not parse: %v", err)
	}
	if len(p.Grants) != 0 {
		t.Errorf("the shipped policy grants %d things; it must grant nothing", len(p.Grants))
	}
	// Apart from saying what it is, it is the policy in force without a
	// policy file.
	bare := *p
	bare.TypeMeta, bare.Grants = metav1.TypeMeta{}, nil
	if !reflect.DeepEqual(&bare, policy.Default()) {
		t.Errorf("the shipped policy differs from the operator's default policy: %+v", p)
	}

	// Uncomment the example block as an admin would.
	const begin, end = "# --- begin example grants ---\n", "# --- end example grants ---\n"
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("the shipped policy has no example block between %q and %q", begin, end)
	}
	var block strings.Builder
	for _, line := range strings.SplitAfter(text[i+len(begin):j], "\n") {
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "#") {
			t.Fatalf("uncommented line in the example block: %q", line)
		}
		block.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "#"), " "))
	}
	uncommented := strings.Replace(text, "grants: []\n", block.String(), 1)
	withExamples, err := policy.Parse([]byte(uncommented))
	if err != nil {
		t.Fatalf("the uncommented example does not parse: %v\n%s", err, uncommented)
	}
	sample, err := os.ReadFile(filepath.Join(root, "samples/policy/operator-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := policy.Parse(sample)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Grants) == 0 || !reflect.DeepEqual(withExamples.Grants, want.Grants) {
		t.Errorf("the example grants in config/policy/policy.yaml differ from samples/policy/operator-policy.yaml:\n got %+v\nwant %+v", withExamples.Grants, want.Grants)
	}
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return nil
}

func managerContainer(t *testing.T, d *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, c := range cs {
		if cm, _ := c.(map[string]any); cm["name"] == delivery.ManagerContainer {
			return cm
		}
	}
	t.Fatalf("Deployment %s has no container %q", d.GetName(), delivery.ManagerContainer)
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// firstDiff names the first line where two texts differ.
func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d: committed %q, fresh %q", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("committed has %d lines, fresh %d", len(al), len(bl))
}
