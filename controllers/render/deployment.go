package render

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// ContainerName is the name of the workload's container, stable so that
// patches can address it.
const ContainerName = "app"

// DefaultReplicas is the replica count when spec.workload.replicas is unset.
const DefaultReplicas int32 = 1

// Replicas is the resolved replica count of a workload.
func Replicas(w *v1alpha1.Workload) int32 {
	if w.Replicas != nil {
		return *w.Replicas
	}
	return DefaultReplicas
}

func deployment(exp *v1alpha1.Exposure, opts Options) *appsv1ac.DeploymentApplyConfiguration {
	w := exp.Spec.Workload
	d := appsv1ac.Deployment(names.Deployment(exp.Name), exp.Namespace)
	setMeta(d.ObjectMetaApplyConfiguration, exp, opts)

	podLabels := map[string]string{}
	for k, v := range w.PodLabels {
		podLabels[k] = v
	}
	for k, v := range names.ChildLabels(exp.Name) {
		podLabels[k] = v
	}
	pod := corev1ac.PodTemplateSpec().
		WithLabels(podLabels).
		WithSpec(podSpec(exp))
	if ann := podAnnotations(exp); len(ann) > 0 {
		pod.WithAnnotations(ann)
	}

	spec := appsv1ac.DeploymentSpec()
	if needsRecreate(exp) {
		// A host NIC or a fixed address can be held by one pod at a time:
		// a rolling update's surge pod would wait for it forever (or, with
		// a single static address, briefly duplicate it). Replace instead.
		spec.WithStrategy(appsv1ac.DeploymentStrategy().WithType(appsv1.RecreateDeploymentStrategyType))
	}
	d.WithSpec(spec.
		WithReplicas(Replicas(w)).
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(names.SelectorLabels(exp.Name))).
		WithTemplate(pod))
	return d
}

// needsRecreate is true when pods hold something exclusive: a host-device
// NIC or a static address on a secondary network.
func needsRecreate(exp *v1alpha1.Exposure) bool {
	for _, n := range exp.Spec.SecondaryNetworks {
		if n.Type == v1alpha1.NetworkTypeHostDevice || (n.IPAM != nil && n.IPAM.Static != nil) {
			return true
		}
	}
	return false
}

func podAnnotations(exp *v1alpha1.Exposure) map[string]string {
	out := map[string]string{}
	for k, v := range exp.Spec.Workload.PodAnnotations {
		out[k] = v
	}
	if nets := podNetworksAnnotation(exp); nets != "" {
		out[names.MultusNetworksAnnotation] = nets
	}
	return out
}

func podSpec(exp *v1alpha1.Exposure) *corev1ac.PodSpecApplyConfiguration {
	w := exp.Spec.Workload
	c := corev1ac.Container().WithName(ContainerName).WithImage(w.Image)
	if len(w.Command) > 0 {
		c.WithCommand(w.Command...)
	}
	if len(w.Args) > 0 {
		c.WithArgs(w.Args...)
	}
	hostPorts := map[string]int32{}
	if h := exp.Spec.HostAccess; h != nil {
		for _, hp := range h.HostPorts {
			hostPorts[hp.Port] = hp.HostPort
		}
	}
	for _, p := range w.Ports {
		port := corev1ac.ContainerPort().
			WithName(p.Name).
			WithContainerPort(p.ContainerPort).
			WithProtocol(corev1.Protocol(protocolOf(p.Protocol)))
		if hp, ok := hostPorts[p.Name]; ok {
			port.WithHostPort(hp)
		}
		c.WithPorts(port)
	}
	for i := range w.Env {
		c.WithEnv(envVar(w.Env[i]))
	}
	if w.Resources != nil {
		c.WithResources(resources(w.Resources))
	}
	if w.ReadinessProbe != nil {
		c.WithReadinessProbe(probe(w.ReadinessProbe))
	}
	if w.LivenessProbe != nil {
		c.WithLivenessProbe(probe(w.LivenessProbe))
	}
	if w.StartupProbe != nil {
		c.WithStartupProbe(probe(w.StartupProbe))
	}

	spec := corev1ac.PodSpec().WithContainers(c)
	if w.ServiceAccountName != "" {
		spec.WithServiceAccountName(w.ServiceAccountName)
	}
	if len(w.NodeSelector) > 0 {
		spec.WithNodeSelector(w.NodeSelector)
	}
	if h := exp.Spec.HostAccess; h != nil && h.HostNetwork != nil && *h.HostNetwork {
		// A pod on the host network resolves cluster names only with this
		// policy; without it, in-cluster DNS silently stops working.
		spec.WithHostNetwork(true).WithDNSPolicy(corev1.DNSClusterFirstWithHostNet)
	}
	return spec
}

func protocolOf(p v1alpha1.Protocol) v1alpha1.Protocol {
	if p == "" {
		return v1alpha1.ProtocolTCP
	}
	return p
}
