package v1alpha1_test

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"testing"

	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// TestTypesSurviveGofmt guards the CEL rules in the markers: gofmt rewrites
// doc comments, and turns a CEL empty string (”) into a typographic quote,
// which breaks the rule (the CRD then fails to install). Rules must be
// written so that gofmt leaves them alone.
func TestTypesSurviveGofmt(t *testing.T) {
	path := filepath.Join(testenv.RepoRoot(), "api", "v1alpha1", "exposure_types.go")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	formatted, err := format.Source(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, formatted) {
		a, b := bytes.Split(src, []byte("\n")), bytes.Split(formatted, []byte("\n"))
		for i := range a {
			if i >= len(b) || !bytes.Equal(a[i], b[i]) {
				t.Fatalf("gofmt changes %s at line %d:\n  %s\nbecomes\n  %s", path, i+1, a[i], b[min(i, len(b)-1)])
			}
		}
		t.Fatalf("gofmt changes %s", path)
	}
}
