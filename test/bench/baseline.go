package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/controllers/render"
	"github.com/exposure-operator/exposure-operator/internal/scheme"
)

// baselineManager is the field manager of the baseline's applies.
const baselineManager = "exposure-bench-baseline"

// baselineObjects renders an Exposure the way the operator does and makes
// two changes that cost the API server nothing: no owner reference (there
// is no Exposure to own them; the garbage collector would delete them),
// and a managed-by label the operator does not select, so that the
// operator, run after the baseline, neither caches nor watches them.
func baselineObjects(exp *v1alpha1.Exposure, opts render.Options) ([]*unstructured.Unstructured, error) {
	objs, err := render.Render(exp, opts)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		o.SetOwnerReferences(nil)
		relabel(o.Object)
	}
	return objs, nil
}

// relabel rewrites our managed-by label wherever a labels map holds it
// (the object's and its pod template's).
func relabel(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if k == "labels" {
				if l, ok := x.(map[string]any); ok && l[names.ManagedByLabel] == names.ManagedByValue {
					l[names.ManagedByLabel] = baselineManager
				}
			}
			relabel(x)
		}
	case []any:
		for _, x := range t {
			relabel(x)
		}
	}
}

// applyBaseline server-side applies every group of objects with a client
// limited like the operator's (same QPS and burst) and as many workers as
// the operator has reconcilers; each worker applies one group in render
// order, the way one reconcile does. It returns when each apply returned.
func applyBaseline(ctx context.Context, cfg *rest.Config, qps float32, burst, workers int, groups [][]*unstructured.Unstructured) ([]time.Time, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = qps, burst
	c, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var done []time.Time
	work := make(chan []*unstructured.Unstructured)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range work {
				for _, o := range g {
					if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner(baselineManager), client.ForceOwnership); err != nil {
						errs <- fmt.Errorf("baseline: applying %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
						return
					}
					mu.Lock()
					done = append(done, time.Now())
					mu.Unlock()
				}
			}
		}()
	}
	var failed error
feed:
	for _, g := range groups {
		select {
		case work <- g:
		case failed = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	select {
	case err := <-errs:
		return nil, err
	default:
		return done, nil
	}
}
