package gitops

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// Argo CD's field manager for server-side apply and its tracking metadata
// (the label of label tracking, the annotation of annotation tracking; with
// annotation+label tracking it writes both).
const (
	argoFieldManager = "argocd-controller"
	argoInstance     = "app.kubernetes.io/instance"
	argoTrackingID   = "argocd.argoproj.io/tracking-id"
)

// TestNoDriftUnderArgoCDServerSideApply syncs the Exposures of the sample
// Application as Argo CD does with ServerSideApply=true, lets the operator
// reconcile them to Ready, then runs Argo CD's server-side diff (a dry-run
// apply of the Git manifest) and a second, real sync. Neither may change
// anything: the operator writes no field of the Exposure that Git holds,
// no schema default appears in spec, and Argo CD's tracking metadata never
// reaches the children.
func TestNoDriftUnderArgoCDServerSideApply(t *testing.T) {
	ctx := context.Background()
	app := application(t)
	ns, _, _ := unstructured.NestedString(app.Object, "spec", "destination", "namespace")
	createNamespace(t, ns)
	// Even an admin who lists Argo CD's tracking keys for propagation does
	// not get them copied onto children.
	startManager(t, func(c *controllers.Config) {
		c.Render.PropagatedLabels = append(c.Render.PropagatedLabels, argoInstance, "app.kubernetes.io/part-of")
		c.Render.PropagatedAnnotations = append(c.Render.PropagatedAnnotations, argoTrackingID)
	})
	script := healthScript(t)

	for _, manifest := range gitManifests(t, app) {
		t.Run(manifest.GetName(), func(t *testing.T) {
			// What Argo CD applies: the Git manifest in the destination
			// namespace, plus its tracking metadata.
			desired := manifest.DeepCopy()
			desired.SetNamespace(ns)
			labels := desired.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[argoInstance] = app.GetName()
			desired.SetLabels(labels)
			annotations := desired.GetAnnotations()
			if annotations == nil {
				annotations = map[string]string{}
			}
			annotations[argoTrackingID] = app.GetName() + ":" + v1alpha1.GroupVersion.Group + "/Exposure:" + ns + "/" + desired.GetName()
			desired.SetAnnotations(annotations)

			sync := func(opts ...client.ApplyOption) *unstructured.Unstructured {
				t.Helper()
				u := desired.DeepCopy()
				opts = append(opts, client.FieldOwner(argoFieldManager))
				if err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), opts...); err != nil {
					t.Fatalf("server-side apply as %s: %v", argoFieldManager, err)
				}
				return u
			}
			sync()

			name := desired.GetName()
			exp := getExposure(t, ns, name)
			if exp.Spec.Workload != nil {
				actAsDeploymentController(t, ns, names.Deployment(name))
				actAsEndpointSliceController(t, ns, names.Service(name), "10.244.3.4", "10.244.4.5")
			}
			if exp.Spec.Ingress != nil {
				actAsIngressController(t, ns, names.Ingress(name), "192.168.60.10")
			}
			waitCondition(t, ns, name, v1alpha1.ConditionReady, metav1.ConditionTrue, "")
			waitSteady(t, ns, name)
			live := getExposureUnstructured(t, ns, name)

			if hs, err := runHealthLua(script, live.Object); err != nil || hs.Status != "Healthy" {
				t.Errorf("Argo CD health of the synced Exposure: %+v (%v), want Healthy", hs, err)
			}

			// What Git holds is what the cluster holds.
			sameMeta(t, "the Git manifest (plus tracking metadata)", desired, "the live object", live)
			if w, g := mustJSON(t, desired.Object["spec"]), mustJSON(t, live.Object["spec"]); w != g {
				t.Errorf("the live spec differs from the Git manifest (a default or an operator write):\n git:  %s\n live: %s", w, g)
			}

			// Argo CD's server-side diff: a dry-run apply of the manifest
			// must predict exactly the live object.
			dry := sync(client.DryRunAll)
			if dry.GetResourceVersion() != live.GetResourceVersion() || dry.GetGeneration() != live.GetGeneration() {
				t.Errorf("the dry-run apply would write: resourceVersion %s -> %s, generation %d -> %d",
					live.GetResourceVersion(), dry.GetResourceVersion(), live.GetGeneration(), dry.GetGeneration())
			}
			sameMeta(t, "the dry-run apply", dry, "the live object", live)
			if w, g := mustJSON(t, dry.Object["spec"]), mustJSON(t, live.Object["spec"]); w != g {
				t.Errorf("the dry-run apply changes spec:\n dry-run: %s\n live:    %s", w, g)
			}
			if !reflect.DeepEqual(dry.GetFinalizers(), live.GetFinalizers()) {
				t.Errorf("the dry-run apply changes finalizers: %v -> %v", live.GetFinalizers(), dry.GetFinalizers())
			}

			// A second, real sync (self-heal) is a no-op for the API server.
			if again := sync(); again.GetResourceVersion() != live.GetResourceVersion() {
				t.Errorf("re-syncing the unchanged manifest wrote the Exposure: resourceVersion %s -> %s",
					live.GetResourceVersion(), again.GetResourceVersion())
			}

			// Nobody but Argo CD owns a field of what Argo CD applies.
			for _, mf := range live.GetManagedFields() {
				if mf.Manager == argoFieldManager || mf.Subresource != "" || mf.FieldsV1 == nil {
					continue
				}
				fields := mf.FieldsV1.GetRawString()
				for _, f := range []string{`"f:spec"`, `"f:labels"`, `"f:annotations"`} {
					if strings.Contains(fields, f) {
						t.Errorf("field manager %q (%s) owns %s of the Exposure: a sync would conflict or revert it: %s",
							mf.Manager, mf.Operation, f, fields)
					}
				}
			}

			checkChildrenUntracked(t, ns, name)
		})
	}
}

func sameMeta(t *testing.T, whatA string, a *unstructured.Unstructured, whatB string, b *unstructured.Unstructured) {
	t.Helper()
	if !reflect.DeepEqual(a.GetLabels(), b.GetLabels()) {
		t.Errorf("labels differ:\n %s: %v\n %s: %v", whatA, a.GetLabels(), whatB, b.GetLabels())
	}
	if !reflect.DeepEqual(a.GetAnnotations(), b.GetAnnotations()) {
		t.Errorf("annotations differ:\n %s: %v\n %s: %v", whatA, a.GetAnnotations(), whatB, b.GetAnnotations())
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkChildrenUntracked checks that the Deployment (and its pod template),
// Service and Ingress of an Exposure carry neither of Argo CD's tracking
// keys: Argo CD would otherwise count them as the Application's own
// resources, report them OutOfSync and prune them. The label the Exposure
// does propagate (app.kubernetes.io/part-of) is there, so the check is not
// vacuous. EndpointSlices copy the Service's labels, so the Service covers
// them.
func checkChildrenUntracked(t *testing.T, ns, name string) {
	t.Helper()
	ctx := context.Background()
	exp := getExposure(t, ns, name)
	type meta struct {
		what        string
		labels      map[string]string
		annotations map[string]string
	}
	var objs []meta
	sel := client.MatchingLabels{names.ExposureLabel: name}

	if exp.Spec.Workload != nil {
		var ds appsv1.DeploymentList
		if err := env.Client.List(ctx, &ds, client.InNamespace(ns), sel); err != nil {
			t.Fatal(err)
		}
		if len(ds.Items) == 0 {
			t.Error("no Deployment found for the Exposure")
		}
		for _, d := range ds.Items {
			objs = append(objs,
				meta{"Deployment " + d.Name, d.Labels, d.Annotations},
				meta{"the pod template of Deployment " + d.Name, d.Spec.Template.Labels, d.Spec.Template.Annotations})
		}
	}
	var ss corev1.ServiceList
	if err := env.Client.List(ctx, &ss, client.InNamespace(ns), sel); err != nil {
		t.Fatal(err)
	}
	if len(ss.Items) == 0 {
		t.Error("no Service found for the Exposure")
	}
	for _, s := range ss.Items {
		objs = append(objs, meta{"Service " + s.Name, s.Labels, s.Annotations})
	}
	if exp.Spec.Ingress != nil {
		var is networkingv1.IngressList
		if err := env.Client.List(ctx, &is, client.InNamespace(ns), sel); err != nil {
			t.Fatal(err)
		}
		if len(is.Items) == 0 {
			t.Error("no Ingress found for the Exposure")
		}
		for _, i := range is.Items {
			objs = append(objs, meta{"Ingress " + i.Name, i.Labels, i.Annotations})
		}
	}

	partOf, propagates := exp.Labels["app.kubernetes.io/part-of"]
	for _, o := range objs {
		if v, ok := o.labels[argoInstance]; ok {
			t.Errorf("%s carries Argo CD's tracking label %s=%s", o.what, argoInstance, v)
		}
		for k, v := range o.annotations {
			if k == argoTrackingID || strings.HasPrefix(k, "argocd.argoproj.io/") {
				t.Errorf("%s carries Argo CD's annotation %s=%s", o.what, k, v)
			}
		}
		if propagates && !strings.HasPrefix(o.what, "the pod template") && o.labels["app.kubernetes.io/part-of"] != partOf {
			t.Errorf("%s lacks the propagated label app.kubernetes.io/part-of=%s: %v", o.what, partOf, o.labels)
		}
	}
}
