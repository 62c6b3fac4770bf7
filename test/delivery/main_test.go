// Package delivery_test checks what the project ships: every kustomization
// under config/ builds, the committed dist/install.yaml and bundle/ equal a
// fresh build, the RBAC has no wildcard, the OLM bundle passes the
// operatorframework validators without a single warning, the manager's pod
// passes the restricted Pod Security level, and the installer applies
// cleanly to a real kube-apiserver.
package delivery_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/internal/delivery"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// root is the repository root; the builds read config/ and samples/ from
// it.
var root = testenv.RepoRoot()

// makeVars reads the `NAME ?= value` defaults of the Makefile: the release
// settings (IMG, VERSION, BUNDLE_*) the committed outputs were made with.
func makeVars(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	re := regexp.MustCompile(`(?m)^([A-Za-z_][A-Za-z0-9_-]*)\s*\?=\s*(.*?)\s*$`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		vars[m[1]] = m[2]
	}
	for _, k := range []string{"IMG", "VERSION", "BUNDLE_CREATED_AT", "BUNDLE_CHANNELS", "BUNDLE_DEFAULT_CHANNEL", "BUNDLE_K8S_VERSION"} {
		if vars[k] == "" {
			t.Fatalf("Makefile: no default for %s", k)
		}
	}
	return vars
}

// bundleOptions are the settings `make bundle` uses.
func bundleOptions(t *testing.T) delivery.BundleOptions {
	v := makeVars(t)
	return delivery.BundleOptions{
		Root:           root,
		Package:        "exposure-operator",
		Version:        v["VERSION"],
		Image:          v["IMG"],
		CreatedAt:      v["BUNDLE_CREATED_AT"],
		Channels:       strings.Split(v["BUNDLE_CHANNELS"], ","),
		DefaultChannel: v["BUNDLE_DEFAULT_CHANNEL"],
	}
}

// buildDir builds a kustomization under config/ the way hack/kustomizebuild
// does.
func buildDir(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	m, err := delivery.Build(filepath.Join(root, dir), delivery.BuildOptions{AllowOutsideRoot: delivery.OutsideRoot[dir]})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := delivery.Objects(m)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// decodeYAML splits a multi-document YAML stream into objects.
func decodeYAML(t *testing.T, b []byte) []*unstructured.Unstructured {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var out []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		j, err := sigsyaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
}
