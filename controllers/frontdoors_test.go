package controllers_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// --- stand-ins for a Gateway API implementation and an OpenShift router
// (internal/testenv): they write the status fields those write.

func createGateway(t *testing.T, ns, name, addr string) {
	t.Helper()
	testenv.CreateGateway(t, env.Client, ns, name, addr)
}

func actAsGatewayController(t *testing.T, ns, route, gwNS, gwName, acceptedReason string) {
	t.Helper()
	testenv.ActAsGatewayController(t, env.Client, ns, route, gwNS, gwName, acceptedReason)
}

func actAsRouter(t *testing.T, ns, route, host, admitted, reason string) {
	t.Helper()
	testenv.ActAsRouter(t, env.Client, ns, route, host, admitted, reason)
}

func unstructuredOf(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func frontDoorURLs(exp *v1alpha1.Exposure, t v1alpha1.AddressType) []string {
	var out []string
	for _, a := range exp.Status.Addresses {
		if a.Type == t {
			out = append(out, a.URL)
		}
	}
	return out
}

func exists(obj client.Object) bool {
	err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	return err == nil || !apierrors.IsNotFound(err)
}

// TestGatewayAPIFrontDoor walks the HTTPRoute front door through its life,
// in order: the Gateway API absent, then installed without a restart; the
// route waiting for and then refused by its Gateway, with the Gateway's
// reason; accepted, with the URL from the Gateway's address and listener;
// and the move of another Exposure from Ingress to HTTPRoute, whose
// Ingress stays until the HTTPRoute is accepted.
func TestGatewayAPIFrontDoor(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	gwNS := newNamespace(t)
	createExposure(t, ns, fmt.Sprintf(`
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
  ingress:
    frontDoors: [HTTPRoute]
    gateway: {parentRefs: [{name: public, namespace: %s}]}
    rules: [{host: shop.example.com, paths: [{path: /}]}]
`, gwNS))

	// 1. No Gateway API: Stalled naming it, the rest reconciled.
	waitCondition(t, ns, "web", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonGatewayAPINotInstalled)
	if err := env.Client.Get(ctx, key(ns, "web"), &corev1.Service{}); err != nil {
		t.Errorf("the Service must be created without the Gateway API: %v", err)
	}

	// 2. Installed later: converges without a restart.
	installGatewayAPI(t)
	exp := waitCondition(t, ns, "web", v1alpha1.ConditionHTTPRouteReady, metav1.ConditionFalse, v1alpha1.ReasonAwaitingGateway)
	if c := condition(exp, v1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("still stalled once the API is installed: %s", conditionsString(exp))
	}
	route := "web-shop-example-com"
	hr := unstructuredOf("gateway.networking.k8s.io/v1", "HTTPRoute", ns, route)
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hr), hr); err != nil {
		t.Fatalf("HTTPRoute %s not created: %v", route, err)
	}
	if refs, _, _ := unstructured.NestedSlice(hr.Object, "spec", "parentRefs"); len(refs) != 1 || refs[0].(map[string]any)["namespace"] != gwNS {
		t.Errorf("parentRefs = %v", refs)
	}

	// 3. The Gateway refuses: its own reason reaches the status, no URL.
	createGateway(t, gwNS, "public", "127.0.0.240")
	actAsGatewayController(t, ns, route, gwNS, "public", "NotAllowedByListeners")
	exp = waitCondition(t, ns, "web", v1alpha1.ConditionHTTPRouteReady, metav1.ConditionFalse, "NotAllowedByListeners")
	if c := condition(exp, v1alpha1.ConditionHTTPRouteReady); !strings.Contains(c.Message, gwNS+"/public") {
		t.Errorf("the refusal does not name the Gateway: %q", c.Message)
	}
	if u := frontDoorURLs(exp, v1alpha1.AddressHTTPRoute); len(u) > 0 {
		t.Errorf("URLs before the route is accepted: %v", u)
	}
	// A refusal does not go away by itself: Stalled, with the cause.
	waitCondition(t, ns, "web", v1alpha1.ConditionStalled, metav1.ConditionTrue, "NotAllowedByListeners")

	// 4. Accepted: Ready, one URL from the listener's port.
	actAsGatewayController(t, ns, route, gwNS, "public", "Accepted")
	exp = waitCondition(t, ns, "web", v1alpha1.ConditionHTTPRouteReady, metav1.ConditionTrue, v1alpha1.ReasonAccepted)
	if u := frontDoorURLs(exp, v1alpha1.AddressHTTPRoute); !slices.Equal(u, []string{"http://shop.example.com:8000/"}) {
		t.Errorf("HTTPRoute URLs = %v", u)
	}

	// A gRPC backend gets a GRPCRoute instead, watched the same way.
	createExposure(t, ns, fmt.Sprintf(`
metadata: {name: rpc}
spec:
  selector: {app: rpc}
  ports: [{name: grpc, port: 50051}]
  ingress:
    frontDoors: [HTTPRoute]
    backendProtocol: GRPC
    gateway: {parentRefs: [{name: public, namespace: %s}]}
    rules: [{host: rpc.example.com, paths: [{path: /}]}]
`, gwNS))
	exp = waitCondition(t, ns, "rpc", v1alpha1.ConditionHTTPRouteReady, metav1.ConditionFalse, v1alpha1.ReasonAwaitingGateway)
	if c := condition(exp, v1alpha1.ConditionHTTPRouteReady); !strings.Contains(c.Message, "GRPCRoute rpc-rpc-example-com") {
		t.Errorf("HTTPRouteReady does not name the GRPCRoute: %q", c.Message)
	}
	gr := unstructuredOf("gateway.networking.k8s.io/v1", "GRPCRoute", ns, "rpc-rpc-example-com")
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(gr), gr); err != nil {
		t.Fatalf("GRPCRoute not created: %v", err)
	}
	if u := unstructuredOf("gateway.networking.k8s.io/v1", "HTTPRoute", ns, "rpc-rpc-example-com"); !apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(u), u)) {
		t.Errorf("a gRPC backend must get no HTTPRoute")
	}

	// 5. The move: an Exposure served by an Ingress switches to HTTPRoute.
	createExposure(t, ns, fmt.Sprintf(`
metadata: {name: shop}
spec:
  selector: {app: shop}
  ports: [{name: http, port: 80}]
  ingress:
    gateway: {parentRefs: [{name: public, namespace: %s}]}
    rules: [{host: cart.example.com, paths: [{path: /}]}]
`, gwNS))
	waitCondition(t, ns, "shop", v1alpha1.ConditionIngressReady, metav1.ConditionFalse, "")
	actAsIngressController(t, ns, "shop", "127.0.0.241")
	waitCondition(t, ns, "shop", v1alpha1.ConditionIngressReady, metav1.ConditionTrue, "")

	setFrontDoors(t, ns, "shop", "HTTPRoute")
	waitCondition(t, ns, "shop", v1alpha1.ConditionHTTPRouteReady, metav1.ConditionFalse, v1alpha1.ReasonAwaitingGateway)
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	// Held back for as long as the HTTPRoute is not accepted.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if !exists(ing) {
			t.Fatal("the Ingress was pruned before the HTTPRoute was accepted: requests would find no front door")
		}
	}
	actAsGatewayController(t, ns, "shop-cart-example-com", gwNS, "public", "Accepted")
	eventually(t, 10*time.Second, func() string {
		if exists(ing) {
			return "the Ingress is still there after the HTTPRoute was accepted"
		}
		return ""
	})
}

// setFrontDoors changes spec.ingress.frontDoors, the one field a move
// between front doors changes.
func setFrontDoors(t *testing.T, ns, name string, doors ...v1alpha1.FrontDoor) {
	t.Helper()
	eventually(t, 10*time.Second, func() string {
		exp := getExposure(t, ns, name)
		exp.Spec.Ingress.FrontDoors = doors
		if err := env.Client.Update(ctx, exp); err != nil {
			return err.Error()
		}
		return ""
	})
}

func condition(exp *v1alpha1.Exposure, t string) *metav1.Condition {
	for i := range exp.Status.Conditions {
		if exp.Status.Conditions[i].Type == t {
			return &exp.Status.Conditions[i]
		}
	}
	return nil
}

// TestOpenShiftRouteFrontDoor: the Route API absent, then installed (the
// upstream CRD, from github.com/openshift/api); a Route per host and path
// with edge TLS from the operator's self-signed Secret; a router refusing
// one (HostAlreadyClaimed reaches RouteReady), then admitting both.
func TestOpenShiftRouteFrontDoor(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}, {name: admin, port: 9090}]
  ingress:
    frontDoors: [Route]
    rules: [{host: shop.example.com, paths: [{path: /}, {path: /admin, port: admin}]}]
    tls: {selfSigned: true}
    sslRedirect: true
`)
	waitCondition(t, ns, "web", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonRouteAPINotInstalled)

	p, err := testenv.RouteCRDPath()
	if err != nil {
		t.Fatalf("Route CRD: %v", err)
	}
	if err := testenv.InstallCRDs(env.Config, p); err != nil {
		t.Fatalf("installing the Route CRD: %v", err)
	}
	waitCondition(t, ns, "web", v1alpha1.ConditionRouteReady, metav1.ConditionFalse, v1alpha1.ReasonAwaitingRouter)

	root, admin := "web-shop-example-com", ""
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion("route.openshift.io/v1")
	list.SetKind("RouteList")
	if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 2 {
		t.Fatalf("want one Route per path, got %d", len(list.Items))
	}
	for _, r := range list.Items {
		if path, _, _ := unstructured.NestedString(r.Object, "spec", "path"); path == "/admin" {
			admin = r.GetName()
			if tp, _, _ := unstructured.NestedString(r.Object, "spec", "port", "targetPort"); tp != "admin" {
				t.Errorf("Route %s targetPort = %q", admin, tp)
			}
		}
		termination, _, _ := unstructured.NestedString(r.Object, "spec", "tls", "termination")
		insecure, _, _ := unstructured.NestedString(r.Object, "spec", "tls", "insecureEdgeTerminationPolicy")
		secret, _, _ := unstructured.NestedString(r.Object, "spec", "tls", "externalCertificate", "name")
		if termination != "edge" || insecure != "Redirect" || secret != "web-tls" {
			t.Errorf("Route %s tls = %v, certificate %q", r.GetName(), r.Object["spec"], secret)
		}
	}
	if admin == "" {
		t.Fatal("no Route for /admin")
	}

	actAsRouter(t, ns, root, "shop.example.com", "True", "")
	actAsRouter(t, ns, admin, "shop.example.com", "False", "HostAlreadyClaimed")
	exp := waitCondition(t, ns, "web", v1alpha1.ConditionRouteReady, metav1.ConditionFalse, "HostAlreadyClaimed")
	if c := condition(exp, v1alpha1.ConditionRouteReady); !strings.Contains(c.Message, admin) {
		t.Errorf("the refusal does not name the Route: %q", c.Message)
	}
	waitCondition(t, ns, "web", v1alpha1.ConditionStalled, metav1.ConditionTrue, "HostAlreadyClaimed")

	actAsRouter(t, ns, admin, "shop.example.com", "True", "")
	exp = waitCondition(t, ns, "web", v1alpha1.ConditionRouteReady, metav1.ConditionTrue, v1alpha1.ReasonAdmitted)
	if u := frontDoorURLs(exp, v1alpha1.AddressRoute); !slices.Equal(u, []string{"https://shop.example.com/", "https://shop.example.com/admin"}) {
		t.Errorf("Route URLs = %v", u)
	}
}

// TestRBACNeverWritesGateways: the Gateways and GatewayClasses are the
// admin's. The generated role may read Gateways (their addresses) and
// nothing else of them, and writes routes only.
func TestRBACNeverWritesGateways(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(b, role); err != nil {
		t.Fatal(err)
	}
	writes := map[string]bool{"create": true, "update": true, "patch": true, "delete": true, "deletecollection": true}
	routesWritten := map[string]bool{}
	for _, r := range role.Rules {
		if !slices.Contains(r.APIGroups, "gateway.networking.k8s.io") && !slices.Contains(r.APIGroups, "route.openshift.io") {
			continue
		}
		for _, res := range r.Resources {
			for _, v := range r.Verbs {
				if !writes[v] {
					continue
				}
				switch res {
				case "httproutes", "grpcroutes", "tcproutes", "tlsroutes", "udproutes", "backendtlspolicies", "routes", "routes/custom-host":
					routesWritten[res] = true
				default:
					t.Errorf("the role may %s %s: only routes are the operator's", v, res)
				}
			}
		}
	}
	if !routesWritten["httproutes"] || !routesWritten["routes"] || !routesWritten["tcproutes"] || !routesWritten["tlsroutes"] || !routesWritten["udproutes"] {
		t.Errorf("the role must write httproutes and routes, writes %v", routesWritten)
	}
}
