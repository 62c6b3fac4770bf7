package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/selfsigned"
)

// What the samples take for granted, done the way `make run` does it and
// the e2e suite repeats it: the samples' first comment lines ("# Needs
// ...") name these steps.

// AdminPool is a MetalLB IPAddressPool a cluster admin creates.
type AdminPool struct {
	Name      string
	Addresses []string
	// AutoAssign lets MetalLB hand the pool's addresses to any
	// LoadBalancer Service; off, only Services that name the pool or one
	// of its addresses get one.
	AutoAssign bool
	// Namespaces, when set, are the only ones MetalLB allocates to.
	Namespaces []string
}

// SamplePools are the admin pools the samples name. None auto-assigns, so
// that no other Service takes a sample's fixed address first, and none
// overlaps 192.168.50.20-192.168.50.30, the range for which
// samples/loadbalancer-metallb-pool.yaml makes its own pool. Their
// addresses are data for MetalLB; nothing is sent to them.
var SamplePools = []AdminPool{
	// The fixed loadBalancer.ip addresses of samples/dns-udp.yaml
	// (192.168.50.53) and samples/loadbalancer-fixed-ip.yaml (.40).
	{Name: "static-addresses", Addresses: []string{"192.168.50.32/27"}},
	// The pool samples/loadbalancer-shared-pool.yaml names.
	{Name: "shared", Addresses: []string{"192.168.50.64/28"}},
}

// SampleNamespaceLabels are the labels an admin puts on the namespace the
// samples go into: samples/policy/operator-policy.yaml grants host ports
// (samples/hostports.yaml) to namespaces labelled so.
var SampleNamespaceLabels = map[string]string{"exposure.dev/edge": "true"}

// EnsureAdminPools creates the pools in MetalLB's namespace; existing ones
// are left as they are.
func EnsureAdminPools(ctx context.Context, c client.Client, pools []AdminPool) error {
	for _, p := range pools {
		spec := map[string]any{"addresses": toAny(p.Addresses), "autoAssign": p.AutoAssign}
		if len(p.Namespaces) > 0 {
			spec["serviceAllocation"] = map[string]any{"namespaces": toAny(p.Namespaces)}
		}
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
			"metadata": map[string]any{"namespace": MetalLBNamespace, "name": p.Name},
			"spec":     spec,
		}}
		if err := client.IgnoreAlreadyExists(c.Create(ctx, u)); err != nil {
			return fmt.Errorf("creating the admin pool %s: %w", p.Name, err)
		}
	}
	return nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Sample is one file of samples/: its Exposure, as the file holds it.
type Sample struct {
	File     string
	Exposure *unstructured.Unstructured
}

// LoadSamples reads every samples/*.yaml of the repository at root, in
// file-name order.
func LoadSamples(root string) ([]Sample, error) {
	files, err := filepath.Glob(filepath.Join(root, "samples", "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Sample
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(b, &u.Object); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if u.GetKind() != "Exposure" {
			return nil, fmt.Errorf("%s holds a %s, not one Exposure", f, u.GetKind())
		}
		out = append(out, Sample{File: f, Exposure: u})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no samples in %s", filepath.Join(root, "samples"))
	}
	return out, nil
}

// PrepareSamples creates, in namespace ns, what the samples' tenant takes
// for granted: running pods for a selector backend, the TLS Secret an
// Ingress names, the CA ConfigMap a backendTLS names. Existing objects are
// left alone.
func PrepareSamples(ctx context.Context, c client.Client, ns string, samples []Sample) error {
	for _, s := range samples {
		exp := &v1alpha1.Exposure{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(s.Exposure.Object, exp); err != nil {
			return fmt.Errorf("%s: %w", s.File, err)
		}
		objs, err := prerequisites(ns, exp)
		if err != nil {
			return fmt.Errorf("%s: %w", s.File, err)
		}
		for _, o := range objs {
			if err := client.IgnoreAlreadyExists(c.Create(ctx, o)); err != nil {
				return fmt.Errorf("%s: creating %T %s: %w", filepath.Base(s.File), o, o.GetName(), err)
			}
		}
	}
	return nil
}

// prerequisites are the objects an Exposure's spec names but the operator
// does not make.
func prerequisites(ns string, exp *v1alpha1.Exposure) ([]client.Object, error) {
	var out []client.Object
	if len(exp.Spec.Selector) > 0 {
		var ports []corev1.ContainerPort
		for _, p := range exp.Spec.Ports {
			port := p.Port
			if p.TargetPort != nil && p.TargetPort.IntVal != 0 {
				port = p.TargetPort.IntVal
			}
			proto := corev1.ProtocolTCP
			if p.Protocol != "" {
				proto = corev1.Protocol(p.Protocol)
			}
			ports = append(ports, corev1.ContainerPort{Name: p.Name, ContainerPort: port, Protocol: proto})
		}
		out = append(out, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: exp.Name + "-existing-pods"},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](2),
				Selector: &metav1.LabelSelector{MatchLabels: exp.Spec.Selector},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: exp.Spec.Selector},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27", Ports: ports}}},
				},
			},
		})
	}
	if in := exp.Spec.Ingress; in != nil && in.TLS != nil && in.TLS.SecretName != "" {
		var hosts []string
		for _, r := range in.Rules {
			if r.Host != "" {
				hosts = append(hosts, r.Host)
			}
		}
		cert, key, err := selfsigned.Generate(hosts, time.Now(), 365*24*time.Hour)
		if err != nil {
			return nil, err
		}
		out = append(out, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: in.TLS.SecretName}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key}})
	}
	if in := exp.Spec.Ingress; in != nil && in.BackendTLS != nil && in.BackendTLS.CAConfigMap != "" {
		// The CA bundle a Gateway checks the pods' certificate against
		// (a self-signed certificate for the hostname is its own CA).
		cert, _, err := selfsigned.Generate([]string{in.BackendTLS.Hostname}, time.Now(), 365*24*time.Hour)
		if err != nil {
			return nil, err
		}
		out = append(out, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: in.BackendTLS.CAConfigMap},
			Data: map[string]string{"ca.crt": string(cert)}})
	}
	return out, nil
}
