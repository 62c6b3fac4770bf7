package render

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// MetalLB's service annotations (metallb.io/*, the current keys; the
// metallb.universe.tf/* ones are deprecated upstream).
const (
	MetalLBLoadBalancerIPs = "metallb.io/loadBalancerIPs"
	MetalLBAddressPool     = "metallb.io/address-pool"
	MetalLBAllowSharedIP   = "metallb.io/allow-shared-ip"
)

func service(exp *v1alpha1.Exposure, opts Options) *corev1ac.ServiceApplyConfiguration {
	s := corev1ac.Service(names.Service(exp.Name), exp.Namespace)
	setMeta(s.ObjectMetaApplyConfiguration, exp, opts)
	spec := corev1ac.ServiceSpec()
	s.WithSpec(spec)

	for _, p := range exp.Spec.Ports {
		sp := corev1ac.ServicePort().
			WithName(p.Name).
			WithPort(p.Port).
			WithProtocol(corev1.Protocol(protocolOf(p.Protocol)))
		if p.NodePort != nil {
			sp.WithNodePort(*p.NodePort)
		}
		if p.AppProtocol != "" {
			sp.WithAppProtocol(p.AppProtocol)
		}
		// An ExternalName Service forwards nothing: a targetPort there would
		// be a lie the API server accepts.
		if exp.ResolvedServiceType() != v1alpha1.ServiceTypeExternalName {
			sp.WithTargetPort(TargetPort(exp, p))
		}
		spec.WithPorts(sp)
	}

	switch {
	case exp.Spec.Workload != nil:
		spec.WithSelector(names.SelectorLabels(exp.Name))
	case len(exp.Spec.Selector) > 0:
		spec.WithSelector(exp.Spec.Selector)
	}

	switch t := exp.ResolvedServiceType(); t {
	case v1alpha1.ServiceTypeExternalName:
		spec.WithType(corev1.ServiceTypeExternalName).WithExternalName(exp.Spec.External.Hostname)
		return s
	case v1alpha1.ServiceTypeHeadless:
		spec.WithType(corev1.ServiceTypeClusterIP).WithClusterIP(corev1.ClusterIPNone)
	default:
		spec.WithType(corev1.ServiceType(t))
	}

	if o := exp.Spec.Service; o != nil {
		if o.ClusterIP != "" {
			spec.WithClusterIP(o.ClusterIP)
		}
		if o.SessionAffinity != "" {
			spec.WithSessionAffinity(o.SessionAffinity)
		}
		if o.SessionAffinityTimeoutSeconds != nil {
			spec.WithSessionAffinityConfig(corev1ac.SessionAffinityConfig().
				WithClientIP(corev1ac.ClientIPConfig().WithTimeoutSeconds(*o.SessionAffinityTimeoutSeconds)))
		}
		if o.ExternalTrafficPolicy != "" {
			spec.WithExternalTrafficPolicy(o.ExternalTrafficPolicy)
		}
		if o.InternalTrafficPolicy != "" {
			spec.WithInternalTrafficPolicy(o.InternalTrafficPolicy)
		}
		if o.IPFamilyPolicy != "" {
			spec.WithIPFamilyPolicy(o.IPFamilyPolicy)
		}
		if o.PublishNotReadyAddresses != nil {
			spec.WithPublishNotReadyAddresses(*o.PublishNotReadyAddresses)
		}
	}

	policy, families := externalIPFamilies(exp)
	if policy != "" {
		spec.WithIPFamilyPolicy(policy)
	}
	if len(families) > 0 {
		spec.WithIPFamilies(families...)
	}

	if lb := exp.Spec.LoadBalancer; lb != nil {
		ann := map[string]string{}
		if lb.IP != "" {
			// spec.loadBalancerIP is deprecated and ignored by dual-stack
			// implementations; MetalLB reads this annotation instead.
			ann[MetalLBLoadBalancerIPs] = lb.IP
		}
		switch {
		case lb.Pool != "":
			ann[MetalLBAddressPool] = lb.Pool
		case len(lb.Addresses) > 0:
			ann[MetalLBAddressPool] = names.Pool(exp.Namespace, exp.Name)
		}
		if lb.SharingKey != "" {
			ann[MetalLBAllowSharedIP] = SharingKey(exp.Namespace, lb.SharingKey)
		}
		if len(ann) > 0 {
			s.WithAnnotations(ann)
		}
		if len(lb.SourceRanges) > 0 {
			spec.WithLoadBalancerSourceRanges(lb.SourceRanges...)
		}
		if lb.LoadBalancerClass != "" {
			spec.WithLoadBalancerClass(lb.LoadBalancerClass)
		}
	}
	return s
}

// SharingKey scopes a MetalLB sharing key to its namespace: MetalLB lets any
// two Services with the same key share an address, and a tenant must never
// be able to join another tenant's address by guessing its key.
func SharingKey(namespace, key string) string {
	return "exposure.dev/" + namespace + "/" + key
}

// TargetPort resolves a Service port's target: the explicit one, else the
// workload port of the same name, else the same number.
func TargetPort(exp *v1alpha1.Exposure, p v1alpha1.ServicePort) intstr.IntOrString {
	if p.TargetPort != nil {
		return *p.TargetPort
	}
	if w := exp.Spec.Workload; w != nil {
		for _, wp := range w.Ports {
			if wp.Name == p.Name {
				return intstr.FromString(p.Name)
			}
		}
	}
	return intstr.FromInt32(p.Port)
}

// TargetPortNumber is the numeric backend port of a Service port when it
// can be known without pods (numeric target, or a named workload port).
func TargetPortNumber(exp *v1alpha1.Exposure, p v1alpha1.ServicePort) int32 {
	tp := TargetPort(exp, p)
	if tp.Type == intstr.Int {
		return tp.IntVal
	}
	if w := exp.Spec.Workload; w != nil {
		for _, wp := range w.Ports {
			if wp.Name == tp.StrVal {
				return wp.ContainerPort
			}
		}
	}
	return p.Port
}
