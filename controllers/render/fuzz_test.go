package render_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

// FuzzRender feeds render arbitrary Exposures, seeded with the golden
// cases. Admission refuses most of what the fuzzer makes up, but render
// must never panic on any of it (a panic in a reconcile is a crash loop for
// every Exposure behind it), its output must be content unstructured
// objects can hold, and it must stay deterministic.
func FuzzRender(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/exposure.yaml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		exp := &v1alpha1.Exposure{}
		if err := yaml.Unmarshal(data, exp); err != nil {
			return
		}
		first, err := render.Render(exp, render.DefaultOptions())
		if err != nil {
			return // a refused patch: reported as a condition
		}
		second, err := render.Render(exp, render.DefaultOptions())
		if err != nil || len(first) != len(second) {
			t.Fatalf("render is not deterministic: %v", err)
		}
		for i := range first {
			c := first[i].DeepCopy()
			a, _ := yaml.Marshal(c.Object)
			b, _ := yaml.Marshal(second[i].Object)
			if !bytes.Equal(a, b) {
				t.Fatalf("render is not deterministic:\n%s\n---\n%s", a, b)
			}
		}
	})
}
