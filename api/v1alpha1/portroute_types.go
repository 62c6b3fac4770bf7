package v1alpha1

// PortRouteKind is the Gateway API route kind that publishes one
// non-HTTP Service port through a Gateway. All three are in the Gateway
// API's experimental channel (gateway.networking.k8s.io/v1alpha2).
// +kubebuilder:validation:Enum=TCPRoute;TLSRoute;UDPRoute
type PortRouteKind string

// Port route kinds.
const (
	// PortRouteTCP is a TCPRoute: every connection to the Gateway
	// listener goes to the port, as it is (TCP ports only).
	PortRouteTCP PortRouteKind = "TCPRoute"
	// PortRouteTLS is a TLSRoute: the Gateway listener reads the TLS
	// ClientHello's server name (SNI), matches it against hostnames and
	// passes the TLS stream through to the port; the pods hold the
	// certificate (TCP ports only).
	PortRouteTLS PortRouteKind = "TLSRoute"
	// PortRouteUDP is a UDPRoute: every datagram to the Gateway listener
	// goes to the port (UDP ports only).
	PortRouteUDP PortRouteKind = "UDPRoute"
)

// PortRoute publishes one Service port through Gateways with a Gateway
// API TCPRoute, TLSRoute or UDPRoute, named <exposure>-<port name>.
// Only ports that ask for one get a route. The Gateways, their listeners
// and their GatewayClass belong to the cluster admin; whether this
// namespace may attach is the listener's allowedRoutes, and a refusal is
// reported in the PortRoutesReady condition with the Gateway's reason.
// +kubebuilder:validation:XValidation:rule="self.kind != 'TLSRoute' || has(self.hostnames)",message="required with kind TLSRoute (the server names, SNI, the Gateway routes on)",fieldPath=".hostnames",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="self.kind == 'TLSRoute' || !has(self.hostnames)",message="only TLSRoute matches hostnames (TCP and UDP carry no server name); remove them",fieldPath=".hostnames",reason="FieldValueForbidden"
type PortRoute struct {
	// Kind is TCPRoute or TLSRoute (passthrough) for a TCP port, UDPRoute
	// for a UDP port. These kinds are served only where the Gateway API's
	// experimental-channel CRDs (v1alpha2) are installed; without them
	// the Exposure is Stalled with reason GatewayAPINotInstalled and the
	// rest of the stack is reconciled.
	Kind PortRouteKind `json:"kind"`

	// ParentRefs are the Gateways, and usually the listener of each
	// (sectionName), the route attaches to. A listener takes a route of
	// its protocol only: TCP for TCPRoute, TLS (mode Passthrough) for
	// TLSRoute, UDP for UDPRoute.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	ParentRefs []GatewayParentRef `json:"parentRefs"`

	// Hostnames are the server names (SNI) a TLSRoute matches; a leading
	// "*." matches one label. Required with TLSRoute, refused with the
	// other kinds.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$`
	Hostnames []string `json:"hostnames,omitempty"`
}

// ConditionPortRoutesReady reports whether every parent Gateway accepted
// the TCPRoutes, TLSRoutes and UDPRoutes of spec.ports[].gatewayRoute and
// resolved their backends (only with such a port). It is a condition of
// its own, not part of HTTPRouteReady: the HTTP front door's move off an
// Ingress waits for HTTPRouteReady, and must not wait for a UDP listener
// the Gateway may never support.
const ConditionPortRoutesReady = "PortRoutesReady"

// ReasonPortRouteMissing: a TCPRoute, TLSRoute or UDPRoute does not exist
// (yet) (PortRoutesReady=False). A Gateway that has not reported yet gives
// AwaitingGateway; one that refuses the route, or whose listener refuses
// its protocol (UnsupportedProtocol, InvalidRouteKinds), gives its own
// reason; all accepted gives Accepted.
const ReasonPortRouteMissing = "PortRouteMissing"

// Address types of the port routes: the Gateway's address and the
// listener's port.
const (
	AddressTCPRoute AddressType = "TCPRoute"
	AddressTLSRoute AddressType = "TLSRoute"
	AddressUDPRoute AddressType = "UDPRoute"
)
