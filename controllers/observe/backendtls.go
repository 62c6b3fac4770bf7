package observe

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// backendTLSVerdict is what the Gateways say of the BackendTLSPolicy of
// spec.ingress.backendTLS: without it accepted, a Gateway cannot speak TLS
// to the pods, so the HTTP front door does not serve. ok when no policy
// is asked for, or every ancestor (Gateway) that reported accepted it and
// resolved its CA, and at least one reported.
func backendTLSVerdict(in Input, e *v1alpha1.Exposure) (ok bool, reason, msg string) {
	ing := e.Spec.Ingress
	if ing == nil || ing.BackendTLS == nil || !ing.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) {
		return true, "", ""
	}
	name := names.Service(e.Name)
	p := in.BackendTLSPolicy
	if p == nil {
		return false, v1alpha1.ReasonBackendTLSPolicyMissing, fmt.Sprintf("BackendTLSPolicy %s does not exist yet", name)
	}
	var gateways []string
	for _, a := range p.Status.Ancestors {
		// As the Gateway wrote it: some (Traefik) leave out the namespace.
		gw := string(a.AncestorRef.Name)
		if a.AncestorRef.Namespace != nil {
			gw = string(*a.AncestorRef.Namespace) + "/" + gw
		}
		for _, t := range []gatewayv1.PolicyConditionType{gatewayv1.PolicyConditionAccepted, gatewayv1.BackendTLSPolicyConditionResolvedRefs} {
			c := meta.FindStatusCondition(a.Conditions, string(t))
			if c != nil && c.Status == metav1.ConditionFalse && c.ObservedGeneration >= p.Generation {
				return false, c.Reason, withDetail(fmt.Sprintf("Gateway %s does not accept BackendTLSPolicy %s (%s %s)", gw, name, t, c.Reason), c.Message)
			}
		}
		if c := meta.FindStatusCondition(a.Conditions, string(gatewayv1.PolicyConditionAccepted)); c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration >= p.Generation {
			gateways = append(gateways, gw)
		}
	}
	if len(gateways) == 0 {
		return false, v1alpha1.ReasonAwaitingGateway, fmt.Sprintf(
			"no Gateway has accepted BackendTLSPolicy %s yet; does the Gateway implementation support BackendTLSPolicy?", name)
	}
	return true, "", "TLS to the pods accepted by Gateway " + strings.Join(gateways, ", ")
}
