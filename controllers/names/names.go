// Package names holds every label, annotation, field-manager and object name
// the operator writes, so that render, apply, prune and the watches agree on
// them by construction.
package names

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

const (
	// FieldOwner is the server-side-apply field manager of every write.
	FieldOwner = "exposure-operator"

	// ManagedByLabel / ManagedByValue mark every object the operator writes;
	// the informer caches are restricted to objects carrying it.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "exposure-operator"

	// NameLabel carries the Exposure's name (app.kubernetes.io/name).
	NameLabel = "app.kubernetes.io/name"

	// ExposureLabel names the Exposure a child belongs to. Pods carry it too:
	// it is the Service's selector for a workload backend.
	ExposureLabel = "exposure.dev/exposure"

	// ExposureNamespaceLabel names the Exposure's namespace on children that
	// live in another namespace (MetalLB pools), where no owner reference
	// can point back.
	ExposureNamespaceLabel = "exposure.dev/exposure-namespace"

	// AppliedHashAnnotation is a hash of the last configuration applied to a
	// child. Together with a check that the live object still holds every
	// field of that configuration, it lets a restarted manager skip applies
	// that would change nothing.
	AppliedHashAnnotation = "exposure.dev/applied-hash"

	// Finalizer guards children in other namespaces, which owner references
	// cannot garbage-collect.
	Finalizer = "exposure.dev/cleanup"

	// EndpointSliceManagedBy is the endpointslice.kubernetes.io/managed-by
	// value of the EndpointSlices the operator writes for external
	// backends, so kube-controller-manager's mirroring leaves them alone.
	EndpointSliceManagedBy = "exposure-operator.exposure.dev"

	// MultusNetworksAnnotation is the pod annotation asking Multus for
	// secondary networks.
	MultusNetworksAnnotation = "k8s.v1.cni.cncf.io/networks"
	// MultusNetworkStatusAnnotation is the pod annotation in which Multus
	// reports the attached networks.
	MultusNetworkStatusAnnotation = "k8s.v1.cni.cncf.io/network-status"
)

// Deployment is the name of the workload's Deployment.
func Deployment(exposure string) string { return exposure }

// Service is the name of the Service.
func Service(exposure string) string { return exposure }

// EndpointSlice is the name of the EndpointSlice holding the external
// addresses of one IP family ("ipv4" or "ipv6"): a slice holds one family.
func EndpointSlice(exposure, family string) string { return exposure + "-external-" + family }

// Ingress is the name of the Ingress.
func Ingress(exposure string) string { return exposure }

// SelfSignedSecret is the name of the Secret holding a generated
// self-signed certificate.
func SelfSignedSecret(exposure string) string { return exposure + "-tls" }

// CertManagerSecret is the name of the Secret cert-manager fills for the
// Ingress. It differs from SelfSignedSecret so that switching between the
// two never hands one's Secret to the other.
func CertManagerSecret(exposure string) string { return exposure + "-cert" }

// NetworkPolicy is the name of the derived NetworkPolicy.
func NetworkPolicy(exposure string) string { return exposure }

// NetworkAttachmentDefinition is the name of the NAD for one secondary
// network.
func NetworkAttachmentDefinition(exposure, network string) string {
	return exposure + "-" + network
}

// SecondaryNetworkNAD is the NetworkAttachmentDefinition a secondary
// network uses: the operator's own for a network with a type, the
// referenced one otherwise.
func SecondaryNetworkNAD(exposure string, n v1alpha1.SecondaryNetwork) string {
	if n.Type == "" && n.NetworkAttachmentDefinition != "" {
		return n.NetworkAttachmentDefinition
	}
	return NetworkAttachmentDefinition(exposure, n.Name)
}

// Pool is the name of an operator-made MetalLB IPAddressPool (and of its
// advertisement). Pools live in one namespace for the whole cluster, so the
// name carries the Exposure's namespace; a hash keeps it a valid, bounded
// name however long the two are.
func Pool(namespace, exposure string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + exposure))
	base := namespace + "-" + exposure
	if len(base) > 52 {
		base = base[:52]
	}
	return base + "-" + hex.EncodeToString(sum[:])[:10]
}

// SelectorLabels are the labels a workload's pods carry and its Service
// selects.
func SelectorLabels(exposure string) map[string]string {
	return map[string]string{ExposureLabel: exposure}
}

// ChildLabels are the labels on every object written for an Exposure.
func ChildLabels(exposure string) map[string]string {
	return map[string]string{
		NameLabel:      exposure,
		ManagedByLabel: ManagedByValue,
		ExposureLabel:  exposure,
	}
}
