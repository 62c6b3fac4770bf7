package render_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

var update = flag.Bool("update", false, "rewrite testdata/*/expected.yaml from the current render")

// TestGolden renders testdata/<case>/exposure.yaml and compares the result
// with testdata/<case>/expected.yaml. A reviewer reads the YAML to see what
// the operator creates; `make update-golden` rewrites it after a deliberate
// change.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/*/exposure.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for _, in := range cases {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			exp := readExposure(t, in)
			got := renderYAML(t, exp)
			want := filepath.Join(dir, "expected.yaml")
			if *update {
				if err := os.WriteFile(want, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantBytes, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run `make update-golden` to create it)", err)
			}
			if !bytes.Equal(got, wantBytes) {
				t.Errorf("render of %s differs from %s (run `make update-golden` if the change is intended):\n%s", in, want, diffLines(string(wantBytes), string(got)))
			}
		})
	}
}

// TestRenderIsDeterministic renders every case many times: a map iteration
// or any other source of order leaking into the output would show here.
func TestRenderIsDeterministic(t *testing.T) {
	cases, _ := filepath.Glob("testdata/*/exposure.yaml")
	for _, in := range cases {
		exp := readExposure(t, in)
		first := renderYAML(t, exp)
		for i := 0; i < 20; i++ {
			if again := renderYAML(t, exp); !bytes.Equal(first, again) {
				t.Fatalf("%s: render is not deterministic:\n%s", in, diffLines(string(first), string(again)))
			}
		}
	}
}

func readExposure(t *testing.T, path string) *v1alpha1.Exposure {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	exp := &v1alpha1.Exposure{}
	if err := yaml.UnmarshalStrict(b, exp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return exp
}

func renderYAML(t *testing.T, exp *v1alpha1.Exposure) []byte {
	t.Helper()
	objs, err := render.Render(exp, render.DefaultOptions())
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	for _, o := range objs {
		// The applier deep-copies what render returns: content must be
		// what unstructured objects can hold (int64, not int), or this
		// panics, as it once did for patched objects.
		_ = o.DeepCopy()
	}
	var buf bytes.Buffer
	for _, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	return buf.Bytes()
}

// diffLines shows the first lines where two texts differ.
func diffLines(want, got string) string {
	w, g := bytes.Split([]byte(want), []byte("\n")), bytes.Split([]byte(got), []byte("\n"))
	var out bytes.Buffer
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b []byte
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if !bytes.Equal(a, b) {
			fmt.Fprintf(&out, "line %d:\n  - %s\n  + %s\n", i+1, a, b)
			if shown++; shown >= 10 {
				break
			}
		}
	}
	return out.String()
}
