package controllers

import (
	"context"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// countingMapper counts the mappings asked of a RESTMapper that knows no
// kind at all, as controller-runtime's would for an uninstalled CRD.
type countingMapper struct {
	meta.RESTMapper
	calls atomic.Int32
}

func (m *countingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	m.calls.Add(1)
	return m.RESTMapper.RESTMapping(gk, versions...)
}

// Every miss of controller-runtime's RESTMapper refetches discovery, so an
// absent optional kind is asked about once per absentRecheck, however many
// reconciles prune it (issue 15).
func TestServedAsksAboutAnAbsentKindOncePerRecheck(t *testing.T) {
	m := &countingMapper{RESTMapper: meta.NewDefaultRESTMapper(nil)}
	// No request is made: the mapper answers, and nothing else is asked.
	c, err := client.New(&rest.Config{Host: "https://127.0.0.1:1"}, client.Options{Mapper: m})
	if err != nil {
		t.Fatal(err)
	}
	r := &ExposureReconciler{Client: c}
	for i := range 3 {
		served, err := r.served(context.Background(), routeGVK, "ns")
		if err != nil || served {
			t.Fatalf("call %d: served %v, err %v; want false, nil", i, served, err)
		}
	}
	if got := m.calls.Load(); got != 1 {
		t.Errorf("the RESTMapper was asked %d times in a row about an absent kind, want 1", got)
	}
	// Another kind is its own question.
	if served, _ := r.served(context.Background(), nadGVK, "ns"); served || m.calls.Load() != 2 {
		t.Errorf("another absent kind: served %v after %d mappings, want false after 2", served, m.calls.Load())
	}
}
