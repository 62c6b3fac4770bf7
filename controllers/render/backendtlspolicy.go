package render

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1ac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// KindBackendTLSPolicy is the Gateway API's policy for TLS from a Gateway
// to a Service.
const KindBackendTLSPolicy = "BackendTLSPolicy"

// backendTLSPolicy renders, for an HTTPS or GRPCS backend behind the
// HTTPRoute front door, the BackendTLSPolicy that makes a Gateway speak
// TLS to the pods: for each Service port the routes use (sectionName),
// the name to send as SNI and check the certificate against, and the CA
// bundle (the user's ConfigMap, else the Gateway's system CAs). Named
// after the Exposure, as its Service is.
func backendTLSPolicy(exp *v1alpha1.Exposure, rt *Routing, opts Options) *gatewayv1ac.BackendTLSPolicyApplyConfiguration {
	in := exp.Spec.Ingress
	if in.BackendTLS == nil || !in.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) {
		return nil
	}
	used := map[string]bool{}
	for _, h := range rt.Hosts {
		for _, p := range h.Paths {
			used[p.Backend.PortName] = true
		}
	}
	if rt.DefaultBackend != nil {
		used[rt.DefaultBackend.PortName] = true
	}
	spec := gatewayv1ac.BackendTLSPolicySpec()
	for _, p := range exp.Spec.Ports {
		if used[p.Name] {
			spec.WithTargetRefs(gatewayv1ac.LocalPolicyTargetReferenceWithSectionName().
				WithGroup("").
				WithKind("Service").
				WithName(gatewayv1.ObjectName(rt.Service)).
				WithSectionName(gatewayv1.SectionName(p.Name)))
		}
	}
	v := gatewayv1ac.BackendTLSPolicyValidation().WithHostname(gatewayv1.PreciseHostname(in.BackendTLS.Hostname))
	if cm := in.BackendTLS.CAConfigMap; cm != "" {
		v.WithCACertificateRefs(gatewayv1ac.LocalObjectReference().WithGroup("").WithKind("ConfigMap").WithName(gatewayv1.ObjectName(cm)))
	} else {
		v.WithWellKnownCACertificates(gatewayv1.WellKnownCACertificatesSystem)
	}
	p := gatewayv1ac.BackendTLSPolicy(names.Service(exp.Name), exp.Namespace)
	setMeta(p.ObjectMetaApplyConfiguration, exp, opts)
	return p.WithSpec(spec.WithValidation(v))
}
