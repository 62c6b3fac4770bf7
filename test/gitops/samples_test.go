package gitops

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

var samplesDir = filepath.Join(testenv.RepoRoot(), "samples", "argocd")

// healthKey is the argocd-cm key of a health check: <group>_<Kind>.
var healthKey = "resource.customizations.health." + v1alpha1.GroupVersion.Group + "_Exposure"

// TestArgoCDConfigMapHoldsTheHealthScript checks that the argocd-cm sample
// installs exactly config/argocd/.../health.lua under the key Argo CD looks
// up for exposure.dev/Exposure.
func TestArgoCDConfigMapHoldsTheHealthScript(t *testing.T) {
	path := filepath.Join(samplesDir, "argocd-cm.yaml")
	script := healthScript(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if *updateTestdata {
		// Keep everything up to the key, then the script as a literal block.
		keyLine := "  " + healthKey + ": |\n"
		i := bytes.Index(b, []byte(keyLine))
		if i < 0 {
			t.Fatalf("%s has no line %q", path, keyLine)
		}
		var out bytes.Buffer
		out.Write(b[:i+len(keyLine)])
		for _, line := range strings.SplitAfter(script, "\n") {
			if strings.TrimSpace(line) != "" {
				out.WriteString("    ")
			}
			out.WriteString(line)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		b = out.Bytes()
	}
	cm := &corev1.ConfigMap{}
	if err := yaml.UnmarshalStrict(b, cm); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if cm.Kind != "ConfigMap" || cm.Name != "argocd-cm" || cm.Namespace != "argocd" {
		t.Errorf("%s must be the argocd-cm ConfigMap in argocd, is %s %s/%s", path, cm.Kind, cm.Namespace, cm.Name)
	}
	got, ok := cm.Data[healthKey]
	if !ok {
		t.Fatalf("%s has no key %s; has %v", path, healthKey, cm.Data)
	}
	if got != script {
		t.Errorf("the script in %s differs from config/argocd/exposure.dev/Exposure/health.lua (run go test ./test/gitops -update-argocd-testdata)", path)
	}
}

// application is samples/argocd/application.yaml.
func application(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, "application.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// gitPath is the directory that stands for the Application's source path
// in the platform-config repository.
func gitPath(t *testing.T, app *unstructured.Unstructured) string {
	t.Helper()
	p, _, _ := unstructured.NestedString(app.Object, "spec", "source", "path")
	if p == "" {
		t.Fatal("the Application has no spec.source.path")
	}
	return filepath.Join(samplesDir, "platform-config", filepath.FromSlash(p))
}

// gitManifests are the Exposures in the Application's source path, as Git
// holds them.
func gitManifests(t *testing.T, app *unstructured.Unstructured) []*unstructured.Unstructured {
	t.Helper()
	dir := gitPath(t, app)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("#")) {
			t.Errorf("%s: a sample starts with a comment saying what it shows", f)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(b, &u.Object); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if u.GroupVersionKind() != v1alpha1.GroupVersion.WithKind("Exposure") {
			t.Errorf("%s: not an Exposure but %s", f, u.GroupVersionKind())
			continue
		}
		if u.GetNamespace() != "" {
			t.Errorf("%s: the manifest carries a namespace; the Application's destination sets it", f)
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		t.Fatalf("no Exposure manifests in %s", dir)
	}
	return out
}

// TestArgoCDApplicationSample checks the Application: it points at a Git
// path whose mirror here holds Exposures, syncs them into a namespace with
// server-side apply (what the no-drift test reproduces).
func TestArgoCDApplicationSample(t *testing.T) {
	app := application(t)
	if app.GetAPIVersion() != "argoproj.io/v1alpha1" || app.GetKind() != "Application" {
		t.Errorf("application.yaml is %s %s, want argoproj.io/v1alpha1 Application", app.GetAPIVersion(), app.GetKind())
	}
	for _, f := range [][]string{
		{"spec", "project"}, {"spec", "source", "repoURL"}, {"spec", "source", "targetRevision"},
		{"spec", "destination", "server"}, {"spec", "destination", "namespace"},
	} {
		if v, _, _ := unstructured.NestedString(app.Object, f...); v == "" {
			t.Errorf("application.yaml: %s is empty", strings.Join(f, "."))
		}
	}
	opts, _, _ := unstructured.NestedStringSlice(app.Object, "spec", "syncPolicy", "syncOptions")
	if !slices.Contains(opts, "ServerSideApply=true") {
		t.Errorf("application.yaml: syncOptions %v lack ServerSideApply=true", opts)
	}
	if _, err := os.Stat(gitPath(t, app)); err != nil {
		t.Errorf("the Application's source path has no mirror in samples/argocd/platform-config: %v", err)
	}
	gitManifests(t, app)
}
