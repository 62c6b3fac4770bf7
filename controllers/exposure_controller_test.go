package controllers_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

var ctx = context.Background()

func key(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

func hasAddress(exp *v1alpha1.Exposure, want v1alpha1.ExposureAddress) bool {
	for _, a := range exp.Status.Addresses {
		if a.Type == want.Type && (want.Address == "" || a.Address == want.Address) &&
			(want.Hostname == "" || a.Hostname == want.Hostname) && (want.Port == 0 || a.Port == want.Port) &&
			(want.URL == "" || a.URL == want.URL) {
			return true
		}
	}
	return false
}

func addressesString(exp *v1alpha1.Exposure) string {
	var s []string
	for _, a := range exp.Status.Addresses {
		s = append(s, fmt.Sprintf("%s %s%s%s:%d", a.Type, a.Address, a.Hostname, a.URL, a.Port))
	}
	return strings.Join(s, "; ")
}

func TestWorkloadBecomesReadyWithClusterIPAndDNS(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: web}
spec:
  workload:
    image: nginx:1.27
    replicas: 2
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80}]
`)
	exp := waitCondition(t, ns, "web", v1alpha1.ConditionReady, metav1.ConditionFalse, "")
	if c := findCond(exp, v1alpha1.ConditionReconciling); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("a new Exposure must be Reconciling=True, got %s", conditionsString(exp))
	}

	d := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, key(ns, "web"), d); err != nil {
		t.Fatalf("Deployment not created: %v", err)
	}
	if *d.Spec.Replicas != 2 || d.Spec.Template.Spec.Containers[0].Image != "nginx:1.27" {
		t.Errorf("Deployment spec wrong: replicas %d image %s", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Image)
	}
	if ref := metav1.GetControllerOf(d); ref == nil || ref.UID != exp.UID {
		t.Errorf("Deployment has no controller reference to the Exposure: %v", d.OwnerReferences)
	}
	svc := &corev1.Service{}
	if err := env.Client.Get(ctx, key(ns, "web"), svc); err != nil {
		t.Fatalf("Service not created: %v", err)
	}
	if svc.Spec.Selector[names.ExposureLabel] != "web" || svc.Spec.Ports[0].TargetPort.StrVal != "http" {
		t.Errorf("Service selector/targetPort wrong: %v %v", svc.Spec.Selector, svc.Spec.Ports[0].TargetPort)
	}

	actAsDeploymentController(t, ns, "web")
	actAsEndpointSliceController(t, ns, "web", "10.244.1.5", "10.244.2.7")
	exp = waitCondition(t, ns, "web", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	for _, want := range []v1alpha1.ExposureAddress{
		{Type: v1alpha1.AddressClusterIP, Address: svc.Spec.ClusterIP, Port: 80},
		{Type: v1alpha1.AddressDNS, Hostname: "web." + ns + ".svc.cluster.local", Port: 80},
	} {
		if !hasAddress(exp, want) {
			t.Errorf("status lacks %+v; has %s", want, addressesString(exp))
		}
	}
	if c := findCond(exp, v1alpha1.ConditionReconciling); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("a Ready Exposure must be Reconciling=False: %s", conditionsString(exp))
	}
	if exp.Status.ServiceType != string(v1alpha1.ServiceTypeClusterIP) {
		t.Errorf("status.serviceType = %q", exp.Status.ServiceType)
	}
}

func findCond(exp *v1alpha1.Exposure, t string) *metav1.Condition {
	for i := range exp.Status.Conditions {
		if exp.Status.Conditions[i].Type == t {
			return &exp.Status.Conditions[i]
		}
	}
	return nil
}

func TestLoadBalancerWithNodePortsReportsEveryAddress(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createNode(t, "lbtest-node-a", "192.168.3.171")
	createNode(t, "lbtest-node-b", "192.168.3.172")
	createExposure(t, ns, `
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
  service: {type: LoadBalancer}
  loadBalancer: {ip: 192.168.50.20, sourceRanges: [10.0.0.0/8]}
`)
	waitCondition(t, ns, "web", v1alpha1.ConditionAddressesAssigned, metav1.ConditionFalse, "")
	svc := &corev1.Service{}
	if err := env.Client.Get(ctx, key(ns, "web"), svc); err != nil {
		t.Fatal(err)
	}
	if svc.Annotations["metallb.io/loadBalancerIPs"] != "192.168.50.20" || svc.Spec.LoadBalancerIP != "" {
		t.Errorf("fixed IP must go through metallb.io/loadBalancerIPs only: annotations %v, loadBalancerIP %q", svc.Annotations, svc.Spec.LoadBalancerIP)
	}
	if svc.Spec.Ports[0].NodePort != 30080 || !slices.Equal(svc.Spec.LoadBalancerSourceRanges, []string{"10.0.0.0/8"}) {
		t.Errorf("nodePort/sourceRanges not applied: %+v %v", svc.Spec.Ports[0], svc.Spec.LoadBalancerSourceRanges)
	}
	// MetalLB refuses first (no pool holds the address): the Exposure is
	// stalled with MetalLB's words, not progressing, until MetalLB assigns.
	refusal := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, GenerateName: "web."},
		InvolvedObject: corev1.ObjectReference{Kind: "Service", APIVersion: "v1", Namespace: ns, Name: "web", UID: svc.UID},
		Reason:         v1alpha1.ReasonAllocationFailed, Type: corev1.EventTypeWarning,
		Message:        `Failed to allocate IP for "` + ns + `/web": ["192.168.50.20"] is not allowed in config`,
		Source:         corev1.EventSource{Component: "metallb-controller"},
		FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Count: 1,
	}
	if err := env.Client.Create(ctx, refusal); err != nil {
		t.Fatal(err)
	}
	stalled := waitCondition(t, ns, "web", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonAllocationFailed)
	for _, c := range []string{v1alpha1.ConditionStalled, v1alpha1.ConditionReady, v1alpha1.ConditionAddressesAssigned} {
		if got := findCond(stalled, c); got == nil || got.Reason != v1alpha1.ReasonAllocationFailed || !strings.Contains(got.Message, "metallb-controller refused") || !strings.Contains(got.Message, "is not allowed in config") {
			t.Errorf("%s does not carry MetalLB's refusal: %+v", c, got)
		}
	}
	if rc := findCond(stalled, v1alpha1.ConditionReconciling); rc == nil || rc.Status != metav1.ConditionFalse {
		t.Errorf("Reconciling while MetalLB refuses: %+v", rc)
	}
	actAsLoadBalancer(t, ns, "web", "192.168.50.20")
	actAsEndpointSliceController(t, ns, "web", "10.244.1.9")
	exp := waitCondition(t, ns, "web", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	for _, want := range []v1alpha1.ExposureAddress{
		{Type: v1alpha1.AddressLoadBalancer, Address: "192.168.50.20", Port: 80},
		{Type: v1alpha1.AddressNodePort, Address: "192.168.3.171", Port: 30080},
		{Type: v1alpha1.AddressNodePort, Address: "192.168.3.172", Port: 30080},
	} {
		if !hasAddress(exp, want) {
			t.Errorf("status lacks %+v; has %s", want, addressesString(exp))
		}
	}
	if exp.Status.ExternalAddress != "192.168.50.20" {
		t.Errorf("status.externalAddress = %q, want the load-balancer IP", exp.Status.ExternalAddress)
	}
}

func TestExternalBackends(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: mysql}
spec:
  external: {addresses: [10.20.0.5, 10.20.0.6]}
  ports: [{name: mysql, port: 3306}]
`)
	createExposure(t, ns, `
metadata: {name: db}
spec:
  external: {hostname: db.example.com}
  ports: [{name: postgres, port: 5432}]
`)
	exp := waitCondition(t, ns, "mysql", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	slice := &discoveryv1.EndpointSlice{}
	if err := env.Client.Get(ctx, key(ns, names.EndpointSlice("mysql", "ipv4")), slice); err != nil {
		t.Fatalf("EndpointSlice not created: %v", err)
	}
	if slice.Labels[discoveryv1.LabelServiceName] != "mysql" || slice.Labels[discoveryv1.LabelManagedBy] != names.EndpointSliceManagedBy || len(slice.Endpoints) != 2 {
		t.Errorf("EndpointSlice wrong: labels %v, %d endpoints", slice.Labels, len(slice.Endpoints))
	}
	svc := &corev1.Service{}
	if err := env.Client.Get(ctx, key(ns, "mysql"), svc); err != nil || len(svc.Spec.Selector) != 0 {
		t.Errorf("want a selectorless Service: %v %v", err, svc.Spec.Selector)
	}
	if !hasAddress(exp, v1alpha1.ExposureAddress{Type: v1alpha1.AddressExternal, Address: "10.20.0.6", Port: 3306}) {
		t.Errorf("status lacks the external address: %s", addressesString(exp))
	}

	exp = waitCondition(t, ns, "db", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	if err := env.Client.Get(ctx, key(ns, "db"), svc); err != nil || svc.Spec.Type != corev1.ServiceTypeExternalName || svc.Spec.ExternalName != "db.example.com" {
		t.Errorf("want an ExternalName Service to db.example.com: %v %+v", err, svc.Spec)
	}
	if !hasAddress(exp, v1alpha1.ExposureAddress{Type: v1alpha1.AddressExternalName, Hostname: "db.example.com"}) {
		t.Errorf("status lacks the ExternalName address: %s", addressesString(exp))
	}
}

func TestIngressSelfSignedTLSAndRemoval(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: shop}
spec:
  selector: {app: shop}
  ports: [{name: http, port: 80, targetPort: 8080}]
  ingress:
    rules: [{host: shop.example.com, paths: [{path: /}]}]
    tls: {selfSigned: true}
`)
	waitCondition(t, ns, "shop", v1alpha1.ConditionIngressReady, metav1.ConditionFalse, "")
	secret := &corev1.Secret{}
	if err := env.Client.Get(ctx, key(ns, names.SelfSignedSecret("shop")), secret); err != nil {
		t.Fatalf("self-signed Secret not created: %v", err)
	}
	block, _ := pem.Decode(secret.Data[corev1.TLSCertKey])
	if block == nil {
		t.Fatal("Secret holds no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !slices.Contains(cert.DNSNames, "shop.example.com") {
		t.Fatalf("certificate does not cover the host: %v %v", err, cert.DNSNames)
	}
	firstRV := secret.ResourceVersion

	actAsIngressController(t, ns, "shop", "192.168.60.1")
	actAsEndpointSliceController(t, ns, "shop", "10.244.1.2")
	exp := waitCondition(t, ns, "shop", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	if !hasAddress(exp, v1alpha1.ExposureAddress{Type: v1alpha1.AddressIngress, URL: "https://shop.example.com/"}) {
		t.Errorf("status lacks the https Ingress URL: %s", addressesString(exp))
	}
	if err := env.Client.Get(ctx, key(ns, names.SelfSignedSecret("shop")), secret); err != nil || secret.ResourceVersion != firstRV {
		t.Errorf("the certificate must be kept across reconciles (rv %s -> %s, %v)", firstRV, secret.ResourceVersion, err)
	}

	// Removing the ingress section removes the Ingress and its Secret.
	exp = getExposure(t, ns, "shop")
	exp.Spec.Ingress = nil
	if err := env.Client.Update(ctx, exp); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() string {
		if err := env.Client.Get(ctx, key(ns, "shop"), &networkingv1.Ingress{}); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("Ingress still there (%v)", err)
		}
		if err := env.Client.Get(ctx, key(ns, names.SelfSignedSecret("shop")), &corev1.Secret{}); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("self-signed Secret still there (%v)", err)
		}
		return ""
	})
	exp = waitCondition(t, ns, "shop", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	if findCond(exp, v1alpha1.ConditionIngressReady) != nil {
		t.Errorf("IngressReady must be dropped once there is no Ingress: %s", conditionsString(exp))
	}
}

func TestEditUpdatesChildren(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: api}
spec:
  workload:
    image: example/api:1
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80}]
`)
	waitCondition(t, ns, "api", v1alpha1.ConditionServiceReady, metav1.ConditionTrue, "")
	exp := getExposure(t, ns, "api")
	exp.Spec.Workload.Replicas = ptr.To[int32](4)
	exp.Spec.Workload.Image = "example/api:2"
	exp.Spec.Ports[0].Port = 8000
	exp.Spec.Service = &v1alpha1.ServiceOptions{Type: v1alpha1.ServiceTypeNodePort}
	if err := env.Client.Update(ctx, exp); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() string {
		d, svc := &appsv1.Deployment{}, &corev1.Service{}
		if err := env.Client.Get(ctx, key(ns, "api"), d); err != nil {
			return err.Error()
		}
		if err := env.Client.Get(ctx, key(ns, "api"), svc); err != nil {
			return err.Error()
		}
		if *d.Spec.Replicas != 4 || d.Spec.Template.Spec.Containers[0].Image != "example/api:2" {
			return fmt.Sprintf("Deployment not updated: replicas %d image %s", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Image)
		}
		if svc.Spec.Ports[0].Port != 8000 || svc.Spec.Type != corev1.ServiceTypeNodePort {
			return fmt.Sprintf("Service not updated: %+v type %s", svc.Spec.Ports, svc.Spec.Type)
		}
		return ""
	})
}

func TestDriftIsRepairedAndForeignFieldsKept(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: web}
spec:
  workload:
    image: nginx:1.27
    replicas: 2
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80}]
`)
	waitCondition(t, ns, "web", v1alpha1.ConditionServiceReady, metav1.ConditionTrue, "")

	// A field we own, edited by someone else, is reverted.
	d := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, key(ns, "web"), d); err != nil {
		t.Fatal(err)
	}
	d.Spec.Replicas = ptr.To[int32](7)
	d.Annotations = map[string]string{"team.example.com/owner": "payments"}
	if err := env.Client.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() string {
		if err := env.Client.Get(ctx, key(ns, "web"), d); err != nil {
			return err.Error()
		}
		if *d.Spec.Replicas != 2 {
			return fmt.Sprintf("replicas still %d", *d.Spec.Replicas)
		}
		return ""
	})
	if d.Annotations["team.example.com/owner"] != "payments" {
		t.Errorf("an annotation someone else added must be kept: %v", d.Annotations)
	}

	// A deleted child comes back.
	svc := &corev1.Service{}
	if err := env.Client.Get(ctx, key(ns, "web"), svc); err != nil {
		t.Fatal(err)
	}
	oldUID := svc.UID
	if err := env.Client.Delete(ctx, svc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() string {
		if err := env.Client.Get(ctx, key(ns, "web"), svc); err != nil {
			return err.Error()
		}
		if svc.UID == oldUID {
			return "Service not recreated yet"
		}
		return ""
	})
}

func TestUnownedObjectIsNeverTouched(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	theirs := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web", Labels: map[string]string{"owner": "someone-else"}},
		Spec: corev1.ServiceSpec{
			Ports:    []corev1.ServicePort{{Name: "db", Port: 5432}},
			Selector: map[string]string{"app": "legacy"},
		},
	}
	if err := env.Client.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	before := theirs.DeepCopy()

	createExposure(t, ns, `
metadata: {name: web}
spec:
  workload:
    image: nginx:1.27
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80}]
`)
	exp := waitCondition(t, ns, "web", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonConflict)
	if c := findCond(exp, v1alpha1.ConditionStalled); !strings.Contains(c.Message, "Service "+ns+"/web") {
		t.Errorf("the Stalled message must name the object: %q", c.Message)
	}
	if c := findCond(exp, v1alpha1.ConditionServiceReady); c == nil || c.Reason != v1alpha1.ReasonConflict {
		t.Errorf("ServiceReady must say the Service is someone else's: %s", conditionsString(exp))
	}
	if c := findCond(exp, v1alpha1.ConditionReady); c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonConflict {
		t.Errorf("Ready must be False with reason Conflict: %s", conditionsString(exp))
	}
	eventually(t, 5*time.Second, func() string {
		for _, e := range eventsFor(t, ns, "web") {
			if e.Type == corev1.EventTypeWarning && e.Reason == v1alpha1.ReasonConflict {
				return ""
			}
		}
		return "no Warning event with reason Conflict"
	})
	// Our other children still exist; theirs is byte-for-byte unchanged.
	if err := env.Client.Get(ctx, key(ns, "web"), &appsv1.Deployment{}); err != nil {
		t.Errorf("the Deployment should still be created: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	after := &corev1.Service{}
	if err := env.Client.Get(ctx, key(ns, "web"), after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion || len(after.OwnerReferences) != 0 || after.Spec.Selector["app"] != "legacy" {
		t.Errorf("someone else's Service was modified: rv %s -> %s, owners %v, selector %v",
			before.ResourceVersion, after.ResourceVersion, after.OwnerReferences, after.Spec.Selector)
	}
}

func TestRuntimeFaultsStall(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: nosecret}
spec:
  selector: {app: x}
  ports: [{name: http, port: 80}]
  ingress:
    rules: [{host: x.example.com, paths: [{path: /}]}]
    tls: {secretName: missing-tls}
`)
	exp := waitCondition(t, ns, "nosecret", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound)
	if c := findCond(exp, v1alpha1.ConditionStalled); !strings.Contains(c.Message, "spec.ingress.tls.secretName") {
		t.Errorf("message must name the field: %q", c.Message)
	}
	// Creating the Secret un-stalls it without any edit to the Exposure.
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "missing-tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: []byte("x"), corev1.TLSPrivateKeyKey: []byte("y")}}
	if err := env.Client.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns, "nosecret", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")

	createExposure(t, ns, `
metadata: {name: badpatch}
spec:
  selector: {app: x}
  ports: [{name: http, port: 80}]
  patches:
    - target: {kind: Service}
      patch: |
        - op: replace
          path: /metadata/name
          value: hijacked
`)
	// What only the API server can refuse: a cluster IP outside the
	// service range.
	createExposure(t, ns, `
metadata: {name: badip}
spec:
  selector: {app: x}
  ports: [{name: http, port: 80}]
  service: {clusterIP: 172.31.255.1}
`)
	exp = waitCondition(t, ns, "badip", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonApplyFailed)
	if c := findCond(exp, v1alpha1.ConditionStalled); !strings.Contains(c.Message, "spec.clusterIP") {
		t.Errorf("the API server's reason must reach the condition: %q", c.Message)
	}

	exp = waitCondition(t, ns, "badpatch", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonInvalidPatch)
	if c := findCond(exp, v1alpha1.ConditionStalled); !strings.Contains(c.Message, "spec.patches[0]") {
		t.Errorf("message must name the patch: %q", c.Message)
	}
	if err := env.Client.Get(ctx, key(ns, "badpatch"), &corev1.Service{}); !apierrors.IsNotFound(err) {
		t.Errorf("nothing may be applied from a spec whose patch fails: %v", err)
	}
}

// TestSteadyStateMakesNoWrites is the zero-cost promise: once converged, a
// reconcile of an unchanged Exposure, and a whole restart of the manager,
// issue no write request.
func TestSteadyStateMakesNoWrites(t *testing.T) {
	m := startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: web}
spec:
  workload:
    image: nginx:1.27
    replicas: 2
    ports: [{name: http, containerPort: 8080}]
    env: [{name: MODE, value: prod}]
    resources: {requests: {cpu: 100m, memory: 64Mi}}
    readinessProbe: {httpGet: {path: /ready, port: http}}
  ports: [{name: http, port: 80}]
  service: {type: NodePort}
  ingress:
    rules: [{host: web.example.com, paths: [{path: /}]}]
    tls: {selfSigned: true}
`)
	waitCondition(t, ns, "web", v1alpha1.ConditionServiceReady, metav1.ConditionTrue, "")
	actAsDeploymentController(t, ns, "web")
	actAsEndpointSliceController(t, ns, "web", "10.244.1.5")
	actAsIngressController(t, ns, "web", "192.168.60.2")
	waitCondition(t, ns, "web", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	time.Sleep(time.Second) // let the reconciles the test's own writes caused finish

	// Trigger a reconcile without changing the spec: a label edit.
	n := m.writes.count()
	exp := getExposure(t, ns, "web")
	exp.Labels = map[string]string{"touched": "1"}
	if err := env.Client.Update(ctx, exp); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if w := m.writes.since(n, "/namespaces/"+ns+"/"); len(w) != 0 {
		t.Errorf("a reconcile that changes nothing wrote %d times: %v", len(w), w)
	}

	// Restart: a new manager, with no memory, reconciles everything again.
	m.stop()
	m2 := startManager(t)
	time.Sleep(3 * time.Second)
	if w := m2.writes.since(0, "/namespaces/"+ns+"/"); len(w) != 0 {
		t.Errorf("a restarted manager wrote %d times to a steady namespace: %v", len(w), w)
	}
}

// TestCreateWritesEachChildOnceAndTheStatusOnce holds the create path to
// its minimum: one POST per child (the create is also the check that the
// name is free: no lookup, no apply after it) and one status write. With
// nothing else changing in the cluster (no kube-controller-manager here),
// the reconciles that the children's events bring write nothing more.
func TestCreateWritesEachChildOnceAndTheStatusOnce(t *testing.T) {
	m := startManager(t)
	ns := newNamespace(t)
	n := m.writes.count()
	createExposure(t, ns, `
metadata: {name: web}
spec:
  workload:
    image: nginx:1.27
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80}]
  ingress:
    rules: [{host: web.example.com, paths: [{path: /}]}]
`)
	eventually(t, 10*time.Second, func() string {
		if exp := getExposure(t, ns, "web"); exp.Status.ObservedGeneration != exp.Generation {
			return "status not written yet: " + conditionsString(exp)
		}
		return ""
	})
	time.Sleep(2 * time.Second) // let every event of the create play out

	var posts, status, other []string
	for _, w := range m.writes.since(n, "/namespaces/"+ns+"/") {
		switch {
		case strings.Contains(w, "/events"):
			// the operator's Events, not objects
		case strings.HasSuffix(w, "/exposures/web/status"):
			status = append(status, w)
		case strings.HasPrefix(w, http.MethodPost+" "):
			posts = append(posts, w)
		default:
			other = append(other, w)
		}
	}
	var children int
	for _, kind := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{}, &networkingv1.IngressList{}, &networkingv1.NetworkPolicyList{}} {
		if err := env.Client.List(ctx, kind, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		children += meta.LenList(kind)
	}
	if children < 3 || len(posts) != children {
		t.Errorf("%d children should be %d POSTs, got %v", children, children, posts)
	}
	if len(status) != 1 {
		t.Errorf("the create should write the status once, got %d: %v", len(status), status)
	}
	if len(other) != 0 {
		t.Errorf("the create should write nothing else, got %v", other)
	}
}

// Exposures that share one TLS Secret read it from the API server once in
// a burst of reconciles, not once per reconcile of each (issue 15): the
// check of a present reference is remembered for referenceSeenFor.
func TestSharedTLSSecretIsReadOnceInABurst(t *testing.T) {
	m := startManager(t)
	ns := newNamespace(t)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wildcard"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: []byte("x"), corev1.TLSPrivateKeyKey: []byte("y")}}
	if err := env.Client.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	// The first alone, so that the reads the others might make at the
	// same moment (one per worker, before any has seen the Secret) do not
	// hide whether the memo works.
	const n = 5
	for i := range n {
		if i == 1 {
			waitCondition(t, ns, "web0", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")
		}
		createExposure(t, ns, fmt.Sprintf(`
metadata: {name: web%d}
spec:
  selector: {app: x}
  ports: [{name: http, port: 80}]
  ingress:
    rules: [{host: web%d.example.com, paths: [{path: /}]}]
    tls: {secretName: wildcard}
`, i, i))
	}
	for i := range n {
		waitCondition(t, ns, fmt.Sprintf("web%d", i), v1alpha1.ConditionStalled, metav1.ConditionFalse, "")
	}
	// Each Exposure was reconciled at least twice (children written, then
	// the status from their events): 2n checks, and one read.
	if got := m.writes.readsOf("/api/v1/namespaces/" + ns + "/secrets/wildcard"); got != 1 {
		t.Errorf("the shared Secret was read %d times for %d Exposures, want 1", got, n)
	}
}
