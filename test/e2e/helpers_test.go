package e2e

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

var ctx = context.Background()

const fieldManager = "e2e-suite"

var nsSeq struct {
	sync.Mutex
	n int
}

// newNamespace creates a namespace the suite's policy grants to, with
// any further labels, deleted when the test ends.
func newNamespace(t *testing.T, hint string, labels ...map[string]string) string {
	t.Helper()
	nsSeq.Lock()
	nsSeq.n++
	name := fmt.Sprintf("e2e-%d-%s", nsSeq.n, hint)
	nsSeq.Unlock()
	if len(name) > 60 {
		name = strings.TrimRight(name[:60], "-")
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"exposure.dev/e2e": "true"}}}
	for _, l := range labels {
		maps.Copy(ns.Labels, l)
	}
	if err := k8s.Create(ctx, ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ns) })
	return name
}

// serverSideApply applies an object as kubectl apply --server-side would.
func serverSideApply(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	if err := k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		t.Fatalf("applying %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
}

func getExposure(t *testing.T, ns, name string) *v1alpha1.Exposure {
	t.Helper()
	e := &v1alpha1.Exposure{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, e); err != nil {
		t.Fatalf("getting Exposure %s/%s: %v", ns, name, err)
	}
	return e
}

// waitReady waits as `kubectl wait --for=condition=Ready` does, and also
// for the status to describe the current generation.
func waitReady(t *testing.T, ns, name string, timeout time.Duration) *v1alpha1.Exposure {
	t.Helper()
	var exp *v1alpha1.Exposure
	eventually(t, timeout, func() string {
		exp = getExposure(t, ns, name)
		c := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || exp.Status.ObservedGeneration != exp.Generation {
			return fmt.Sprintf("%s/%s not Ready: %s", ns, name, conditions(exp))
		}
		return ""
	})
	return exp
}

func conditions(e *v1alpha1.Exposure) string { return testenv.ConditionsString(e) }

func eventually(t *testing.T, timeout time.Duration, cond func() string) {
	t.Helper()
	testenv.Eventually(t, timeout, cond)
}
