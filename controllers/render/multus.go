package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// networkAttachmentDefinitions renders one Multus NetworkAttachmentDefinition
// per secondary network the Exposure defines (not for references to
// existing ones).
func networkAttachmentDefinitions(exp *v1alpha1.Exposure, opts Options) []*unstructured.Unstructured {
	return nil
}

// podNetworksAnnotation is the k8s.v1.cni.cncf.io/networks value (JSON form)
// for the workload's pods, or "" without secondary networks.
func podNetworksAnnotation(exp *v1alpha1.Exposure) string {
	return ""
}
