package observe

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// withBackendTLS makes withFrontDoors' backend an HTTPS one, checked by a
// BackendTLSPolicy.
func withBackendTLS(e *v1alpha1.Exposure) {
	e.Spec.Ingress.BackendProtocol = "HTTPS"
	e.Spec.Ingress.BackendTLS = &v1alpha1.BackendTLS{Hostname: "web.shop.internal", CAConfigMap: "web-ca"}
}

func livePolicy(conds ...metav1.Condition) *gatewayv1.BackendTLSPolicy {
	ns := gatewayv1.Namespace("gateways")
	p := &gatewayv1.BackendTLSPolicy{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Generation: 1}}
	if len(conds) > 0 {
		p.Status.Ancestors = []gatewayv1.PolicyAncestorStatus{{
			AncestorRef: gatewayv1.ParentReference{Name: "public", Namespace: &ns}, ControllerName: "traefik.io/gateway-controller", Conditions: conds,
		}}
	}
	return p
}

// The HTTP front door with an HTTPS backend serves only once the routes
// and the BackendTLSPolicy are accepted.
func TestBackendTLSPolicyPart(t *testing.T) {
	accepted := routeCond("Accepted", "True", "Accepted", 1)
	gws := map[types.NamespacedName]*gatewayv1.Gateway{publicGateway: gateway("127.0.0.240", listener("web", gatewayv1.HTTPProtocolType, 80))}
	cases := []struct {
		name           string
		policy         *gatewayv1.BackendTLSPolicy
		status, reason string
	}{
		{"policy not there yet", nil, "False", v1alpha1.ReasonBackendTLSPolicyMissing},
		{"no Gateway has reported on the policy", livePolicy(), "False", v1alpha1.ReasonAwaitingGateway},
		{"accepted for an older generation", livePolicy(routeCond("Accepted", "True", "Accepted", 0)), "False", v1alpha1.ReasonAwaitingGateway},
		{"the CA is not valid: the Gateway's reason", livePolicy(routeCond("Accepted", "False", "NoValidCACertificate", 1), routeCond("ResolvedRefs", "False", "InvalidCACertificateRef", 1)), "False", "NoValidCACertificate"},
		{"the CA ConfigMap is missing", livePolicy(routeCond("Accepted", "True", "Accepted", 1), routeCond("ResolvedRefs", "False", "InvalidCACertificateRef", 1)), "False", "InvalidCACertificateRef"},
		{"accepted", livePolicy(routeCond("Accepted", "True", "Accepted", 1), routeCond("ResolvedRefs", "True", "ResolvedRefs", 1)), "True", v1alpha1.ReasonAccepted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := exposure(withFrontDoors(v1alpha1.FrontDoorHTTPRoute), withBackendTLS)
			r := Observe(Input{Exposure: e, HTTPRoutes: []gatewayv1.HTTPRoute{liveHTTPRoute(1, accepted)}, Gateways: gws, BackendTLSPolicy: tc.policy})
			for _, p := range r.Parts {
				if p.Type == v1alpha1.ConditionHTTPRouteReady {
					if string(p.Status) != tc.status || p.Reason != tc.reason {
						t.Errorf("HTTPRouteReady = %s/%s (%s), want %s/%s", p.Status, p.Reason, p.Message, tc.status, tc.reason)
					}
					return
				}
			}
			t.Fatalf("no HTTPRouteReady in %+v", r.Parts)
		})
	}
}
