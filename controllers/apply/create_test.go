package apply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/controllers/apply"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/internal/scheme"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// requests counts the applier's requests to the API server by method; the
// cache's list and watch go through another config and are not counted.
type requests struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *requests) take() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.n
	r.n = map[string]int{}
	return n
}

type countingTransport struct {
	next http.RoundTripper
	r    *requests
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !discovery(req.URL.Path) {
		t.r.mu.Lock()
		t.r.n[req.Method]++
		t.r.mu.Unlock()
	}
	return t.next.RoundTrip(req)
}

// discovery is true for the REST mapper's discovery reads (/api, /apis,
// /apis/GROUP/VERSION), which a client makes the first time it meets a
// kind; the manager's mapper has made them long before the first apply.
func discovery(path string) bool {
	return path == "/api" || path == "/apis" || strings.Count(strings.TrimSuffix(path, "/"), "/") <= 3 && !strings.Contains(path, "/namespaces")
}

// newApplier builds an applier as the manager does: reads through an
// informer cache that holds only objects with our label, managedFields
// stripped.
func newApplier(t *testing.T, ctx context.Context) (*apply.Applier, *requests) {
	t.Helper()
	return newApplierCaching(t, ctx, labels.SelectorFromSet(labels.Set{names.ManagedByLabel: names.ManagedByValue}))
}

// newApplierCaching is newApplier with a cache of the objects that the
// selector matches.
func newApplierCaching(t *testing.T, ctx context.Context, cached labels.Selector) (*apply.Applier, *requests) {
	t.Helper()
	c, err := cache.New(env.Config, cache.Options{
		Scheme:               scheme.Scheme,
		DefaultLabelSelector: cached,
		DefaultTransform:     cache.TransformStripManagedFields(),
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	counted := &requests{n: map[string]int{}}
	cfg := rest.CopyConfig(env.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{next: rt, r: counted} })
	cl, err := client.New(cfg, client.Options{Scheme: scheme.Scheme, Cache: &client.CacheOptions{Reader: c, Unstructured: true}})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &apply.Applier{Client: cl, APIReader: direct, Scheme: scheme.Scheme}, counted
}

// setup gives a test an applier, its request counter, and the owner
// "web" in a namespace of its own; the applier's cache stops with the test.
func setup(t *testing.T) (context.Context, *apply.Applier, *requests, apply.Owner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a, counted := newApplier(t, ctx)
	owner := apply.Owner{Namespace: newNamespace(t, ctx), Name: "web", UID: types.UID(rand.String(8))}
	return ctx, a, counted, owner
}

func newNamespace(t *testing.T, ctx context.Context) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apply-" + rand.String(6)}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// child renders a child of the Exposure "web" from YAML, with the labels
// and controller reference the operator gives its children.
func child(t *testing.T, owner apply.Owner, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetNamespace(owner.Namespace)
	l := u.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[names.ManagedByLabel] = names.ManagedByValue
	l[names.ExposureLabel] = owner.Name
	u.SetLabels(l)
	u.SetOwnerReferences([]metav1.OwnerReference{{
		APIVersion: "exposure.dev/v1alpha1", Kind: "Exposure", Name: owner.Name, UID: owner.UID,
		Controller: new(true), BlockOwnerDeletion: new(true),
	}})
	return u
}

const deploymentV1 = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations: {team: payments}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: example/web:1
        env: [{name: MODE, value: fast}]
`

// deploymentV2 drops the annotation and the variable and changes the image.
const deploymentV2 = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: example/web:2
`

// waitCached waits until the applier's cache holds the object at least at
// the given resourceVersion, as the next reconcile would see it.
func waitCached(t *testing.T, ctx context.Context, a *apply.Applier, u *unstructured.Unstructured) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(u.GroupVersionKind())
		err := a.Client.Get(ctx, client.ObjectKeyFromObject(u), got)
		if err == nil && got.GetResourceVersion() == u.GetResourceVersion() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s not in the cache at resourceVersion %s: %v", u.GetKind(), u.GetName(), u.GetResourceVersion(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func live(t *testing.T, ctx context.Context, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(u.GroupVersionKind())
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(u), got); err != nil {
		t.Fatal(err)
	}
	return got
}

func managers(u *unstructured.Unstructured) []string {
	var out []string
	for _, f := range u.GetManagedFields() {
		out = append(out, fmt.Sprintf("%s/%s", f.Manager, f.Operation))
	}
	return out
}

// A new child is one request: the create, whose refusal of a taken name
// is the check that the name is not someone else's.
func TestNewChildIsOneCreate(t *testing.T) {
	ctx, a, counted, owner := setup(t)
	desired := child(t, owner, deploymentV1)
	// The first read of a kind starts its informer; do it before counting.
	_ = a.Client.Get(ctx, client.ObjectKey{Namespace: owner.Namespace, Name: "none"}, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment"}})
	counted.take()

	res, err := a.Apply(ctx, owner, desired)
	if err != nil || res.Outcome != apply.Applied {
		t.Fatalf("Apply: %v, %v", res, err)
	}
	if n := counted.take(); n[http.MethodPost] != 1 || len(n) != 1 {
		t.Fatalf("a new child should cost one POST and nothing else, got %v", n)
	}
	got := live(t, ctx, desired)
	if m := managers(got); len(m) != 1 || m[0] != names.FieldOwner+"/Update" {
		t.Fatalf("managedFields after the create: %v", m)
	}
}

// A name taken by someone else's object is refused by the create, and the
// object is left exactly as it was.
func TestTakenNameIsLeftAlone(t *testing.T) {
	ctx, a, counted, owner := setup(t)
	theirs := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: owner.Namespace, Name: "web", Labels: map[string]string{"team": "other"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "db", Port: 5432}}},
	}
	if err := env.Client.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	desired := child(t, owner, `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
`)
	counted.take()
	res, err := a.Apply(ctx, owner, desired)
	var ce *apply.ConflictError
	if !errors.As(err, &ce) || res.Outcome != apply.Conflict {
		t.Fatalf("Apply over someone else's Service: %v, %v; want a ConflictError", res, err)
	}
	if n := counted.take(); n[http.MethodPost] != 1 || n[http.MethodGet] != 1 || len(n) != 2 {
		t.Fatalf("a taken name should cost the refused POST and one metadata GET, got %v", n)
	}
	after := &corev1.Service{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(theirs), after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != theirs.ResourceVersion || after.Labels[names.ManagedByLabel] != "" || len(after.OwnerReferences) != 0 {
		t.Fatalf("someone else's Service was changed: resourceVersion %s -> %s, labels %v, owners %v",
			theirs.ResourceVersion, after.ResourceVersion, after.Labels, after.OwnerReferences)
	}
}

// After a create, an edit that drops fields removes them from the live
// object: the create's ownership record is merged into the apply's first,
// and what the API server defaulted at the create stays as it was.
func TestFieldsDroppedAfterTheCreateAreRemoved(t *testing.T) {
	ctx, a, counted, owner := setup(t)
	v1 := child(t, owner, deploymentV1)
	if _, err := a.Apply(ctx, owner, v1); err != nil {
		t.Fatal(err)
	}
	created := live(t, ctx, v1)
	waitCached(t, ctx, a, created)

	v2 := child(t, owner, deploymentV2)
	counted.take()
	if res, err := a.Apply(ctx, owner, v2); err != nil || res.Outcome != apply.Applied {
		t.Fatalf("Apply of the edit: %v, %v", res, err)
	}
	// One metadata GET (the cache has no managedFields), the merge of the
	// records, the apply.
	if n := counted.take(); n[http.MethodGet] != 1 || n[http.MethodPatch] != 2 || len(n) != 2 {
		t.Fatalf("the first edit after a create should cost one GET and two PATCHes, got %v", n)
	}
	got := live(t, ctx, v2)
	if _, has := got.GetAnnotations()["team"]; has {
		t.Errorf("the dropped annotation is still there: %v", got.GetAnnotations())
	}
	c, _, _ := unstructured.NestedSlice(got.Object, "spec", "template", "spec", "containers")
	ctr := c[0].(map[string]any)
	if ctr["image"] != "example/web:2" {
		t.Errorf("image not updated: %v", ctr["image"])
	}
	if env, has := ctr["env"]; has {
		t.Errorf("the dropped variable is still there: %v", env)
	}
	// Defaulted at the create, owned by the merged record for one request,
	// defaulted again to the same values.
	for _, path := range [][]string{
		{"spec", "revisionHistoryLimit"}, {"spec", "progressDeadlineSeconds"}, {"spec", "strategy", "rollingUpdate", "maxSurge"},
		{"spec", "template", "spec", "dnsPolicy"}, {"spec", "template", "spec", "terminationGracePeriodSeconds"},
	} {
		want, _, _ := unstructured.NestedFieldNoCopy(created.Object, path...)
		have, _, _ := unstructured.NestedFieldNoCopy(got.Object, path...)
		if want == nil || fmt.Sprint(want) != fmt.Sprint(have) {
			t.Errorf("defaulted field %v: %v after the create, %v after the edit", path, want, have)
		}
	}
	if m := managers(got); len(m) != 1 || m[0] != names.FieldOwner+"/Apply" {
		t.Errorf("managedFields after the edit should be our apply record alone, got %v", m)
	}

	// The same desired state again: nothing is sent.
	waitCached(t, ctx, a, got)
	if res, err := a.Apply(ctx, owner, child(t, owner, deploymentV2)); err != nil || res.Outcome != apply.Unchanged {
		t.Fatalf("Apply of an unchanged state: %v, %v", res, err)
	}
	if n := counted.take(); len(n) != 0 {
		t.Fatalf("an unchanged child should cost no request, got %v", n)
	}
}

// A Service created, then edited, keeps its cluster IP and node port,
// which the API server allocated at the create.
func TestServiceKeepsWhatWasAllocated(t *testing.T) {
	ctx, a, _, owner := setup(t)
	doc := `
apiVersion: v1
kind: Service
metadata: {name: web, annotations: {%s}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80}]
`
	v1 := child(t, owner, fmt.Sprintf(doc, "team: payments"))
	if _, err := a.Apply(ctx, owner, v1); err != nil {
		t.Fatal(err)
	}
	created := &corev1.Service{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(v1), created); err != nil {
		t.Fatal(err)
	}
	waitCached(t, ctx, a, live(t, ctx, v1))
	if res, err := a.Apply(ctx, owner, child(t, owner, fmt.Sprintf(doc, ""))); err != nil || res.Outcome != apply.Applied {
		t.Fatalf("Apply of the edit: %v, %v", res, err)
	}
	after := &corev1.Service{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(v1), after); err != nil {
		t.Fatal(err)
	}
	if after.UID != created.UID || after.Spec.ClusterIP != created.Spec.ClusterIP || after.Spec.Ports[0].NodePort != created.Spec.Ports[0].NodePort {
		t.Fatalf("the Service changed what was allocated: uid %s -> %s, cluster IP %s -> %s, node port %d -> %d",
			created.UID, after.UID, created.Spec.ClusterIP, after.Spec.ClusterIP, created.Spec.Ports[0].NodePort, after.Spec.Ports[0].NodePort)
	}
	if _, has := after.Annotations["team"]; has {
		t.Fatalf("the dropped annotation is still there: %v", after.Annotations)
	}
}

// A child created moments ago that the cache does not show yet is taken
// to exist: no second create, no lookup (apply.Unseen). Another desired
// state, or the window past, takes the usual path: the create, refused
// because the name is taken, and the lookup that finds it is ours.
func TestJustCreatedChildNotYetCachedIsUnseen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// A cache that never shows the children: as one that lags forever.
	a, counted := newApplierCaching(t, ctx, labels.SelectorFromSet(labels.Set{"never": "cached"}))
	a.UnseenFor = time.Second
	owner := apply.Owner{Namespace: newNamespace(t, ctx), Name: "web", UID: types.UID(rand.String(8))}
	desired := child(t, owner, deploymentV1)

	if res, err := a.Apply(ctx, owner, desired); err != nil || res.Outcome != apply.Applied {
		t.Fatalf("first Apply: %+v, %v", res, err)
	}
	counted.take()
	res, err := a.Apply(ctx, owner, desired)
	if err != nil || res.Outcome != apply.Unseen || res.Written {
		t.Fatalf("Apply again at once: %+v, %v; want Unseen, nothing written", res, err)
	}
	if n := counted.take(); len(n) != 0 {
		t.Errorf("Apply of an unseen child sent requests: %v", n)
	}

	time.Sleep(a.UnseenFor)
	if res, err := a.Apply(ctx, owner, desired); err != nil || res.Outcome != apply.Unchanged {
		t.Fatalf("Apply after the window: %+v, %v; want Unchanged, by the create path", res, err)
	}
	if n := counted.take(); n[http.MethodPost] != 1 || n[http.MethodGet] != 1 || n[http.MethodPatch] != 0 {
		t.Errorf("after the window: requests %v; want the refused create and the lookup", n)
	}

	changed := desired.DeepCopy()
	_ = unstructured.SetNestedField(changed.Object, int64(2), "spec", "replicas")
	if res, err := a.Apply(ctx, owner, changed); err != nil || res.Outcome != apply.Applied || !res.Written {
		t.Fatalf("Apply of another desired state: %+v, %v; want Applied", res, err)
	}
	if n := counted.take(); n[http.MethodPost] != 1 || n[http.MethodGet] == 0 || n[http.MethodPatch] == 0 {
		t.Errorf("another desired state: requests %v; want the refused create, the lookup, the apply", n)
	}
}

// Once the cache has shown a child, its absence means it was deleted: it
// is created again at once, however recently it was first created.
func TestSeenThenDeletedChildIsCreatedAgainAtOnce(t *testing.T) {
	ctx, a, _, owner := setup(t)
	a.UnseenFor = time.Minute
	desired := child(t, owner, deploymentV1)
	if res, err := a.Apply(ctx, owner, desired); err != nil || res.Outcome != apply.Applied {
		t.Fatalf("first Apply: %+v, %v", res, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for res, err := a.Apply(ctx, owner, desired); res.Outcome != apply.Unchanged; res, err = a.Apply(ctx, owner, desired) {
		if err != nil || res.Outcome != apply.Unseen || time.Now().After(deadline) {
			t.Fatalf("waiting for the cache to show the child: %+v, %v", res, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := env.Client.Delete(ctx, live(t, ctx, desired)); err != nil {
		t.Fatal(err)
	}
	for res, err := a.Apply(ctx, owner, desired); res.Outcome != apply.Applied; res, err = a.Apply(ctx, owner, desired) {
		// Unchanged while the cache still holds the deleted child.
		if err != nil || res.Outcome != apply.Unchanged || time.Now().After(deadline) {
			t.Fatalf("after the delete: %+v, %v; want it created again", res, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
