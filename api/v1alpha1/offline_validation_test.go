package v1alpha1_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/exposure-operator/exposure-operator/config/crd"
	"github.com/exposure-operator/exposure-operator/internal/offline"
)

// TestOfflineValidatorAgreesWithTheAPIServer runs the invalid table that
// the API server refuses through exposurectl's offline validator: it must
// refuse each one too, naming the same field.
func TestOfflineValidatorAgreesWithTheAPIServer(t *testing.T) {
	v, err := offline.NewValidator(crd.Exposure)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range invalidCases() {
		name := tc.objName
		if name == "" {
			name = "bad"
		}
		u := exposure(t, name, tc.spec)
		b, err := json.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		obj := map[string]any{}
		if err := utiljson.Unmarshal(b, &obj); err != nil {
			t.Fatal(err)
		}
		errs := v.Validate(context.Background(), obj)
		if len(errs) == 0 {
			t.Errorf("%s: accepted offline, refused by the API server (%q)", tc.name, tc.want)
			continue
		}
		if !strings.Contains(errs.ToAggregate().Error(), strings.TrimSuffix(tc.want, ": Duplicate value")) {
			t.Errorf("%s: offline errors %q do not say %q", tc.name, errs.ToAggregate().Error(), tc.want)
		}
		for _, e := range errs {
			if strings.Contains(e.Detail, "some validation rules were not checked") {
				continue
			}
			if got := causeField(e.Field, e.Detail); got != tc.field {
				t.Errorf("%s: offline error %q names the field %q, want %q", tc.name, e.Error(), got, tc.field)
			}
		}
	}
}

// TestOfflineValidatorAcceptsTheSamples: what the API server accepts, the
// offline validator accepts too.
func TestOfflineValidatorAcceptsTheSamples(t *testing.T) {
	v, err := offline.NewValidator(crd.Exposure)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "samples", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no samples")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := decodeDocs(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range docs {
			if !isExposure(u) {
				continue
			}
			b, _ := json.Marshal(u.Object)
			obj := map[string]any{}
			if err := utiljson.Unmarshal(b, &obj); err != nil {
				t.Fatal(err)
			}
			if errs := v.Validate(context.Background(), obj); len(errs) > 0 {
				t.Errorf("%s refused offline: %v", f, errs)
			}
		}
	}
}
