package v1alpha1_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// TestEveryFieldIsDocumented walks the generated CRD schema: what kubectl
// explain shows for each field is its description, so none may be empty,
// and the CRD keeps the printer columns and the status subresource.
func TestEveryFieldIsDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "exposure.dev_exposures.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(b, crd); err != nil {
		t.Fatal(err)
	}
	v := crd.Spec.Versions[0]
	var undocumented []string
	var walk func(path string, s *apiextensionsv1.JSONSchemaProps)
	walk = func(path string, s *apiextensionsv1.JSONSchemaProps) {
		for name, p := range s.Properties {
			child := path + "." + name
			if strings.TrimSpace(p.Description) == "" && child != ".metadata" {
				undocumented = append(undocumented, child)
			}
			walk(child, &p)
		}
		if s.Items != nil && s.Items.Schema != nil {
			walk(path+"[]", s.Items.Schema)
		}
		if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
			walk(path+"{}", s.AdditionalProperties.Schema)
		}
	}
	walk("", v.Schema.OpenAPIV3Schema)
	if len(undocumented) > 0 {
		t.Errorf("%d fields have no description (kubectl explain would show nothing): %v", len(undocumented), undocumented)
	}
	var cols []string
	for _, c := range v.AdditionalPrinterColumns {
		cols = append(cols, c.Name)
	}
	if want := "Ready,Status,Reason,Type,Address,Age,External,Reachable,Message"; strings.Join(cols, ",") != want {
		t.Errorf("printer columns = %v, want %s", cols, want)
	}
	for _, c := range v.AdditionalPrinterColumns {
		if wide := c.Name == "External" || c.Name == "Reachable" || c.Name == "Message"; wide != (c.Priority > 0) {
			t.Errorf("printer column %s: priority %d; only External, Reachable and Message belong under -o wide", c.Name, c.Priority)
		}
	}
	if v.Subresources == nil || v.Subresources.Status == nil {
		t.Error("the status subresource is missing")
	}
	if n := strings.Count(string(b), "x-kubernetes-validations"); n < 40 {
		t.Errorf("only %d CEL rule blocks in the CRD: the validations are missing", n)
	}
}
