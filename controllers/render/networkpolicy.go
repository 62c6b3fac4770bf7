package render

import (
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// networkPolicy derives the NetworkPolicy guarding the workload's pods, or
// nil when none is asked for.
func networkPolicy(exp *v1alpha1.Exposure, opts Options) *networkingv1ac.NetworkPolicyApplyConfiguration {
	return nil
}
