package v1alpha1

// Condition types of an Exposure's status.
//
// Ready is the summary that `kubectl wait --for=condition=Ready`, Flux and the
// shipped Argo CD health check read. Reconciling and Stalled are the kstatus
// pair: kstatus reports Reconciling=True as InProgress and Stalled=True as
// Failed, so the two are never True together. The remaining types are one per
// part of the exposure stack; only the parts an Exposure uses are present.
const (
	// ConditionReady is True when every part is ready and nothing is
	// stalled: the workload answers at the addresses in status.
	ConditionReady = "Ready"

	// ConditionReconciling is True while the operator is still converging
	// (some part is not ready yet) and expects to get there on its own.
	ConditionReconciling = "Reconciling"

	// ConditionStalled is True when the reconcile cannot make progress
	// without the user: a conflict, a missing Secret, a refused policy.
	ConditionStalled = "Stalled"

	// ConditionWorkloadAvailable reports the operator-owned Deployment's
	// rollout (workload backends only).
	ConditionWorkloadAvailable = "WorkloadAvailable"

	// ConditionServiceReady reports whether the Service exists and got its
	// cluster IP (or is headless / ExternalName, which need none).
	ConditionServiceReady = "ServiceReady"

	// ConditionEndpointsReady reports whether the Service has at least one
	// ready endpoint to send traffic to (not for ExternalName Services,
	// which have no endpoints).
	ConditionEndpointsReady = "EndpointsReady"

	// ConditionAddressesAssigned reports whether a LoadBalancer Service got
	// an external address (LoadBalancer Services only).
	ConditionAddressesAssigned = "AddressesAssigned"

	// ConditionIngressReady reports whether the ingress controller admitted
	// the Ingress and published its address (only with spec.ingress).
	ConditionIngressReady = "IngressReady"

	// ConditionHTTPRouteReady reports whether every parent Gateway
	// accepted the HTTPRoutes and resolved their backends (only with the
	// HTTPRoute front door).
	ConditionHTTPRouteReady = "HTTPRouteReady"

	// ConditionRouteReady reports whether an OpenShift router admitted
	// every Route (only with the Route front door).
	ConditionRouteReady = "RouteReady"

	// ConditionNetworkPolicyReady reports the derived NetworkPolicy (only
	// with spec.networkPolicy enabled).
	ConditionNetworkPolicyReady = "NetworkPolicyReady"

	// ConditionSecondaryNetworksReady reports whether the pods got their
	// Multus secondary networks (only with spec.secondaryNetworks).
	ConditionSecondaryNetworksReady = "SecondaryNetworksReady"

	// ConditionReachable summarises the prober's results: True when every
	// address it probed answered, False when one did not, Unknown when it
	// probed none (yet). It gates Ready only with
	// spec.reachability.requiredForReady.
	ConditionReachable = "Reachable"
)

// Condition reasons: CamelCase, stable, machine-readable. Messages carry the
// details in plain words.
const (
	// ReasonAvailable: the Deployment is rolled out and every desired
	// replica is available (WorkloadAvailable=True).
	ReasonAvailable = "Available"

	// ReasonRolloutInProgress: the Deployment controller has not yet
	// updated or made available every desired replica. WorkloadAvailable is
	// False with it while nothing serves yet, and True while a workload
	// that was available keeps serving during the rollout (then Ready stays
	// True and Reconciling is True).
	ReasonRolloutInProgress = "RolloutInProgress"

	// ReasonDeploymentMissing: the Deployment does not exist (yet)
	// (WorkloadAvailable=False).
	ReasonDeploymentMissing = "DeploymentMissing"

	// ReasonScaledToZero: the workload asks for zero replicas, so nothing is
	// expected to run; reported as True so that a deliberate scale-down does
	// not leave the Exposure progressing forever.
	ReasonScaledToZero = "ScaledToZero"

	// ReasonServiceTypeChanging: the live Service has another shape than
	// the spec asks for (headless while ClusterIP is wanted, say) and is
	// being changed or replaced (ServiceReady=False).
	ReasonServiceTypeChanging = "ServiceTypeChanging"

	// ReasonServiceMissing: the Service does not exist (yet)
	// (ServiceReady=False).
	ReasonServiceMissing = "ServiceMissing"

	// ReasonClusterIPAssigned: the Service has its virtual IP
	// (ServiceReady=True).
	ReasonClusterIPAssigned = "ClusterIPAssigned"

	// ReasonExternalName: the Service is an ExternalName alias, which needs
	// no cluster IP (ServiceReady=True).
	ReasonExternalName = "ExternalName"

	// ReasonHeadless: the Service is headless; DNS answers with the pod
	// addresses and no cluster IP is expected (ServiceReady=True).
	ReasonHeadless = "Headless"

	// ReasonEndpointsReady: at least one endpoint is ready
	// (EndpointsReady=True).
	ReasonEndpointsReady = "EndpointsReady"

	// ReasonNoReadyEndpoints: no endpoint is ready, so connections to the
	// Service fail (EndpointsReady=False).
	ReasonNoReadyEndpoints = "NoReadyEndpoints"

	// ReasonAssigned: the load balancer published an address
	// (AddressesAssigned=True).
	ReasonAssigned = "Assigned"

	// ReasonPending: an address is still being waited for (a cluster IP or
	// a load-balancer address).
	ReasonPending = "Pending"

	// ReasonIngressMissing: the Ingress does not exist (yet)
	// (IngressReady=False).
	ReasonIngressMissing = "IngressMissing"

	// ReasonAdmitted: an ingress controller published an address for the
	// Ingress (IngressReady=True).
	ReasonAdmitted = "Admitted"

	// ReasonAwaitingAddress: no ingress controller has published an address
	// for the Ingress yet (IngressReady=False).
	ReasonAwaitingAddress = "AwaitingAddress"

	// ReasonHTTPRouteMissing: an HTTPRoute does not exist (yet)
	// (HTTPRouteReady=False).
	ReasonHTTPRouteMissing = "HTTPRouteMissing"

	// ReasonAwaitingGateway: a parent Gateway has not reported on an
	// HTTPRoute yet (HTTPRouteReady=False). When a Gateway refuses, the
	// reason is the Gateway's own (NotAllowedByListeners,
	// NoMatchingListenerHostname, BackendNotFound, ...).
	ReasonAwaitingGateway = "AwaitingGateway"

	// ReasonAccepted: every parent Gateway accepted every HTTPRoute and
	// resolved its backends (HTTPRouteReady=True).
	ReasonAccepted = "Accepted"

	// ReasonRouteMissing: a Route does not exist (yet) (RouteReady=False).
	ReasonRouteMissing = "RouteMissing"

	// ReasonAwaitingRouter: no OpenShift router has reported on a Route yet
	// (RouteReady=False). When a router refuses, the reason is the
	// router's own (HostAlreadyClaimed, ExtendedValidationFailed, ...).
	ReasonAwaitingRouter = "AwaitingRouter"

	// ReasonApplied: the object was applied and there is nothing further to
	// observe about it (e.g. NetworkPolicyReady=True).
	ReasonApplied = "Applied"

	// ReasonAttached: every pod reports its secondary networks
	// (SecondaryNetworksReady=True).
	ReasonAttached = "Attached"

	// ReasonNotAttached: some pod does not report a requested secondary
	// network yet (SecondaryNetworksReady=False).
	ReasonNotAttached = "NotAttached"

	// ReasonAllAnswered: every probed address answered (Reachable=True).
	ReasonAllAnswered = "AllAnswered"

	// ReasonNotAnswering: a probed address did not answer its last probe
	// (Reachable=False); the message names it.
	ReasonNotAnswering = "NotAnswering"

	// ReasonProbePending: the addresses have not been probed yet
	// (Reachable=Unknown).
	ReasonProbePending = "ProbePending"

	// ReasonNothingProbed: no address is one the prober may probe (all are
	// outside the admin's allowed destinations, user-supplied, or DNS
	// names) (Reachable=Unknown).
	ReasonNothingProbed = "NothingProbed"

	// ReasonProbingDisabled: the admin has turned the prober off for this
	// namespace or the cluster, and the Exposure requires reachability for
	// Ready (Reachable=Unknown).
	ReasonProbingDisabled = "ProbingDisabled"

	// ReasonAllPartsReady: every part is ready and nothing is stalled
	// (Ready=True, Reconciling=False).
	ReasonAllPartsReady = "AllPartsReady"

	// ReasonProgressing: some part is not ready yet and the operator expects
	// it to become ready without help (Reconciling=True).
	ReasonProgressing = "Progressing"

	// ReasonStalled: Reconciling is False because the reconcile is stalled;
	// the Stalled condition carries the cause.
	ReasonStalled = "Stalled"

	// ReasonNotStalled: nothing needs the user's attention (Stalled=False).
	// Stalled stays present with False, as Kubernetes API conventions ask,
	// so its lastTransitionTime tells when a stall was resolved.
	ReasonNotStalled = "NotStalled"
)

// Stall reasons: the reconcile cannot make progress until the user acts.
// They appear on Stalled=True and on Ready=False.
const (
	// ReasonConflict: an object of the same name exists and is not owned by
	// this Exposure; the operator never overwrites someone else's object.
	ReasonConflict = "Conflict"

	// ReasonSecretNotFound: the TLS Secret named in spec.ingress.tls does
	// not exist.
	ReasonSecretNotFound = "SecretNotFound"

	// ReasonNetworkNotFound: a NetworkAttachmentDefinition named in
	// spec.secondaryNetworks[].networkAttachmentDefinition does not exist in
	// the Exposure's namespace.
	ReasonNetworkNotFound = "NetworkNotFound"

	// ReasonInvalidSpec: the spec passed admission but cannot be turned
	// into objects (a rule the schema cannot express); the message names
	// the field.
	ReasonInvalidSpec = "InvalidSpec"

	// ReasonInvalidPatch: a patch in spec.patches does not parse or does not
	// apply to its target.
	ReasonInvalidPatch = "InvalidPatch"

	// ReasonPolicyDenied: the operator's policy does not grant this
	// namespace what the Exposure asks for (addresses, host access, pools).
	ReasonPolicyDenied = "PolicyDenied"

	// ReasonAddressConflict: a requested load-balancer address or range is
	// already claimed by another Exposure or pool.
	ReasonAddressConflict = "AddressConflict"

	// ReasonMetalLBNotInstalled: the Exposure needs MetalLB resources but the
	// metallb.io API is not served by the cluster.
	ReasonMetalLBNotInstalled = "MetalLBNotInstalled"

	// ReasonMultusNotInstalled: the Exposure needs secondary networks but the
	// k8s.cni.cncf.io API is not served by the cluster.
	ReasonMultusNotInstalled = "MultusNotInstalled"

	// ReasonGatewayAPINotInstalled: the Exposure asks for the HTTPRoute
	// front door but the gateway.networking.k8s.io API (v1 HTTPRoute) is
	// not served by the cluster.
	ReasonGatewayAPINotInstalled = "GatewayAPINotInstalled"

	// ReasonRouteAPINotInstalled: the Exposure asks for the Route front
	// door but the route.openshift.io API (v1 Route) is not served by the
	// cluster.
	ReasonRouteAPINotInstalled = "RouteAPINotInstalled"

	// ReasonApplyFailed: the API server refused an object the operator
	// rendered (a webhook, a quota, an immutable field).
	ReasonApplyFailed = "ApplyFailed"

	// ReasonAllocationFailed: the load-balancer implementation reported
	// that it cannot assign an address (MetalLB's AllocationFailed Event,
	// whose message says why).
	ReasonAllocationFailed = "AllocationFailed"

	// ReasonProgressDeadlineExceeded: the Deployment's rollout stopped
	// making progress (image not found, crash loop, no room to schedule);
	// the Exposure is Stalled until the workload is fixed.
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
)

// States of status.state, named as kstatus names them (the values of its
// enum).
const (
	StateCurrent    = "Current"
	StateInProgress = "InProgress"
	StateFailed     = "Failed"
)
