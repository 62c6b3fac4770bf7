package controllers

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/apply"
	"github.com/exposure-operator/exposure-operator/controllers/iprange"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

// claimPool creates the operator-made IPAddressPool, first making sure its
// ranges overlap no other pool in the cluster: MetalLB refuses a
// configuration with overlapping pools as a whole, which would freeze
// address assignment for every tenant. The check and the create run under
// one lock, so two Exposures cannot claim overlapping ranges at once.
// On a conflict nothing is created.
func (r *ExposureReconciler) claimPool(ctx context.Context, exp *v1alpha1.Exposure, owner apply.Owner, desired []*unstructured.Unstructured) (*observe.Stall, error) {
	var pool *unstructured.Unstructured
	for _, o := range desired {
		if o.GetKind() == render.KindIPAddressPool {
			pool = o
		}
	}
	if pool == nil {
		return nil, nil
	}
	r.poolMu.Lock()
	defer r.poolMu.Unlock()

	ours, err := iprange.ParseAll(stringSlice(pool.Object, "spec", "addresses"))
	if err != nil {
		return nil, fmt.Errorf("rendered pool %s: %w", pool.GetName(), err)
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(pool.GroupVersionKind().GroupVersion().WithKind(render.KindIPAddressPool + "List"))
	// MetalLB reads pools from its own namespace only; a pool elsewhere
	// allocates nothing, so cannot conflict.
	if err := r.APIReader.List(ctx, list, client.InNamespace(pool.GetNamespace())); err != nil {
		return nil, fmt.Errorf("listing IPAddressPools to check for overlaps: %w", err)
	}
	for i := range list.Items {
		other := &list.Items[i]
		if other.GetNamespace() == pool.GetNamespace() && other.GetName() == pool.GetName() {
			continue
		}
		for _, s := range stringSlice(other.Object, "spec", "addresses") {
			theirs, err := iprange.Parse(s)
			if err != nil {
				continue // MetalLB itself refuses such a pool
			}
			for j, o := range ours {
				if o.Overlaps(theirs) {
					return &observe.Stall{Reason: v1alpha1.ReasonAddressConflict, Message: fmt.Sprintf(
						"spec.loadBalancer.addresses[%d] %s overlaps IPAddressPool %s/%s (%s); choose another range, or use loadBalancer.pool: %s if the policy grants it",
						j, exp.Spec.LoadBalancer.Addresses[j], other.GetNamespace(), other.GetName(), s, other.GetName())}, nil
				}
			}
		}
	}
	_, err = r.Applier.Apply(ctx, owner, pool)
	var ce *apply.ConflictError
	if errors.As(err, &ce) {
		return &observe.Stall{Reason: v1alpha1.ReasonConflict, Message: ce.Error()}, nil
	}
	return nil, err
}

func stringSlice(obj map[string]any, fields ...string) []string {
	v, ok, _ := unstructured.NestedStringSlice(obj, fields...)
	if !ok {
		return nil
	}
	return v
}
