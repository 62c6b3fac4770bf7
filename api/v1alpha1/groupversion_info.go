// Package v1alpha1 contains the Exposure API, group exposure.dev.
//
// +kubebuilder:object:generate=true
// +groupName=exposure.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "exposure.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the API's types with a scheme. It depends on
	// apimachinery alone, so the API package stays cheap to import.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the API's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Exposure{}, &ExposureList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
