package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Optional fields carry no schema defaults on purpose: the controller resolves
// them, so the object stored in the cluster stays identical to the manifest in
// Git and GitOps tools never report drift. The defaults each field gets are
// written in its comment.

// ExposureSpec describes one workload and every way in which it is reached.
//
// +kubebuilder:validation:XValidation:rule="[has(self.workload), has(self.selector), has(self.external)].filter(b, b).size() == 1",message="exactly one of workload, selector or external must be set"
// +kubebuilder:validation:XValidation:rule="has(self.ports) || (has(self.external) && has(self.external.hostname))",message="at least one port is required (only an external.hostname backend may omit ports)",fieldPath=".ports",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="!has(self.loadBalancer) || (has(self.service) && has(self.service.type) && self.service.type == 'LoadBalancer')",message="only allowed when spec.service.type is LoadBalancer",fieldPath=".loadBalancer",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.ports) || !self.ports.exists(p, has(p.nodePort)) || (has(self.service) && has(self.service.type) && self.service.type in ['NodePort', 'LoadBalancer'])",message="nodePort is only allowed when spec.service.type is NodePort or LoadBalancer",fieldPath=".ports",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.hostAccess) || has(self.workload)",message="requires spec.workload (the operator can only set host access on pods it runs)",fieldPath=".hostAccess",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.secondaryNetworks) || has(self.workload)",message="requires spec.workload (the operator can only attach networks to pods it runs)",fieldPath=".secondaryNetworks",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.external) || !has(self.external.hostname) || !has(self.service)",message="not allowed with external.hostname (an ExternalName Service has no type, cluster IP or traffic policy)",fieldPath=".service",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.external) || !has(self.external.hostname) || !has(self.networkPolicy)",message="not allowed with external.hostname (there are no pods to protect)",fieldPath=".networkPolicy",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.networkPolicy) || !has(self.external)",message="not allowed with an external backend (there are no pods in the cluster to protect)",fieldPath=".networkPolicy",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.ports) || !has(self.workload) || self.ports.all(p, !has(p.targetPort) || type(p.targetPort) == int || (has(self.workload.ports) && self.workload.ports.exists(w, w.name == p.targetPort)))",message="a named targetPort must match the name of a port in spec.workload.ports",fieldPath=".ports"
// +kubebuilder:validation:XValidation:rule="!has(self.ingress) || !has(self.ingress.rules) || (has(self.ports) && self.ingress.rules.all(r, r.paths.all(p, !has(p.port) || self.ports.exists(q, q.name == p.port && (!has(q.protocol) || q.protocol == 'TCP')))))",message="paths[].port: must name a TCP port in spec.ports",fieldPath=".ingress.rules"
// +kubebuilder:validation:XValidation:rule="!has(self.ingress) || !has(self.ingress.defaultBackend) || !has(self.ingress.defaultBackend.port) || (has(self.ports) && self.ports.exists(q, q.name == self.ingress.defaultBackend.port && (!has(q.protocol) || q.protocol == 'TCP')))",message="must name a TCP port in spec.ports",messageExpression="self.ingress.defaultBackend.port + ': must name a TCP port in spec.ports'",fieldPath=".ingress.defaultBackend.port"
// +kubebuilder:validation:XValidation:rule="!has(self.ingress) || has(self.ports)",message="requires spec.ports (an Ingress routes to a Service port)",fieldPath=".ingress"
// +kubebuilder:validation:XValidation:rule="!has(self.ingress) || !has(self.ports) || self.ports.exists(p, !has(p.protocol) || p.protocol == 'TCP')",message="requires at least one TCP port in spec.ports",fieldPath=".ingress"
// +kubebuilder:validation:XValidation:rule="!has(self.secondaryNetworks) || !has(self.workload) || self.secondaryNetworks.all(n, !has(n.ipam) || !has(n.ipam.static) || n.ipam.static.addresses.size() >= (has(self.workload.replicas) ? self.workload.replicas : 1))",message="ipam.static.addresses: needs one address per replica (spec.workload.replicas, default 1): two pods can never share a static address",fieldPath=".secondaryNetworks"
// +kubebuilder:validation:XValidation:rule="!has(self.hostAccess) || !has(self.hostAccess.hostPorts) || !has(self.workload) || (has(self.workload.ports) && self.hostAccess.hostPorts.all(h, self.workload.ports.exists(w, w.name == h.port)))",message="port: must name a port in spec.workload.ports",fieldPath=".hostAccess.hostPorts"
// +kubebuilder:validation:XValidation:rule="!has(self.hostAccess) || !has(self.hostAccess.hostNetwork) || !self.hostAccess.hostNetwork || !has(self.hostAccess.hostPorts) || !has(self.workload) || !has(self.workload.ports) || self.hostAccess.hostPorts.all(h, !self.workload.ports.exists(w, w.name == h.port) || self.workload.ports.exists(w, w.name == h.port && w.containerPort == h.hostPort))",message="hostPort: with hostNetwork the host port is the container port; they must be equal",fieldPath=".hostAccess.hostPorts"
// +kubebuilder:validation:XValidation:rule="!has(self.hostAccess) || !has(self.hostAccess.hostNetwork) || !self.hostAccess.hostNetwork || !has(self.secondaryNetworks)",message="not possible with spec.hostAccess.hostNetwork (the kubelet runs no CNI plugin, so no Multus network, for host-network pods)",fieldPath=".secondaryNetworks",reason="FieldValueForbidden"
type ExposureSpec struct {
	// Workload makes the operator run the backend itself as a Deployment.
	// Exactly one of workload, selector or external is set.
	// +optional
	Workload *Workload `json:"workload,omitempty"`

	// Selector exposes pods that already exist and carry these labels
	// (a Service with this selector; the operator runs no pods).
	// Exactly one of workload, selector or external is set.
	// +optional
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=16
	Selector map[string]string `json:"selector,omitempty"`

	// External exposes backends that live outside the cluster: fixed
	// addresses (a selectorless Service with an EndpointSlice) or a DNS name
	// (an ExternalName Service). Exactly one of workload, selector or
	// external is set.
	// +optional
	External *ExternalBackend `json:"external,omitempty"`

	// Ports are the ports the Service offers. Required unless the backend
	// is external.hostname.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(p, self.exists_one(q, q.port == p.port && (has(q.protocol) ? q.protocol : 'TCP') == (has(p.protocol) ? p.protocol : 'TCP')))",message="each port and protocol pair must be unique"
	// +kubebuilder:validation:XValidation:rule="self.all(p, !has(p.nodePort) || self.exists_one(q, has(q.nodePort) && q.nodePort == p.nodePort && (has(q.protocol) ? q.protocol : 'TCP') == (has(p.protocol) ? p.protocol : 'TCP')))",message="each nodePort and protocol pair must be unique"
	Ports []ServicePort `json:"ports,omitempty"`

	// Service shapes the Service in front of the backend.
	// +optional
	Service *ServiceOptions `json:"service,omitempty"`

	// LoadBalancer configures how a LoadBalancer Service gets its address.
	// Only allowed when service.type is LoadBalancer.
	// +optional
	LoadBalancer *LoadBalancerOptions `json:"loadBalancer,omitempty"`

	// HostAccess lets the workload's pods use the node's network directly.
	// Requires a workload, and the operator's policy must grant it to the
	// namespace.
	// +optional
	HostAccess *HostAccess `json:"hostAccess,omitempty"`

	// Ingress publishes HTTP(S) routes to the Service: as a
	// networking.k8s.io/v1 Ingress, or, chosen by ingress.frontDoors, as
	// Gateway API HTTPRoutes or OpenShift Routes.
	// +optional
	Ingress *IngressOptions `json:"ingress,omitempty"`

	// NetworkPolicy restricts traffic to the workload's pods to exactly what
	// this Exposure opens.
	// +optional
	NetworkPolicy *NetworkPolicyOptions `json:"networkPolicy,omitempty"`

	// SecondaryNetworks attach the workload's pods to extra networks through
	// Multus NetworkAttachmentDefinitions. Requires a workload.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=8
	SecondaryNetworks []SecondaryNetwork `json:"secondaryNetworks,omitempty"`

	// Reachability says what the operator's prober means to this
	// Exposure. The prober (when the cluster admin turns it on) connects to
	// the addresses in status.addresses and reports, per address, whether
	// it answered, summarised in the Reachable condition.
	// +optional
	Reachability *ReachabilityOptions `json:"reachability,omitempty"`

	// Patches are applied to the generated objects after rendering, with
	// kustomize semantics: a strategic-merge patch or a JSON 6902 patch
	// (the kind is detected from the patch text). The escape hatch for
	// anything this API does not expose.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	Patches []Patch `json:"patches,omitempty"`
}

// ReachabilityOptions are the user's part of reachability probing; what is
// probed, how often and where to are the cluster admin's (the operator's
// policy).
type ReachabilityOptions struct {
	// RequiredForReady makes Ready wait for the Reachable condition: the
	// Exposure is Ready only once every address the prober could probe
	// answered. Off by default: Ready then follows what the cluster's
	// controllers report, and Reachable is information beside it. With
	// probing turned off by the admin, a required Reachable stays Unknown
	// (ProbingDisabled) and Ready False.
	// +optional
	RequiredForReady bool `json:"requiredForReady,omitempty"`
}

// Workload is a Deployment that the operator owns.
type Workload struct {
	// Image is the container image to run.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="!self.contains(' ')",message="must not contain spaces"
	Image string `json:"image"`

	// Replicas is the number of pods. Defaults to 1.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Replicas *int32 `json:"replicas,omitempty"`

	// Command overrides the image's entrypoint.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=4096
	Command []string `json:"command,omitempty"`

	// Args are the arguments to the entrypoint.
	// +optional
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MaxLength=4096
	Args []string `json:"args,omitempty"`

	// Ports are the ports the container listens on. Service ports refer to
	// them by name through targetPort.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(p, self.exists_one(q, q.containerPort == p.containerPort && (has(q.protocol) ? q.protocol : 'TCP') == (has(p.protocol) ? p.protocol : 'TCP')))",message="each containerPort and protocol pair must be unique"
	Ports []ContainerPort `json:"ports,omitempty"`

	// Env sets environment variables in the container.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=128
	Env []corev1.EnvVar `json:"env,omitempty"`

	// Resources are the container's compute resource requests and limits.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// ReadinessProbe decides when a pod receives traffic.
	// +optional
	ReadinessProbe *corev1.Probe `json:"readinessProbe,omitempty"`

	// LivenessProbe decides when a container is restarted.
	// +optional
	LivenessProbe *corev1.Probe `json:"livenessProbe,omitempty"`

	// StartupProbe holds the other probes back until the container started.
	// +optional
	StartupProbe *corev1.Probe `json:"startupProbe,omitempty"`

	// ServiceAccountName is the service account the pods run as. Defaults to
	// the namespace's default service account.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// NodeSelector restricts the pods to nodes with these labels.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// PodLabels are extra labels on the pods. They cannot replace the labels
	// the operator selects pods by.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k.startsWith('exposure.dev/') || k.startsWith('app.kubernetes.io/'))",message="keys under exposure.dev/ and app.kubernetes.io/ are reserved for the operator"
	PodLabels map[string]string `json:"podLabels,omitempty"`

	// PodAnnotations are extra annotations on the pods.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="!self.exists(k, k == 'k8s.v1.cni.cncf.io/networks')",message="k8s.v1.cni.cncf.io/networks is set from spec.secondaryNetworks"
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`
}

// ContainerPort is a port the workload's container listens on.
type ContainerPort struct {
	// Name identifies the port; Service ports refer to it through targetPort.
	// An IANA service name: at most 15 lower-case letters, digits and
	// dashes, with at least one letter.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self.matches('[a-z]') && !self.contains('--')",message="must contain a letter and no double dash (IANA service name)"
	Name string `json:"name"`

	// ContainerPort is the port number inside the container.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	ContainerPort int32 `json:"containerPort"`

	// Protocol is TCP, UDP or SCTP. Defaults to TCP.
	// +optional
	Protocol Protocol `json:"protocol,omitempty"`
}

// Protocol is a transport protocol.
// +kubebuilder:validation:Enum=TCP;UDP;SCTP
type Protocol string

// Transport protocols.
const (
	ProtocolTCP  Protocol = "TCP"
	ProtocolUDP  Protocol = "UDP"
	ProtocolSCTP Protocol = "SCTP"
)

// ExternalBackend is a backend outside the cluster. Exactly one of addresses
// or hostname is set.
// +kubebuilder:validation:XValidation:rule="has(self.addresses) != has(self.hostname)",message="exactly one of addresses or hostname must be set"
type ExternalBackend struct {
	// Addresses are the backend's IP addresses. The operator writes them as
	// a discovery.k8s.io/v1 EndpointSlice behind a selectorless Service.
	// Loopback, link-local and unspecified addresses are refused: they would
	// point every client at itself.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	Addresses []EndpointIP `json:"addresses,omitempty"`

	// Hostname is a DNS name; the Service becomes an ExternalName Service
	// that resolves to it.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Hostname string `json:"hostname,omitempty"`
}

// EndpointIP is a routable IP address of a backend.
// +kubebuilder:validation:MaxLength=45
// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be a valid IP address"
// +kubebuilder:validation:XValidation:rule="!isIP(self) || (!ip(self).isLoopback() && !ip(self).isLinkLocalUnicast() && !ip(self).isLinkLocalMulticast() && !ip(self).isUnspecified())",message="must not be a loopback, link-local or unspecified address"
type EndpointIP string

// ServicePort is a port the Service offers.
// +kubebuilder:validation:XValidation:rule="!has(self.gatewayRoute) || (has(self.protocol) && self.protocol == 'UDP' ? self.gatewayRoute.kind == 'UDPRoute' : ((!has(self.protocol) || self.protocol == 'TCP') && self.gatewayRoute.kind != 'UDPRoute'))",message="TCPRoute and TLSRoute publish TCP ports, UDPRoute publishes UDP ports (SCTP has no route)",messageExpression="self.gatewayRoute.kind + ' cannot publish a ' + (has(self.protocol) ? self.protocol : 'TCP') + ' port: TCPRoute and TLSRoute publish TCP ports, UDPRoute publishes UDP ports (SCTP has no route)'",fieldPath=".gatewayRoute.kind"
type ServicePort struct {
	// Name identifies the port: Ingress paths and the status refer to it.
	// An IANA service name: at most 15 lower-case letters, digits and
	// dashes, with at least one letter.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self.matches('[a-z]') && !self.contains('--')",message="must contain a letter and no double dash (IANA service name)"
	Name string `json:"name"`

	// Port is the port the Service listens on.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`

	// TargetPort is the backend's port: a number, or the name of a port in
	// spec.workload.ports (with a selector backend, of a port of the pods).
	// A name is an IANA service name: at most 15 lower-case letters, digits
	// and single dashes, with at least one letter. Defaults to the workload
	// port with the same name when there is one, else to the same number as
	// port.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^([0-9]+-)*[0-9]*[a-z][a-z0-9]*(-[a-z0-9]+)*$`
	// +kubebuilder:validation:XValidation:rule="type(self) != int || (self >= 1 && self <= 65535)",message="must be a port number in 1-65535 or a port name"
	TargetPort *intstr.IntOrString `json:"targetPort,omitempty"`

	// Protocol is TCP, UDP or SCTP. Defaults to TCP.
	// +optional
	Protocol Protocol `json:"protocol,omitempty"`

	// NodePort fixes the port opened on every node (NodePort and
	// LoadBalancer Services only). Left out, the API server picks one. It
	// must lie in the cluster's node-port range (kube-apiserver
	// --service-node-port-range, 30000-32767 unless the admin set another):
	// the API server refuses a port outside it, and the Exposure reports
	// that refusal as Stalled with reason ApplyFailed.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	NodePort *int32 `json:"nodePort,omitempty"`

	// AppProtocol hints the application protocol (e.g. http, https,
	// kubernetes.io/h2c) to proxies and load balancers.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^([a-z0-9.-]+/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$`
	AppProtocol string `json:"appProtocol,omitempty"`

	// GatewayRoute publishes this port through Gateway API Gateways as a
	// TCPRoute, TLSRoute (passthrough) or UDPRoute, for traffic that is
	// not HTTP (HTTP goes through spec.ingress). Left out, no route.
	// +optional
	GatewayRoute *PortRoute `json:"gatewayRoute,omitempty"`
}

// ServiceType is how the Service is reached.
// +kubebuilder:validation:Enum=ClusterIP;Headless;NodePort;LoadBalancer
type ServiceType string

// Service types.
const (
	ServiceTypeClusterIP    ServiceType = "ClusterIP"
	ServiceTypeHeadless     ServiceType = "Headless"
	ServiceTypeNodePort     ServiceType = "NodePort"
	ServiceTypeLoadBalancer ServiceType = "LoadBalancer"
	// ServiceTypeExternalName is never written in a spec: it is what the
	// status reports for an external.hostname backend.
	ServiceTypeExternalName ServiceType = "ExternalName"
)

// ServiceOptions shapes the Service.
// +kubebuilder:validation:XValidation:rule="!has(self.clusterIP) || !has(self.type) || self.type != 'Headless'",message="not allowed with type Headless (a headless Service has no cluster IP)",fieldPath=".clusterIP",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.externalTrafficPolicy) || (has(self.type) && self.type in ['NodePort', 'LoadBalancer'])",message="only allowed with type NodePort or LoadBalancer",fieldPath=".externalTrafficPolicy",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.sessionAffinityTimeoutSeconds) || (has(self.sessionAffinity) && self.sessionAffinity == 'ClientIP')",message="only allowed with sessionAffinity ClientIP",fieldPath=".sessionAffinityTimeoutSeconds",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.sessionAffinity) || self.sessionAffinity == 'None' || !has(self.type) || self.type != 'Headless'",message="ClientIP is not possible with type Headless (clients connect to pods directly)",fieldPath=".sessionAffinity",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.ipFamilyPolicy) || !has(self.clusterIP) || self.ipFamilyPolicy == 'SingleStack'",message="a fixed clusterIP is a single address, so only SingleStack fits",fieldPath=".ipFamilyPolicy"
type ServiceOptions struct {
	// Type is ClusterIP (the default), Headless (DNS names the pods
	// directly, no virtual IP), NodePort or LoadBalancer.
	// +optional
	Type ServiceType `json:"type,omitempty"`

	// ClusterIP fixes the Service's virtual IP; it must lie in the
	// cluster's service range. Left out, the API server picks one.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self) && !ip(self).isUnspecified()",message="must be a valid IP address"
	ClusterIP string `json:"clusterIP,omitempty"`

	// SessionAffinity is None (the default) or ClientIP, which sends each
	// client to the same pod.
	// +optional
	// +kubebuilder:validation:Enum=None;ClientIP
	SessionAffinity corev1.ServiceAffinity `json:"sessionAffinity,omitempty"`

	// SessionAffinityTimeoutSeconds is how long a ClientIP affinity lasts.
	// Defaults to 10800 (3 hours).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	SessionAffinityTimeoutSeconds *int32 `json:"sessionAffinityTimeoutSeconds,omitempty"`

	// ExternalTrafficPolicy is Cluster (the default) or Local, which keeps
	// the client's source address and only uses node-local pods.
	// +optional
	// +kubebuilder:validation:Enum=Cluster;Local
	ExternalTrafficPolicy corev1.ServiceExternalTrafficPolicy `json:"externalTrafficPolicy,omitempty"`

	// InternalTrafficPolicy is Cluster (the default) or Local.
	// +optional
	// +kubebuilder:validation:Enum=Cluster;Local
	InternalTrafficPolicy corev1.ServiceInternalTrafficPolicy `json:"internalTrafficPolicy,omitempty"`

	// IPFamilyPolicy is SingleStack (the default), PreferDualStack or
	// RequireDualStack.
	// +optional
	// +kubebuilder:validation:Enum=SingleStack;PreferDualStack;RequireDualStack
	IPFamilyPolicy corev1.IPFamilyPolicy `json:"ipFamilyPolicy,omitempty"`

	// PublishNotReadyAddresses publishes pods before they are ready (useful
	// for peer discovery through a headless Service). Defaults to false.
	// +optional
	PublishNotReadyAddresses *bool `json:"publishNotReadyAddresses,omitempty"`
}

// AddressRange is a single IP, a CIDR, or a range "first-last" of one family.
// +kubebuilder:validation:MaxLength=91
// +kubebuilder:validation:XValidation:rule="isIP(self) || isCIDR(self) || (self.split('-').size() == 2 && isIP(self.split('-')[0]) && isIP(self.split('-')[1]) && ip(self.split('-')[0]).family() == ip(self.split('-')[1]).family())",message="must be an IP address, a CIDR (192.168.50.0/28) or a range of one family (192.168.50.20-192.168.50.30)"
// +kubebuilder:validation:XValidation:rule="!(self.split('-').size() == 2 && isIP(self.split('-')[0]) && isIP(self.split('-')[1]) && ip(self.split('-')[0]).family() == 4 && ip(self.split('-')[1]).family() == 4) || int(self.split('-')[0].split('.')[0]) * 16777216 + int(self.split('-')[0].split('.')[1]) * 65536 + int(self.split('-')[0].split('.')[2]) * 256 + int(self.split('-')[0].split('.')[3]) <= int(self.split('-')[1].split('.')[0]) * 16777216 + int(self.split('-')[1].split('.')[1]) * 65536 + int(self.split('-')[1].split('.')[2]) * 256 + int(self.split('-')[1].split('.')[3])",message="a range must run from the lower to the higher address"
type AddressRange string

// Advertisement is how MetalLB announces an address.
// +kubebuilder:validation:Enum=L2;BGP
type Advertisement string

// Advertisement modes.
const (
	AdvertisementL2  Advertisement = "L2"
	AdvertisementBGP Advertisement = "BGP"
)

// LoadBalancerOptions configures a LoadBalancer Service's address. Use ip
// alone for a fixed address from the cluster's pools, pool to name an
// administrator's MetalLB pool, or addresses to have the operator create a
// pool for this Exposure alone.
// +kubebuilder:validation:XValidation:rule="!(has(self.pool) && has(self.addresses))",message="pool and addresses are mutually exclusive (name an existing pool, or give addresses for a new one)",fieldPath=".addresses",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.advertisement) || has(self.addresses)",message="only allowed with addresses (the pool the operator creates is announced this way)",fieldPath=".advertisement",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.ip) || !has(self.addresses) || !isIP(self.ip) || self.addresses.exists(a, isCIDR(a) ? cidr(a).containsIP(self.ip) : (isIP(a) ? ip(a) == ip(self.ip) : (a.split('-').size() == 2 && isIP(a.split('-')[0]) && isIP(a.split('-')[1]) && ip(a.split('-')[0]).family() == ip(self.ip).family() && ip(a.split('-')[1]).family() == ip(self.ip).family() && (ip(self.ip).family() == 6 || ((int(a.split('-')[0].split('.')[0]) * 16777216 + int(a.split('-')[0].split('.')[1]) * 65536 + int(a.split('-')[0].split('.')[2]) * 256 + int(a.split('-')[0].split('.')[3])) <= (int(self.ip.split('.')[0]) * 16777216 + int(self.ip.split('.')[1]) * 65536 + int(self.ip.split('.')[2]) * 256 + int(self.ip.split('.')[3])) && (int(self.ip.split('.')[0]) * 16777216 + int(self.ip.split('.')[1]) * 65536 + int(self.ip.split('.')[2]) * 256 + int(self.ip.split('.')[3])) <= (int(a.split('-')[1].split('.')[0]) * 16777216 + int(a.split('-')[1].split('.')[1]) * 65536 + int(a.split('-')[1].split('.')[2]) * 256 + int(a.split('-')[1].split('.')[3])))))))",message="must lie inside spec.loadBalancer.addresses",messageExpression="self.ip + ' must lie inside spec.loadBalancer.addresses (' + self.addresses.join(', ') + ')'",fieldPath=".ip"
// +kubebuilder:validation:XValidation:rule="!has(self.loadBalancerClass) || (!has(self.pool) && !has(self.addresses) && !has(self.ip))",message="another load-balancer implementation ignores MetalLB's ip, pool and addresses; leave them out",fieldPath=".loadBalancerClass",reason="FieldValueForbidden"
type LoadBalancerOptions struct {
	// IP is the fixed address to ask for (MetalLB's
	// metallb.io/loadBalancerIPs annotation; spec.loadBalancerIP, deprecated
	// upstream, is never set). With addresses, it must lie inside them.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self) && ip(self).isGlobalUnicast()",message="must be a valid unicast IP address"
	IP string `json:"ip,omitempty"`

	// Pool names an existing MetalLB IPAddressPool to take the address
	// from (the metallb.io/address-pool annotation). The operator's policy
	// must allow the namespace to use it.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Pool string `json:"pool,omitempty"`

	// Addresses make the operator create a MetalLB IPAddressPool for this
	// Exposure alone (not auto-assigned, restricted to this namespace) and
	// an advertisement for it. Each entry is an IP, a CIDR or a range
	// "first-last". The operator's policy must allow the namespace to claim
	// them, and they must not overlap any other pool.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Addresses []AddressRange `json:"addresses,omitempty"`

	// Advertisement is how the operator-made pool is announced: L2 (ARP/NDP,
	// the default) or BGP.
	// +optional
	Advertisement Advertisement `json:"advertisement,omitempty"`

	// SourceRanges limits which client networks may reach the load
	// balancer (CIDRs). Left out, every client may.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=49
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self)",message="must be a CIDR such as 10.0.0.0/8"
	SourceRanges []string `json:"sourceRanges,omitempty"`

	// LoadBalancerClass selects a load-balancer implementation other than
	// the cluster's default (spec.loadBalancerClass of the Service).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`
	LoadBalancerClass string `json:"loadBalancerClass,omitempty"`

	// SharingKey lets Services of this namespace share one address on
	// different ports (MetalLB's metallb.io/allow-shared-ip). Only Services
	// in the same namespace ever share: the operator scopes the key to it.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	SharingKey string `json:"sharingKey,omitempty"`
}

// HostAccess lets pods use the node's network.
type HostAccess struct {
	// HostNetwork runs the pods in the node's network namespace.
	// +optional
	HostNetwork *bool `json:"hostNetwork,omitempty"`

	// HostPorts open workload ports on the node's addresses.
	// +optional
	// +listType=map
	// +listMapKey=port
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(h, self.exists_one(o, o.hostPort == h.hostPort))",message="each host port may be used once"
	HostPorts []HostPort `json:"hostPorts,omitempty"`
}

// HostPort maps a workload port onto the node.
type HostPort struct {
	// Port is the name of a port in spec.workload.ports.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	Port string `json:"port"`

	// HostPort is the port number opened on the node.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	HostPort int32 `json:"hostPort"`
}

// IngressOptions describes the HTTP routes and the front doors that
// publish them.
// +kubebuilder:validation:XValidation:rule="has(self.rules) || has(self.defaultBackend)",message="needs rules or a defaultBackend"
// +kubebuilder:validation:XValidation:rule="!has(self.tls) || !has(self.tls.hosts) || (has(self.rules) && self.tls.hosts.all(h, self.rules.exists(r, has(r.host) && r.host == h)))",message="each host must be the host of a rule in spec.ingress.rules",fieldPath=".tls.hosts"
// +kubebuilder:validation:XValidation:rule="!has(self.tls) || (has(self.rules) && self.rules.exists(r, has(r.host)))",message="needs at least one rule with a host (a certificate names hosts)",fieldPath=".tls"
// +kubebuilder:validation:XValidation:rule="!has(self.rewriteTarget) || !self.rewriteTarget.matches('[$][0-9]') || (has(self.rules) && self.rules.exists(r, r.paths.exists(p, p.path.contains('('))))",message="refers to a capture group ($1...) but no path in spec.ingress.rules has one; write the path as a regular expression such as /shop(/|$)(.*)",fieldPath=".rewriteTarget"
// +kubebuilder:validation:XValidation:rule="!has(self.rules) || self.rules.all(r, self.rules.exists_one(o, has(o.host) == has(r.host) && (!has(o.host) || o.host == r.host)))",message="each host may appear in one rule only; list its paths together",fieldPath=".rules"
// +kubebuilder:validation:XValidation:rule="!has(self.sslRedirect) || !self.sslRedirect || has(self.tls)",message="redirecting to HTTPS needs spec.ingress.tls",fieldPath=".sslRedirect",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'HTTPRoute' in self.frontDoors) || has(self.gateway)",message="required with the HTTPRoute front door (gateway.parentRefs names the Gateways the routes attach to)",fieldPath=".gateway",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="!has(self.frontDoors) || !('Ingress' in self.frontDoors && 'Route' in self.frontDoors)",message="Ingress and Route together would give one host two Routes on OpenShift (it turns an Ingress into a Route itself); choose one",fieldPath=".frontDoors"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'HTTPRoute' in self.frontDoors) || !has(self.rateLimitRPS)",message="the Gateway API has no rate limit, so an HTTPRoute cannot carry it; rate-limit at the Gateway, or keep the Ingress front door alone",fieldPath=".rateLimitRPS",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'HTTPRoute' in self.frontDoors) || !has(self.annotations)",message="ingress-controller annotations have no Gateway API equivalent, so an HTTPRoute cannot carry them; remove them, or keep the Ingress front door alone",fieldPath=".annotations",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'HTTPRoute' in self.frontDoors) || !has(self.backendProtocol) || self.backendProtocol in ['HTTP', 'GRPC'] || has(self.backendTLS)",message="required with the HTTPRoute front door and an HTTPS or GRPCS backend: the Gateway checks the pods' certificate against backendTLS.hostname (a BackendTLSPolicy)",fieldPath=".backendTLS",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="!has(self.backendTLS) || (has(self.backendProtocol) && self.backendProtocol in ['HTTPS', 'GRPCS'])",message="only with backendProtocol HTTPS or GRPCS (TLS to the pods)",fieldPath=".backendTLS",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'HTTPRoute' in self.frontDoors) || !has(self.backendProtocol) || !(self.backendProtocol in ['GRPC', 'GRPCS']) || !has(self.rules) || self.rules.all(r, r.paths.all(p, p.path == '/'))",message="a gRPC backend is reached through a GRPCRoute, which routes by host only: every paths[].path must be /",fieldPath=".rules"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'HTTPRoute' in self.frontDoors) || !has(self.backendProtocol) || !(self.backendProtocol in ['GRPC', 'GRPCS']) || !has(self.rewriteTarget)",message="a gRPC backend is reached through a GRPCRoute, which does not rewrite paths; remove rewriteTarget",fieldPath=".rewriteTarget",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'HTTPRoute' in self.frontDoors) || !has(self.rewriteTarget) || !self.rewriteTarget.matches('[$][0-9]')",message="capture groups have no Gateway API equivalent; with an HTTPRoute use a plain prefix such as / (it replaces the matched path prefix)",fieldPath=".rewriteTarget"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'HTTPRoute' in self.frontDoors) || !has(self.rules) || self.rules.all(r, r.paths.all(p, has(p.pathType) ? p.pathType != 'ImplementationSpecific' : !p.path.matches('[()\\\\[\\\\]*+?|^$]')))",message="an HTTPRoute matches Prefix and Exact paths only; regular-expression and ImplementationSpecific paths[] are not carried over",fieldPath=".rules"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'HTTPRoute' in self.frontDoors) || (!has(self.frontDoors) || 'Ingress' in self.frontDoors) || (has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.tls)",message="an HTTPRoute does not terminate TLS, the Gateway listener does with the admin's certificate; remove tls, or keep an Ingress front door that uses it",fieldPath=".tls",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'HTTPRoute' in self.frontDoors) || (!has(self.frontDoors) || 'Ingress' in self.frontDoors) || (has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.sslRedirect)",message="redirecting to HTTPS is the Gateway listener's job with an HTTPRoute; remove sslRedirect, or keep an Ingress front door that uses it",fieldPath=".sslRedirect",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.rateLimitRPS)",message="not carried over to an OpenShift Route (its router counts connections, not requests per second); remove it or use the Ingress front door",fieldPath=".rateLimitRPS",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.annotations)",message="ingress-controller annotations are not carried over to an OpenShift Route; remove them or use the Ingress front door",fieldPath=".annotations",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.backendProtocol) || self.backendProtocol in ['HTTP', 'HTTPS']",message="an OpenShift Route front door carries HTTP and HTTPS backends only",fieldPath=".backendProtocol"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.rewriteTarget) || !self.rewriteTarget.matches('[$][0-9]')",message="capture groups are not carried over to an OpenShift Route; use a plain path such as /",fieldPath=".rewriteTarget"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.rules) || self.rules.all(r, r.paths.all(p, (!has(p.pathType) || p.pathType == 'Prefix') && !p.path.matches('[()\\\\[\\\\]*+?|^$]')))",message="an OpenShift Route matches path prefixes only; Exact, ImplementationSpecific and regular-expression paths[] are not carried over",fieldPath=".rules"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.rules) || self.rules.all(r, !has(r.host) || !r.host.startsWith('*.'))",message="wildcard hosts are not carried over to an OpenShift Route (the router admits them only by its own wildcard policy); list the hosts",fieldPath=".rules"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.tls) || !has(self.tls.certManager)",message="cert-manager does not issue into OpenShift Routes by itself; use secretName or selfSigned with the Route front door",fieldPath=".tls.certManager",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.route) || !has(self.route.termination) || self.route.termination != 'passthrough' || !has(self.tls)",message="a passthrough Route (route.termination) sends TLS to the pods, which hold the certificate; remove tls",fieldPath=".tls",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.route) || !has(self.route.termination) || self.route.termination == 'passthrough' || has(self.tls)",message="required by route.termination edge and reencrypt (the certificate the router serves)",fieldPath=".tls",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.route) || !has(self.route.termination) || self.route.termination != 'passthrough' || !has(self.rules) || self.rules.all(r, r.paths.all(p, p.path == '/'))",message="a passthrough Route cannot look into the request, so every paths[].path must be /",fieldPath=".rules"
// +kubebuilder:validation:XValidation:rule="!(has(self.frontDoors) && 'Route' in self.frontDoors) || !has(self.route) || !has(self.route.termination) || self.route.termination != 'passthrough' || !has(self.rewriteTarget)",message="a passthrough Route cannot rewrite what it cannot read; remove rewriteTarget",fieldPath=".rewriteTarget",reason="FieldValueForbidden"
type IngressOptions struct {
	// ClassName is the IngressClass to use. Left out, the cluster's default
	// IngressClass applies (ingressClassName is then not written).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	ClassName *string `json:"className,omitempty"`

	// Rules route hosts and paths to the Service's ports.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	Rules []IngressRule `json:"rules,omitempty"`

	// DefaultBackend receives requests that match no rule.
	// +optional
	DefaultBackend *IngressBackend `json:"defaultBackend,omitempty"`

	// TLS serves the rule hosts over HTTPS.
	// +optional
	TLS *IngressTLS `json:"tls,omitempty"`

	// RewriteTarget rewrites the matched path before it reaches the
	// backend; "$1", "$2" refer to capture groups of regular-expression
	// paths (which then use pathType ImplementationSpecific).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^/[^\s'"\\;{}]*$`
	RewriteTarget string `json:"rewriteTarget,omitempty"`

	// RateLimitRPS limits requests per second from each client address.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	RateLimitRPS *int32 `json:"rateLimitRPS,omitempty"`

	// SSLRedirect redirects plain HTTP to HTTPS. Left out, the ingress
	// controller's default applies.
	// +optional
	SSLRedirect *bool `json:"sslRedirect,omitempty"`

	// BackendProtocol is the protocol between the ingress controller and the
	// pods: HTTP (the default), HTTPS, GRPC or GRPCS.
	// +optional
	// +kubebuilder:validation:Enum=HTTP;HTTPS;GRPC;GRPCS
	BackendProtocol string `json:"backendProtocol,omitempty"`

	// Annotations are added to the Ingress as they are, for settings of an
	// ingress controller that this API does not model. They cannot replace
	// the annotations the fields above produce.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.size() <= 253 && k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$'))",message="keys must be valid annotation names (optional DNS prefix, then a name)"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.lowerAscii().contains('snippet'))",message="snippet annotations inject raw configuration into a shared ingress controller and are refused"
	// +kubebuilder:validation:XValidation:rule="self.all(k, self[k].size() <= 4096)",message="values are limited to 4096 characters"
	Annotations map[string]string `json:"annotations,omitempty"`

	// FrontDoors are the kinds these routes are published as: Ingress,
	// HTTPRoute (Gateway API, one per host, attached to gateway.parentRefs)
	// and Route (OpenShift, one per host and path). Left out, [Ingress].
	// Moving from Ingress to HTTPRoute is a change of this one field: the
	// Ingress is deleted only once every parent Gateway has accepted the
	// HTTPRoutes, so traffic never finds no front door.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=3
	FrontDoors []FrontDoor `json:"frontDoors,omitempty"`

	// Gateway names the Gateways the HTTPRoutes attach to. Required with
	// the HTTPRoute front door, and only used by it; it may be set before
	// HTTPRoute is listed, so that the move is a change of frontDoors
	// alone.
	// +optional
	Gateway *GatewayAttachment `json:"gateway,omitempty"`

	// Route shapes the OpenShift Routes. Only used by the Route front
	// door (it may be set before Route is listed).
	// +optional
	Route *RouteOptions `json:"route,omitempty"`

	// BackendTLS is how a Gateway checks the pods' certificate when it
	// speaks TLS to them (backendProtocol HTTPS or GRPCS): the operator
	// writes a BackendTLSPolicy for the Service. Required with those and
	// the HTTPRoute front door, only used by it.
	// +optional
	BackendTLS *BackendTLS `json:"backendTLS,omitempty"`
}

// HasFrontDoor reports whether the routes are published as this kind
// (frontDoors left out means Ingress alone).
func (in *IngressOptions) HasFrontDoor(f FrontDoor) bool {
	if in == nil {
		return false
	}
	if len(in.FrontDoors) == 0 {
		return f == FrontDoorIngress
	}
	for _, d := range in.FrontDoors {
		if d == f {
			return true
		}
	}
	return false
}

// IngressRule routes one host (or every host) to the Service.
type IngressRule struct {
	// Host is the fully qualified domain name this rule matches; a leading
	// "*." matches one label. Left out, the rule matches every host.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$`
	Host string `json:"host,omitempty"`

	// Paths are the URL paths of this host and the port each goes to.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(p, self.exists_one(q, q.path == p.path))",message="each path may appear once per host"
	Paths []IngressPath `json:"paths"`
}

// IngressPath routes one URL path to a Service port.
// +kubebuilder:validation:XValidation:rule="!has(self.pathType) || self.pathType == 'ImplementationSpecific' || !self.path.matches('[()\\\\[\\\\]*+?|^$]')",message="a regular-expression path needs pathType ImplementationSpecific (or leave pathType out)",messageExpression="self.path + ' is a regular expression: it needs pathType ImplementationSpecific (or leave pathType out)'",fieldPath=".path"
type IngressPath struct {
	// Path is matched against the request's URL path; it starts with "/".
	// It may be a regular expression with capture groups for rewriteTarget.
	// Printable ASCII only: other characters are percent-encoded, as they
	// travel in the request line.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^/[^\s'"\\;{}]*$`
	// +kubebuilder:validation:XValidation:rule="self.matches('^[!-~]*$')",message="printable ASCII only: percent-encode other characters (RFC 3986)"
	Path string `json:"path"`

	// PathType is Prefix (the default for plain paths), Exact or
	// ImplementationSpecific (the default for regular-expression paths).
	// +optional
	// +kubebuilder:validation:Enum=Prefix;Exact;ImplementationSpecific
	PathType *networkingv1.PathType `json:"pathType,omitempty"`

	// Port is the name of the port in spec.ports the path goes to. Defaults
	// to the first TCP port.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	Port string `json:"port,omitempty"`
}

// IngressBackend is where unmatched requests go.
type IngressBackend struct {
	// Port is the name of the port in spec.ports. Defaults to the first TCP
	// port.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	Port string `json:"port,omitempty"`
}

// IngressTLS says where the certificate comes from: exactly one of
// secretName, selfSigned or certManager.
// +kubebuilder:validation:XValidation:rule="[has(self.secretName), has(self.selfSigned) && self.selfSigned, has(self.certManager)].filter(b, b).size() == 1",message="exactly one of secretName, selfSigned: true or certManager must be set"
type IngressTLS struct {
	// SecretName is an existing kubernetes.io/tls Secret in this namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	SecretName string `json:"secretName,omitempty"`

	// SelfSigned makes the operator generate a self-signed certificate for
	// the hosts into a Secret it owns; it is kept across reconciles and
	// renewed before it expires.
	// +optional
	SelfSigned *bool `json:"selfSigned,omitempty"`

	// CertManager asks cert-manager for the certificate through its
	// ingress-shim annotations.
	// +optional
	CertManager *CertManagerIssuer `json:"certManager,omitempty"`

	// Hosts limits TLS to these rule hosts. Defaults to every rule host.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	Hosts []string `json:"hosts,omitempty"`
}

// CertManagerIssuer names a cert-manager issuer.
type CertManagerIssuer struct {
	// Issuer is the name of the Issuer or ClusterIssuer.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Issuer string `json:"issuer"`

	// Kind is Issuer (in this namespace, the default) or ClusterIssuer.
	// +optional
	// +kubebuilder:validation:Enum=Issuer;ClusterIssuer
	Kind string `json:"kind,omitempty"`
}

// NetworkPolicyOptions derives a NetworkPolicy from the front doors.
type NetworkPolicyOptions struct {
	// Enabled makes the operator deny all other ingress to the workload's
	// pods and allow exactly the ports this Exposure opens.
	Enabled bool `json:"enabled"`

	// AllowFrom limits in-cluster clients to these peers. Left out, any pod
	// in the cluster may reach the exposed ports. Ingress-controller and
	// load-balancer traffic is allowed separately. Each peer is a pod and/or
	// namespace selector, or an ipBlock alone. (The ipBlock CIDRs are checked
	// when the NetworkPolicy is applied: the upstream type has no length
	// limits, so a CEL check on them exceeds the apiserver's cost budget.)
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:XValidation:rule="has(self.podSelector) || has(self.namespaceSelector) || has(self.ipBlock)",message="set podSelector, namespaceSelector or ipBlock"
	// +kubebuilder:validation:items:XValidation:rule="!has(self.ipBlock) || (!has(self.podSelector) && !has(self.namespaceSelector))",message="an ipBlock peer takes no podSelector or namespaceSelector"
	AllowFrom []networkingv1.NetworkPolicyPeer `json:"allowFrom,omitempty"`
}

// NetworkType is a CNI plugin for a secondary network.
// +kubebuilder:validation:Enum=host-device;macvlan;ipvlan;bridge
type NetworkType string

// Secondary network types.
const (
	NetworkTypeHostDevice NetworkType = "host-device"
	NetworkTypeMacvlan    NetworkType = "macvlan"
	NetworkTypeIPvlan     NetworkType = "ipvlan"
	NetworkTypeBridge     NetworkType = "bridge"
)

// SecondaryNetwork attaches the pods to one extra network: either one the
// operator defines (type and its fields) or an existing
// NetworkAttachmentDefinition in this namespace.
// +kubebuilder:validation:XValidation:rule="has(self.type) != has(self.networkAttachmentDefinition)",message="exactly one of type or networkAttachmentDefinition must be set"
// +kubebuilder:validation:XValidation:rule="!has(self.networkAttachmentDefinition) || (!has(self.device) && !has(self.master) && !has(self.bridge) && !has(self.mode) && !has(self.ipam) && !has(self.mtu))",message="a networkAttachmentDefinition reference takes no device, master, bridge, mode, mtu or ipam"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'host-device' || has(self.device)",message="required for type host-device",fieldPath=".device",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || !(self.type in ['macvlan', 'ipvlan']) || has(self.master)",message="required for type macvlan and ipvlan",fieldPath=".master",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="!has(self.mtu) || !has(self.type) || self.type != 'host-device'",message="host-device moves the NIC as it is; it takes no mtu",fieldPath=".mtu",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.device) || (has(self.type) && self.type == 'host-device')",message="only for type host-device",fieldPath=".device",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.master) || (has(self.type) && self.type in ['macvlan', 'ipvlan'])",message="only for type macvlan and ipvlan",fieldPath=".master",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.bridge) || (has(self.type) && self.type == 'bridge')",message="only for type bridge",fieldPath=".bridge",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.mode) || (has(self.type) && ((self.type == 'macvlan' && self.mode in ['bridge', 'private', 'vepa', 'passthru']) || (self.type == 'ipvlan' && self.mode in ['l2', 'l3', 'l3s'])))",message="macvlan takes bridge, private, vepa or passthru; ipvlan takes l2, l3 or l3s; other types take none",fieldPath=".mode"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'host-device' || !has(self.ipam) || !has(self.ipam.static) || size(self.ipam.static.addresses) == 1",message="a host-device moves one NIC into one pod, so exactly one address",fieldPath=".ipam.static.addresses"
type SecondaryNetwork struct {
	// Name identifies the network; the NetworkAttachmentDefinition is
	// named <exposure>-<name> and the status reports addresses under it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Type is the CNI plugin: host-device (moves a host NIC into the pod),
	// macvlan, ipvlan or bridge.
	// +optional
	Type NetworkType `json:"type,omitempty"`

	// Device is the host interface a host-device network moves into the
	// pod.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`
	Device string `json:"device,omitempty"`

	// Master is the host interface a macvlan or ipvlan network hangs off.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`
	Master string `json:"master,omitempty"`

	// Bridge is the host bridge a bridge network joins. Defaults to cni0.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`
	Bridge string `json:"bridge,omitempty"`

	// Mode is the macvlan mode (bridge, the default, private, vepa,
	// passthru) or the ipvlan mode (l2, the default, l3, l3s).
	// +optional
	// +kubebuilder:validation:MaxLength=8
	Mode string `json:"mode,omitempty"`

	// MTU of the interface in the pod. Defaults to the master's.
	// +optional
	// +kubebuilder:validation:Minimum=576
	// +kubebuilder:validation:Maximum=9216
	MTU *int32 `json:"mtu,omitempty"`

	// Interface is the interface name inside the pod. Defaults to Multus's
	// choice (net1, net2, ...).
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`
	Interface string `json:"interface,omitempty"`

	// IPAM says how the pods get addresses on this network. Left out, the
	// interface has no address.
	// +optional
	IPAM *IPAM `json:"ipam,omitempty"`

	// NetworkAttachmentDefinition refers to an existing
	// NetworkAttachmentDefinition in this namespace instead of defining one.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	NetworkAttachmentDefinition string `json:"networkAttachmentDefinition,omitempty"`
}

// IPAM is how a secondary network assigns addresses: exactly one of static,
// whereabouts, dhcp or hostLocal.
// +kubebuilder:validation:XValidation:rule="[has(self.static), has(self.whereabouts), has(self.dhcp) && self.dhcp, has(self.hostLocal)].filter(b, b).size() == 1",message="exactly one of static, whereabouts, dhcp: true or hostLocal must be set"
type IPAM struct {
	// Static gives each pod one of these addresses, in replica order.
	// +optional
	Static *StaticIPAM `json:"static,omitempty"`

	// Whereabouts assigns addresses from a cluster-wide range.
	// +optional
	Whereabouts *RangeIPAM `json:"whereabouts,omitempty"`

	// DHCP asks a DHCP server on the network (the CNI dhcp daemon must run
	// on the nodes).
	// +optional
	DHCP *bool `json:"dhcp,omitempty"`

	// HostLocal assigns addresses from a range kept per node.
	// +optional
	HostLocal *RangeIPAM `json:"hostLocal,omitempty"`
}

// StaticIPAM lists fixed addresses.
type StaticIPAM struct {
	// Addresses are CIDRs with the pod's address and its prefix, e.g.
	// 192.168.51.10/24: one per replica.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=49
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self)",message="must be an address with its prefix length, such as 192.168.51.10/24"
	Addresses []string `json:"addresses"`

	// Gateway is the default gateway on this network.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be an IP address"
	Gateway string `json:"gateway,omitempty"`
}

// RangeIPAM hands out addresses from a range.
// +kubebuilder:validation:XValidation:rule="!has(self.rangeStart) || !isCIDR(self.range) || !isIP(self.rangeStart) || cidr(self.range).containsIP(self.rangeStart)",message="must lie inside range",messageExpression="self.rangeStart + ' must lie inside range ' + self.range",fieldPath=".rangeStart"
// +kubebuilder:validation:XValidation:rule="!has(self.rangeEnd) || !isCIDR(self.range) || !isIP(self.rangeEnd) || cidr(self.range).containsIP(self.rangeEnd)",message="must lie inside range",messageExpression="self.rangeEnd + ' must lie inside range ' + self.range",fieldPath=".rangeEnd"
type RangeIPAM struct {
	// Range is the CIDR to assign from.
	// +kubebuilder:validation:MaxLength=49
	// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="must be a CIDR such as 192.168.52.0/24"
	Range string `json:"range"`

	// RangeStart is the first address to hand out. Defaults to the first
	// usable address of range.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be an IP address"
	RangeStart string `json:"rangeStart,omitempty"`

	// RangeEnd is the last address to hand out. Defaults to the last usable
	// address of range.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be an IP address"
	RangeEnd string `json:"rangeEnd,omitempty"`

	// Exclude are CIDRs inside range that are never handed out.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=49
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self)",message="must be a CIDR"
	Exclude []string `json:"exclude,omitempty"`

	// Gateway is the default gateway on this network.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be an IP address"
	Gateway string `json:"gateway,omitempty"`
}

// Patch is a kustomize patch applied to the generated objects.
type Patch struct {
	// Target selects the generated objects to patch.
	Target PatchTarget `json:"target"`

	// Patch is a strategic-merge patch (a partial object in YAML or JSON)
	// or a JSON 6902 patch (a list of operations).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32768
	Patch string `json:"patch"`
}

// PatchTarget selects generated objects.
type PatchTarget struct {
	// Kind of the objects, e.g. Deployment, Service, Ingress.
	// +kubebuilder:validation:Enum=Deployment;Service;EndpointSlice;Ingress;HTTPRoute;GRPCRoute;Route;Secret;NetworkPolicy;NetworkAttachmentDefinition;IPAddressPool;L2Advertisement;BGPAdvertisement
	Kind string `json:"kind"`

	// Name of the object. Left out, every generated object of the kind.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
}

// AddressType says how a client uses an address.
// +kubebuilder:validation:Enum=ClusterIP;DNS;NodePort;LoadBalancer;Ingress;HTTPRoute;TCPRoute;TLSRoute;UDPRoute;Route;ExternalName;External;SecondaryNetwork;Pod
type AddressType string

// Address types.
const (
	AddressClusterIP        AddressType = "ClusterIP"
	AddressDNS              AddressType = "DNS"
	AddressNodePort         AddressType = "NodePort"
	AddressLoadBalancer     AddressType = "LoadBalancer"
	AddressIngress          AddressType = "Ingress"
	AddressHTTPRoute        AddressType = "HTTPRoute"
	AddressRoute            AddressType = "Route"
	AddressExternalName     AddressType = "ExternalName"
	AddressExternal         AddressType = "External"
	AddressSecondaryNetwork AddressType = "SecondaryNetwork"
)

// ExposureAddress is one way in, as a client would use it.
type ExposureAddress struct {
	// Type is how the address is reached: ClusterIP, DNS, NodePort,
	// LoadBalancer, Ingress, HTTPRoute (through a Gateway), TCPRoute,
	// TLSRoute or UDPRoute (a port through a Gateway listener), Route
	// (through an OpenShift router), ExternalName (the DNS name the Service aliases),
	// External (a backend address outside the cluster) or SecondaryNetwork.
	Type AddressType `json:"type"`

	// Address is an IP address.
	// +optional
	Address string `json:"address,omitempty"`

	// Hostname is a DNS name.
	// +optional
	Hostname string `json:"hostname,omitempty"`

	// Port is the port to connect to.
	// +optional
	Port int32 `json:"port,omitempty"`

	// Protocol is the transport protocol of the port.
	// +optional
	Protocol Protocol `json:"protocol,omitempty"`

	// PortName is the name of the Exposure port this address serves.
	// +optional
	PortName string `json:"portName,omitempty"`

	// URL is the full URL of an Ingress address.
	// +optional
	URL string `json:"url,omitempty"`

	// Network is the secondary network's name.
	// +optional
	Network string `json:"network,omitempty"`

	// Pod is the pod that holds a secondary-network address.
	// +optional
	Pod string `json:"pod,omitempty"`

	// Node is the node whose address a NodePort address is.
	// +optional
	Node string `json:"node,omitempty"`

	// Interface is the network interface inside the pod that holds a
	// secondary-network address (e.g. net1), as the pod's Multus
	// network-status annotation reports it.
	// +optional
	Interface string `json:"interface,omitempty"`

	// NetworkAttachmentDefinition is the namespace/name of the Multus
	// NetworkAttachmentDefinition a secondary-network address comes from,
	// as the pod's network-status annotation reports it.
	// +optional
	NetworkAttachmentDefinition string `json:"networkAttachmentDefinition,omitempty"`

	// Reachability is what the operator's prober saw at this address, from
	// where the operator runs. Absent while probing is off or the address
	// has not been probed yet.
	// +optional
	Reachability *AddressReachability `json:"reachability,omitempty"`
}

// ReachabilityState is the outcome of probing one address.
// +kubebuilder:validation:Enum=Answered;NotAnswering;NotProbed
type ReachabilityState string

// Reachability states.
const (
	// ReachabilityAnswered: the address answered the last probe (a TCP
	// connection accepted, an HTTP response, a DNS reply).
	ReachabilityAnswered ReachabilityState = "Answered"
	// ReachabilityNotAnswering: the last probe got no answer (refused,
	// timed out, or a proxy's 502/503/504: the front door answered but
	// nothing behind it did).
	ReachabilityNotAnswering ReachabilityState = "NotAnswering"
	// ReachabilityNotProbed: the prober does not probe this address (the
	// reason says why: a destination the admin does not allow, an address
	// the user supplied, a UDP protocol it cannot speak, a DNS name).
	ReachabilityNotProbed ReachabilityState = "NotProbed"
)

// AddressReachability is one address's probe result.
type AddressReachability struct {
	// State is Answered, NotAnswering or NotProbed.
	State ReachabilityState `json:"state"`

	// Reason is a CamelCase word for the outcome: Connected, HTTPResponse,
	// DNSReply, ConnectionRefused, Timeout, BadGateway, TLSHandshakeFailed,
	// Unreachable, DestinationNotAllowed, UserSupplied, HostnameOnly,
	// ProtocolNotSpoken, NoPort.
	// +kubebuilder:validation:MaxLength=64
	Reason string `json:"reason"`

	// Message says the outcome in words.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Message string `json:"message,omitempty"`

	// HTTPStatus is the status code of the HTTP response, for URL
	// addresses.
	// +optional
	HTTPStatus int32 `json:"httpStatus,omitempty"`

	// LastTransitionTime is when State last changed. The status is written
	// when a result changes, never for a probe that finds what the last one
	// found.
	LastTransitionTime metav1.Time `json:"lastTransitionTime"`
}

// ResourceStatus is one object the operator manages for this Exposure.
type ResourceStatus struct {
	// APIVersion of the object.
	APIVersion string `json:"apiVersion"`
	// Kind of the object.
	Kind string `json:"kind"`
	// Namespace of the object, when it is not the Exposure's.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
	// Ready says whether the object does its job yet.
	Ready bool `json:"ready"`
}

// ExposureStatus is what the operator observed.
type ExposureStatus struct {
	// ObservedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled, and one per part
	// (WorkloadAvailable, ServiceReady, EndpointsReady,
	// AddressesAssigned, IngressReady, HTTPRouteReady, RouteReady,
	// NetworkPolicyReady, SecondaryNetworksReady), and Reachable when the
	// prober is on (it holds Ready back only with
	// spec.reachability.requiredForReady).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchMergeKey=type
	// +patchStrategy=merge
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// ServiceType is the resolved type of the Service (ClusterIP when the
	// spec leaves it out; ExternalName for an external hostname).
	// (A plain string: ExternalName is a value the spec's type never takes.)
	// +optional
	ServiceType string `json:"serviceType,omitempty"`

	// ExternalAddress is the first address reachable from outside the
	// cluster (load balancer, Ingress, node port), for kubectl get.
	// +optional
	ExternalAddress string `json:"externalAddress,omitempty"`

	// State is the Exposure's state as kstatus (Flux, kpt, Argo CD's
	// kstatus mode) names it, for `kubectl get`: Current (every part is
	// ready and nothing is changing), InProgress (the operator or the
	// cluster is still converging; a rollout of a serving workload is
	// InProgress with Ready still True) or Failed (Stalled: the user must
	// act).
	// +optional
	// +kubebuilder:validation:Enum=Current;InProgress;Failed
	State string `json:"state,omitempty"`

	// StateReason is the CamelCase reason behind State: the Stalled reason
	// when Failed, the reason of the part still converging when
	// InProgress, AllPartsReady when Current.
	// +optional
	StateReason string `json:"stateReason,omitempty"`

	// Address is the one address `kubectl get` shows: the load-balancer
	// address ("<pending>" while a LoadBalancer Service has none yet), else
	// the Ingress host, else a node port, else the cluster IP, else the DNS
	// name. Cut to 64 characters with "..." for display; status.addresses
	// holds every address whole.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Address string `json:"address,omitempty"`

	// Addresses are every way in, as a client would use it.
	// +optional
	// +listType=atomic
	Addresses []ExposureAddress `json:"addresses,omitempty"`

	// Resources are the objects the operator manages for this Exposure.
	// +optional
	// +listType=atomic
	Resources []ResourceStatus `json:"resources,omitempty"`
}

// Exposure turns one manifest into everything needed to reach a workload:
// Deployment, Service, EndpointSlice, Ingress, NetworkPolicy, MetalLB pool and
// Multus networks, and reports every address at which it answers.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=expo,categories=networking
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.state`,description="kstatus state: Current, InProgress or Failed"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.stateReason`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.status.serviceType`
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.status.address`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="External",type=string,JSONPath=`.status.externalAddress`,priority=1
// +kubebuilder:printcolumn:name="Reachable",type=string,JSONPath=`.status.conditions[?(@.type=="Reachable")].status`,priority=1,description="whether every probed address answered (the operator's prober)"
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name: must be a DNS-1035 label (at most 63 lower-case letters, digits and dashes, starting with a letter), because the Service is named after the Exposure"
type Exposure struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what the user wants.
	Spec ExposureSpec `json:"spec"`

	// Status is what the operator observed. It defaults to
	// observedGeneration 0, so that tools reading it (kstatus, kubectl
	// wait) see a new Exposure as not yet observed rather than as current.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status ExposureStatus `json:"status,omitempty"`
}

// ResolvedServiceType is the Service type the Exposure asks for: the spec's,
// ClusterIP when left out, ExternalName for an external hostname. Render
// and observe both read it from the spec, so which parts apply does not
// flicker while the live Service is created or replaced.
func (e *Exposure) ResolvedServiceType() ServiceType {
	if e.Spec.External != nil && e.Spec.External.Hostname != "" {
		return ServiceTypeExternalName
	}
	if e.Spec.Service != nil && e.Spec.Service.Type != "" {
		return e.Spec.Service.Type
	}
	return ServiceTypeClusterIP
}

// ExposureList is a list of Exposures.
//
// +kubebuilder:object:root=true
type ExposureList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Exposure `json:"items"`
}
