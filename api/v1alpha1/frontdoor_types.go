package v1alpha1

// FrontDoor is a kind of object that publishes the HTTP routes of
// spec.ingress: the same hosts, paths and backends rendered as another API.
// +kubebuilder:validation:Enum=Ingress;HTTPRoute;Route
type FrontDoor string

// Front doors.
const (
	// FrontDoorIngress is a networking.k8s.io/v1 Ingress.
	FrontDoorIngress FrontDoor = "Ingress"
	// FrontDoorHTTPRoute is a Gateway API gateway.networking.k8s.io/v1
	// HTTPRoute per host, attached to the Gateways in
	// spec.ingress.gateway.parentRefs.
	FrontDoorHTTPRoute FrontDoor = "HTTPRoute"
	// FrontDoorRoute is an OpenShift route.openshift.io/v1 Route per host
	// and path.
	FrontDoorRoute FrontDoor = "Route"
)

// GatewayAttachment names the Gateways an Exposure's HTTPRoutes attach to.
// The Gateways and their GatewayClass belong to the cluster admin: the
// operator never creates or changes them, it only attaches routes.
type GatewayAttachment struct {
	// ParentRefs are the Gateways (and optionally one listener of each)
	// the HTTPRoutes attach to. Whether this namespace may attach is the
	// Gateway's own listener allowedRoutes; a refusal is reported in the
	// HTTPRouteReady condition with the Gateway's reason.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	ParentRefs []GatewayParentRef `json:"parentRefs"`
}

// GatewayParentRef is one Gateway (gateway.networking.k8s.io/v1) an
// HTTPRoute attaches to.
type GatewayParentRef struct {
	// Name of the Gateway.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// Namespace of the Gateway. Defaults to the Exposure's namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace,omitempty"`

	// SectionName is the name of one listener of the Gateway. Left out,
	// the route attaches to every listener that accepts it.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	SectionName string `json:"sectionName,omitempty"`
}

// RouteTermination is where an OpenShift Route's TLS ends.
// +kubebuilder:validation:Enum=edge;passthrough;reencrypt
type RouteTermination string

// Route terminations.
const (
	// RouteTerminationEdge ends TLS at the router, with the certificate of
	// spec.ingress.tls, and sends plain HTTP to the pods.
	RouteTerminationEdge RouteTermination = "edge"
	// RouteTerminationPassthrough sends the TLS stream to the pods as it
	// is: the pods hold the certificate.
	RouteTerminationPassthrough RouteTermination = "passthrough"
	// RouteTerminationReencrypt ends TLS at the router with the
	// certificate of spec.ingress.tls and opens a new TLS connection to
	// the pods.
	RouteTerminationReencrypt RouteTermination = "reencrypt"
)

// RouteOptions shape the OpenShift Routes (the Route front door).
type RouteOptions struct {
	// Termination is edge, passthrough or reencrypt. Defaults to edge
	// when spec.ingress.tls is set, else the Route serves plain HTTP.
	// edge and reencrypt need spec.ingress.tls (secretName or
	// selfSigned); passthrough takes none (the pods hold the certificate)
	// and only the path "/".
	// +optional
	Termination RouteTermination `json:"termination,omitempty"`
}

// BackendTLS is what a Gateway needs to speak TLS to the pods: the name
// their certificate is for, and who signed it. Rendered as a Gateway API
// BackendTLSPolicy (gateway.networking.k8s.io/v1) for the Service ports
// the routes use.
type BackendTLS struct {
	// Hostname is the name the Gateway sends as SNI and checks the pods'
	// certificate against. A DNS name, no wildcard.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Hostname string `json:"hostname"`

	// CAConfigMap names a ConfigMap in the Exposure's namespace whose key
	// ca.crt holds the PEM certificates that sign the pods' certificate.
	// Left out, the Gateway trusts its system certificate authorities.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	CAConfigMap string `json:"caConfigMap,omitempty"`
}

// ReasonBackendTLSPolicyMissing: spec.ingress.backendTLS asks for a
// BackendTLSPolicy that does not exist (yet) (HTTPRouteReady=False). A
// Gateway that has not reported on it gives AwaitingGateway; one that
// refuses it (NoValidCACertificate, InvalidCACertificateRef, ...) gives
// its own reason.
const ReasonBackendTLSPolicyMissing = "BackendTLSPolicyMissing"
