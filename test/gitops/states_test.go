package gitops

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// statesNamespace holds the Exposures of liveStates. A fixed name keeps the
// testdata written from them stable.
const statesNamespace = "demo"

// healthStatus is what an Argo CD health script returns (Argo CD's
// health.HealthStatus).
type healthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// liveState is an Exposure exactly as the API server returned it after a
// real reconcile, and what each GitOps tool has to make of it.
type liveState struct {
	// File is the name of the testdata file written from it.
	File        string
	Description string
	Object      *unstructured.Unstructured
	// Health is what the Argo CD health check must return.
	Health healthStatus
	// KStatus is what kstatus must compute; empty when kstatus cannot tell
	// (see KStatusNote).
	KStatus     status.Status
	KStatusNote string
}

var (
	states       []liveState
	statesFailed bool
	// clusterIPs maps the randomly allocated cluster IPs of the Services in
	// statesNamespace to fixed ones, for the testdata.
	clusterIPs *strings.Replacer
)

// liveStates drives Exposures through every state a GitOps tool has to
// tell apart, with the real manager on the real API server, and returns
// them as read back. They are built once and shared by the Argo CD and
// kstatus tests.
func liveStates(t *testing.T) []liveState {
	t.Helper()
	if statesFailed {
		t.Fatal("building the live Exposures failed in an earlier test")
	}
	if states != nil {
		return states
	}
	statesFailed = true // until the end is reached
	ctx := context.Background()
	ns := createNamespace(t, statesNamespace)
	stop := startManager(t, nil)

	// An object of the same name the operator does not own: a Conflict.
	theirs := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "legacy", Labels: map[string]string{"owner": "someone-else"}},
		Spec: corev1.ServiceSpec{
			Ports:    []corev1.ServicePort{{Name: "db", Port: 5432}},
			Selector: map[string]string{"app": "legacy"},
		},
	}
	if err := env.Client.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	createExposure(t, ns, `
metadata: {name: legacy}
spec:
  workload:
    image: nginx:1.27
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80, targetPort: http}]
`)
	// A TLS Secret that does not exist: SecretNotFound.
	createExposure(t, ns, `
metadata: {name: shop}
spec:
  selector: {app: shop}
  ports: [{name: http, port: 80, targetPort: 8080}]
  ingress:
    rules: [{host: shop.example.com, paths: [{path: /}]}]
    tls: {secretName: shop-tls}
`)
	// A workload whose Deployment never rolls out (no Deployment controller
	// acts on it): Progressing.
	createExposure(t, ns, `
metadata: {name: rollout}
spec:
  workload:
    image: nginx:1.27
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80, targetPort: http}]
`)
	// A workload that rolls out and gets endpoints: Ready.
	createExposure(t, ns, `
metadata: {name: web}
spec:
  workload:
    image: nginx:1.27
    replicas: 2
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80, targetPort: http}]
`)
	actAsDeploymentController(t, ns, "web")
	actAsEndpointSliceController(t, ns, "web", "10.244.1.5", "10.244.2.7")
	// The HTTPRoute front door in a cluster without the Gateway API:
	// Stalled, GatewayAPINotInstalled (later: refused by its Gateway).
	createExposure(t, ns, `
metadata: {name: webroute}
spec:
  selector: {app: webroute}
  ports: [{name: http, port: 80}]
  ingress:
    frontDoors: [HTTPRoute]
    gateway: {parentRefs: [{name: public, namespace: gateways}]}
    rules: [{host: gw.example.com, paths: [{path: /}]}]
`)
	// A UDPRoute (spec.ports[].gatewayRoute) before its API is installed;
	// later refused by its Gateway's listener.
	createExposure(t, ns, `
metadata: {name: dnsroute}
spec:
  selector: {app: dnsroute}
  ports:
    - name: dns
      port: 53
      protocol: UDP
      gatewayRoute: {kind: UDPRoute, parentRefs: [{name: udp, namespace: gateways, sectionName: dns}]}
`)

	waitCondition(t, ns, "legacy", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonConflict)
	waitCondition(t, ns, "shop", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound)
	waitCondition(t, ns, "rollout", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonRolloutInProgress)
	waitCondition(t, ns, "web", v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonAllPartsReady)
	waitCondition(t, ns, "webroute", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonGatewayAPINotInstalled)
	waitCondition(t, ns, "dnsroute", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonGatewayAPINotInstalled)
	for _, n := range []string{"legacy", "shop", "rollout", "web", "webroute", "dnsroute"} {
		waitSteady(t, ns, n)
	}

	var svcs corev1.ServiceList
	if err := env.Client.List(ctx, &svcs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	sort.Slice(svcs.Items, func(i, j int) bool { return svcs.Items[i].Name < svcs.Items[j].Name })
	var ips [][2]string
	for i, s := range svcs.Items {
		if s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone {
			ips = append(ips, [2]string{s.Spec.ClusterIP, "10.96.0." + strconv.Itoa(10+i)})
		}
	}
	// Longest first: the replacer tries the pairs in order, and 10.0.0.18
	// must not match inside 10.0.0.189.
	sort.SliceStable(ips, func(i, j int) bool { return len(ips[i][0]) > len(ips[j][0]) })
	var pairs []string
	for _, p := range ips {
		pairs = append(pairs, p[0], p[1])
	}
	clusterIPs = strings.NewReplacer(pairs...)

	var out []liveState
	add := func(file, name, description string, health func(*v1alpha1.Exposure) healthStatus, ks status.Status, note string) {
		t.Helper()
		exp := getExposure(t, ns, name)
		out = append(out, liveState{
			File: file, Description: description,
			Object: getExposureUnstructured(t, ns, name),
			Health: health(exp), KStatus: ks, KStatusNote: note,
		})
	}
	condMessage := func(condType string) func(*v1alpha1.Exposure) string {
		return func(exp *v1alpha1.Exposure) string {
			c := meta.FindStatusCondition(exp.Status.Conditions, condType)
			if c == nil {
				t.Fatalf("%s has no %s condition: %s", exp.Name, condType, conditionsString(exp))
			}
			return c.Message
		}
	}
	is := func(s string, msg func(*v1alpha1.Exposure) string) func(*v1alpha1.Exposure) healthStatus {
		return func(exp *v1alpha1.Exposure) healthStatus { return healthStatus{Status: s, Message: msg(exp)} }
	}
	waiting := func(exp *v1alpha1.Exposure) string {
		return "Waiting for the operator to observe generation " + itoa(exp.Generation)
	}

	add("progressing.yaml", "rollout",
		"a new workload whose Deployment has not rolled out yet (Reconciling=True, Ready=False)",
		is("Progressing", condMessage(v1alpha1.ConditionReady)), status.InProgressStatus, "")
	add("healthy.yaml", "web",
		"a rolled-out workload with ready endpoints (Ready=True)",
		is("Healthy", condMessage(v1alpha1.ConditionReady)), status.CurrentStatus, "")
	add("degraded-conflict.yaml", "legacy",
		"a Service of the same name that the operator does not own (Stalled=True, Conflict)",
		is("Degraded", condMessage(v1alpha1.ConditionStalled)), status.FailedStatus, "")
	add("degraded-secret-not-found.yaml", "shop",
		"the TLS Secret named in spec.ingress.tls.secretName does not exist (Stalled=True, SecretNotFound)",
		is("Degraded", condMessage(v1alpha1.ConditionStalled)), status.FailedStatus, "")
	add("degraded-gateway-api-not-installed.yaml", "webroute",
		"the HTTPRoute front door in a cluster without the Gateway API (Stalled=True, GatewayAPINotInstalled)",
		is("Degraded", condMessage(v1alpha1.ConditionStalled)), status.FailedStatus, "")

	// The Gateway API installed, and the Gateway refuses the route (its
	// listeners do not allow the namespace).
	paths, err := testenv.GatewayAPICRDPaths("standard")
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.InstallCRDs(env.Config, paths...); err != nil {
		t.Fatal(err)
	}
	gwNS := createNamespace(t, "gateways")
	testenv.CreateGateway(t, env.Client, gwNS, "public", "192.0.2.80")
	waitCondition(t, ns, "webroute", v1alpha1.ConditionHTTPRouteReady, metav1.ConditionFalse, v1alpha1.ReasonAwaitingGateway)
	testenv.ActAsGatewayController(t, env.Client, ns, "webroute-gw-example-com", gwNS, "public", "NotAllowedByListeners")
	waitCondition(t, ns, "webroute", v1alpha1.ConditionStalled, metav1.ConditionTrue, "NotAllowedByListeners")
	waitSteady(t, ns, "webroute")
	add("degraded-httproute-refused.yaml", "webroute",
		"a Gateway refuses the HTTPRoute (Stalled=True with the Gateway's reason, NotAllowedByListeners)",
		is("Degraded", condMessage(v1alpha1.ConditionStalled)), status.FailedStatus, "")

	// A UDPRoute (spec.ports[].gatewayRoute, the experimental channel) on a
	// listener whose Gateway does not support UDP, as Traefik says of it.
	experimental, err := testenv.GatewayAPICRDPaths("experimental")
	if err != nil {
		t.Fatal(err)
	}
	var routeCRDs []string
	for _, p := range experimental {
		if strings.HasSuffix(p, "_udproutes.yaml") || strings.HasSuffix(p, "_tcproutes.yaml") || strings.HasSuffix(p, "_tlsroutes.yaml") {
			routeCRDs = append(routeCRDs, p)
		}
	}
	if err := testenv.InstallCRDs(env.Config, routeCRDs...); err != nil {
		t.Fatal(err)
	}
	testenv.CreateGatewayWithListeners(t, env.Client, gwNS, "udp", "192.0.2.81",
		testenv.Listener{Name: "dns", Protocol: "UDP", Port: 53, Refusal: "UnsupportedProtocol"})
	waitCondition(t, ns, "dnsroute", v1alpha1.ConditionStalled, metav1.ConditionTrue, "UnsupportedProtocol")
	waitSteady(t, ns, "dnsroute")
	add("degraded-udproute-unsupported.yaml", "dnsroute",
		"a Gateway listener refuses the UDPRoute's protocol (Stalled=True with the listener's reason, UnsupportedProtocol)",
		is("Degraded", condMessage(v1alpha1.ConditionStalled)), status.FailedStatus, "")

	// With the operator stopped, edits are not observed: the status stays
	// at the previous generation, as it does in the moments after every
	// sync until the operator catches up.
	stop()
	edit := func(name string, change func(*v1alpha1.Exposure)) {
		t.Helper()
		exp := getExposure(t, ns, name)
		change(exp)
		if err := env.Client.Update(ctx, exp); err != nil {
			t.Fatalf("editing %s: %v", name, err)
		}
		if exp.Generation < 2 {
			t.Fatalf("editing %s did not bump its generation", name)
		}
	}
	edit("web", func(e *v1alpha1.Exposure) { e.Spec.Workload.Replicas = ptr.To[int32](3) })
	edit("legacy", func(e *v1alpha1.Exposure) { e.Spec.Workload.Image = "nginx:1.28" })
	add("progressing-generation-not-observed.yaml", "web",
		"a Ready Exposure whose spec was just changed: the operator has not observed the new generation",
		is("Progressing", waiting), status.InProgressStatus, "")
	add("progressing-stalled-generation-not-observed.yaml", "legacy",
		"a Stalled Exposure whose spec was just changed (the change may be the fix): not Degraded until the operator has looked",
		is("Progressing", waiting), status.InProgressStatus, "")
	createExposure(t, ns, `
metadata: {name: fresh}
spec:
  selector: {app: fresh}
  ports: [{name: http, port: 80}]
`)
	// The CRD defaults status.observedGeneration to 0, so even before the
	// operator writes anything kstatus sees generation 1 not yet observed.
	add("progressing-no-status.yaml", "fresh",
		"a just-created Exposure the operator has not reconciled yet (status defaulted by the CRD)",
		is("Progressing", waiting), status.InProgressStatus, "")

	states = out
	statesFailed = false
	return states
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
