package apply

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// defaultedConflict returns a JSON merge patch that must reach the live
// object before the apply, or nil. Server-side apply never removes a field
// that no manager owns, and the API server's defaulting owns none: a
// defaulted field that the new desired state forbids makes the apply fail
// forever. The one such pair among the operator's children is a
// Deployment's spec.strategy.rollingUpdate (defaulted to 25%/25% for a
// RollingUpdate) when the strategy becomes Recreate (pods holding a
// host-device NIC or a static address): the patch sets the type and drops
// the parameters in one request, which the API server accepts.
func defaultedConflict(live, desired *unstructured.Unstructured) []byte {
	if desired.GetKind() != "Deployment" {
		return nil
	}
	want, _, _ := unstructured.NestedString(desired.Object, "spec", "strategy", "type")
	if want != "Recreate" {
		return nil
	}
	if _, has, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", "strategy", "rollingUpdate"); !has {
		return nil
	}
	return []byte(`{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}`)
}
