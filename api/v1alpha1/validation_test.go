package v1alpha1_test

// These tests hold the Exposure CRD's admission rules (OpenAPI schema and CEL)
// against a real kube-apiserver: every sample is accepted, every mistake a
// user can make is refused with a message that names the field, and the
// awkward but valid corners are let through.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// newNamespace creates a fresh namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "validation-"}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}

// decodeDocs reads every YAML document of a (multi-document) file.
func decodeDocs(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		objs = append(objs, u)
	}
}

func isExposure(u *unstructured.Unstructured) bool {
	return u.GetAPIVersion() == "exposure.dev/v1alpha1" && u.GetKind() == "Exposure"
}

// exposure builds an Exposure from the YAML of its spec.
func exposure(t *testing.T, name, spec string) *unstructured.Unstructured {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: exposure.dev/v1alpha1\nkind: Exposure\nmetadata:\n  name: %q\nspec:\n", name)
	for _, l := range strings.Split(strings.Trim(spec, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	objs, err := decodeDocs([]byte(b.String()))
	if err != nil || len(objs) != 1 {
		t.Fatalf("bad test YAML (%v):\n%s", err, b.String())
	}
	return objs[0]
}

// create submits an object with strict field validation, so a misspelt
// field is an error rather than silently pruned.
func create(ctx context.Context, ns string, u *unstructured.Unstructured) error {
	u.SetNamespace(ns)
	return env.Client.Create(ctx, u, client.FieldValidation(metav1.FieldValidationStrict))
}

// causes lists what the apiserver said was wrong, one "field: message" each.
func causes(err error) []string {
	var out []string
	for _, c := range statusCauses(err) {
		out = append(out, c.Field+": "+c.Message)
	}
	return out
}

// statusCauses are the refusal's StatusDetails.Causes, without the note
// that CEL waits for the schema errors; an error without causes is one
// cause with no field.
func statusCauses(err error) []metav1.StatusCause {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil || len(status.Status().Details.Causes) == 0 {
		return []metav1.StatusCause{{Message: err.Error()}}
	}
	var out []metav1.StatusCause
	for _, c := range status.Status().Details.Causes {
		if strings.Contains(c.Message, "some validation rules were not checked") {
			continue // the note that CEL waits for the schema errors above
		}
		out = append(out, c)
	}
	return out
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestSamplesAreAccepted creates every Exposure in samples/ and checks the
// apiserver stores the spec exactly as written (no schema defaults, nothing
// pruned), which is what keeps GitOps tools from reporting drift.
func TestSamplesAreAccepted(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "samples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	// Fixed addresses and ports every sample holds, so that the whole
	// folder fits in one namespace of one cluster.
	taken := map[string]string{}
	claim := func(file, what string) {
		if other, ok := taken[what]; ok && other != file {
			t.Errorf("%s and %s both fix %s: applied together, one of them is refused", other, file, what)
		}
		taken[what] = file
	}
	for _, e := range entries {
		if e.IsDir() || (!strings.HasSuffix(e.Name(), ".yaml") && !strings.HasSuffix(e.Name(), ".yml")) {
			continue // subdirectories (GitOps examples) are tested elsewhere
		}
		t.Run(e.Name(), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte("#")) {
				t.Errorf("%s: a sample starts with a comment saying what it shows", e.Name())
			}
			objs, err := decodeDocs(data)
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			ns := newNamespace(t)
			for _, u := range objs {
				if !isExposure(u) {
					continue
				}
				seen++
				if u.GetNamespace() != "" {
					t.Errorf("%s: samples carry no namespace", u.GetName())
				}
				if want := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())); u.GetName() != want {
					t.Errorf("%s: the Exposure is named %q; a sample is named after its file (%q), so that all of them fit in one namespace", e.Name(), u.GetName(), want)
				}
				if ip, ok, _ := unstructured.NestedString(u.Object, "spec", "service", "clusterIP"); ok {
					claim(e.Name(), "clusterIP "+ip)
				}
				if ip, ok, _ := unstructured.NestedString(u.Object, "spec", "loadBalancer", "ip"); ok {
					claim(e.Name(), "loadBalancer.ip "+ip)
				}
				ports, _, _ := unstructured.NestedSlice(u.Object, "spec", "ports")
				for _, p := range ports {
					if np, ok := p.(map[string]any)["nodePort"]; ok {
						proto, _ := p.(map[string]any)["protocol"].(string)
						if proto == "" {
							proto = "TCP"
						}
						claim(e.Name(), fmt.Sprintf("nodePort %v/%s", np, proto))
					}
				}
				want, _, _ := unstructured.NestedMap(u.Object, "spec")
				if err := create(ctx(t), ns, u); err != nil {
					t.Fatalf("%s refused:\n  %s", u.GetName(), strings.Join(causes(err), "\n  "))
				}
				got := &unstructured.Unstructured{}
				got.SetGroupVersionKind(u.GroupVersionKind())
				if err := env.Client.Get(ctx(t), client.ObjectKeyFromObject(u), got); err != nil {
					t.Fatal(err)
				}
				if spec, _, _ := unstructured.NestedMap(got.Object, "spec"); !reflect.DeepEqual(spec, want) {
					w, _ := json.Marshal(want)
					g, _ := json.Marshal(spec)
					t.Errorf("%s: the stored spec differs from the sample (defaulted or pruned):\n sample: %s\n stored: %s", u.GetName(), w, g)
				}
			}
		})
	}
	if seen < 20 {
		t.Errorf("found %d Exposures in samples/, want one per scenario (at least 20)", seen)
	}
}

// Pieces most cases share, so that each case shows only what it gets wrong.
const (
	nginx    = "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}]}\n"
	http80   = "ports: [{name: http, port: 80, targetPort: http}]\n"
	web      = nginx + http80
	lb       = web + "service: {type: LoadBalancer}\n"
	hostRule = "rules: [{host: shop.example.com, paths: [{path: /}]}]"
)

// repeat joins n generated items into a YAML flow sequence.
func repeat(n int, item func(i int) string) string {
	items := make([]string, n)
	for i := range items {
		items[i] = item(i)
	}
	return "[" + strings.Join(items, ", ") + "]"
}

type invalidCase struct {
	name string // what is wrong
	spec string // the Exposure's spec in YAML
	// want must appear in every reason the apiserver gives (its message).
	// Requiring it, and field, of every reason also proves that a case is
	// refused for what it is meant to show and nothing else.
	want string
	// field is the error's field (StatusDetails.Causes[].Field) of every
	// reason: the offending field itself, with the list index where the
	// rule sits on the item, so that kubectl and Argo CD point at it.
	field   string
	objName string // metadata.name; "bad" when empty
}

func invalidCases() []invalidCase {
	return []invalidCase{
		// The backend.
		{name: "no backend", field: "spec", want: "exactly one of workload, selector or external", spec: http80},
		{name: "workload and selector", field: "spec", want: "exactly one of workload, selector or external", spec: web + "selector: {app: web}"},
		{name: "selector and external", field: "spec", want: "exactly one of workload, selector or external", spec: http80 + "selector: {app: web}\nexternal: {addresses: [10.20.0.5]}"},
		{name: "no ports", field: "spec.ports", want: "at least one port is required", spec: nginx},
		{name: "empty ports", field: "spec.ports", want: "", spec: nginx + "ports: []"},
		{name: "empty selector", field: "spec.selector", want: "", spec: http80 + "selector: {}"},
		{name: "too many selector labels", field: "spec.selector", want: "", spec: http80 + "selector: {" + strings.TrimSuffix(strings.TrimPrefix(repeat(17, func(i int) string { return fmt.Sprintf("l%d: v", i) }), "["), "]") + "}"},

		// Service ports.
		{name: "duplicate port names", field: "spec.ports[1]", want: "Duplicate value", spec: nginx + "ports: [{name: http, port: 80, targetPort: http}, {name: http, port: 81, targetPort: http}]"},
		{name: "duplicate port and protocol", field: "spec.ports", want: "each port and protocol pair must be unique", spec: nginx + "ports: [{name: http, port: 80, targetPort: http}, {name: alt, port: 80, targetPort: http}]"},
		{name: "duplicate port, protocol TCP explicit on one", field: "spec.ports", want: "each port and protocol pair must be unique", spec: nginx + "ports: [{name: http, port: 80, targetPort: http}, {name: alt, port: 80, protocol: TCP, targetPort: http}]"},
		{name: "duplicate nodePort", field: "spec.ports", want: "each nodePort and protocol pair must be unique", spec: nginx + "ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}, {name: alt, port: 81, targetPort: http, nodePort: 30080}]\nservice: {type: NodePort}"},
		{name: "nodePort with ClusterIP (type left out)", field: "spec.ports", want: "only allowed when spec.service.type is NodePort or LoadBalancer", spec: nginx + "ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]"},
		{name: "nodePort with Headless", field: "spec.ports", want: "only allowed when spec.service.type is NodePort or LoadBalancer", spec: nginx + "ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]\nservice: {type: Headless}"},
		{name: "nodePort 0", field: "spec.ports[0].nodePort", want: "", spec: nginx + "ports: [{name: http, port: 80, targetPort: http, nodePort: 0}]\nservice: {type: NodePort}"},
		{name: "nodePort 65536", field: "spec.ports[0].nodePort", want: "", spec: nginx + "ports: [{name: http, port: 80, targetPort: http, nodePort: 65536}]\nservice: {type: NodePort}"},
		{name: "port 0", field: "spec.ports[0].port", want: "", spec: nginx + "ports: [{name: http, port: 0, targetPort: http}]"},
		{name: "port 65536", field: "spec.ports[0].port", want: "", spec: nginx + "ports: [{name: http, port: 65536, targetPort: http}]"},
		{name: "port name without a letter", field: "spec.ports[0].name", want: "", spec: nginx + "ports: [{name: \"8080\", port: 80, targetPort: http}]"},
		{name: "port name with double dash", field: "spec.ports[0].name", want: "", spec: nginx + "ports: [{name: http--alt, port: 80, targetPort: http}]"},
		{name: "port name upper-case", field: "spec.ports[0].name", want: "", spec: nginx + "ports: [{name: HTTP, port: 80, targetPort: http}]"},
		{name: "port name longer than 15", field: "spec.ports[0].name", want: "", spec: nginx + "ports: [{name: http-0123456789a, port: 80, targetPort: http}]"},
		{name: "protocol ICMP", field: "spec.ports[0].protocol", want: "", spec: nginx + "ports: [{name: http, port: 80, targetPort: http, protocol: ICMP}]"},
		{name: "targetPort 0", field: "spec.ports[0].targetPort", want: "", spec: nginx + "ports: [{name: http, port: 80, targetPort: 0}]"},
		{name: "targetPort 70000", field: "spec.ports[0].targetPort", want: "", spec: nginx + "ports: [{name: http, port: 80, targetPort: 70000}]"},
		{name: "targetPort name upper-case", field: "spec.ports[0].targetPort", want: "", spec: "selector: {app: web}\nports: [{name: http, port: 80, targetPort: HTTP}]"},
		{name: "targetPort number as a string", field: "spec.ports[0].targetPort", want: "", spec: "selector: {app: web}\nports: [{name: http, port: 80, targetPort: \"8080\"}]"},
		{name: "targetPort name longer than 15", field: "spec.ports[0].targetPort", want: "", spec: "selector: {app: web}\nports: [{name: http, port: 80, targetPort: http-0123456789a}]"},
		{name: "targetPort name not in workload ports", field: "spec.ports", want: "a named targetPort must match", spec: nginx + "ports: [{name: http, port: 80, targetPort: web}]"},
		{name: "targetPort name, workload without ports", field: "spec.ports", want: "a named targetPort must match", spec: "workload: {image: nginx:1.27}\nports: [{name: http, port: 80, targetPort: http}]"},
		{name: "appProtocol with a space", field: "spec.ports[0].appProtocol", want: "", spec: nginx + "ports: [{name: http, port: 80, targetPort: http, appProtocol: \"http 2\"}]"},
		{name: "too many ports", field: "spec.ports", want: "", spec: "selector: {app: web}\nports: " + repeat(33, func(i int) string { return fmt.Sprintf("{name: p%d, port: %d}", i, 1000+i) })},

		// The Service.
		{name: "service type ExternalName", field: "spec.service.type", want: "", spec: web + "service: {type: ExternalName}"},
		{name: "clusterIP with Headless", field: "spec.service.clusterIP", want: "not allowed with type Headless", spec: web + "service: {type: Headless, clusterIP: 10.0.0.50}"},
		{name: "clusterIP not an address", field: "spec.service.clusterIP", want: "", spec: web + "service: {clusterIP: 10.0.0.256}"},
		{name: "clusterIP None", field: "spec.service.clusterIP", want: "", spec: web + "service: {clusterIP: None}"},
		{name: "clusterIP unspecified", field: "spec.service.clusterIP", want: "", spec: web + "service: {clusterIP: 0.0.0.0}"},
		{name: "externalTrafficPolicy with ClusterIP", field: "spec.service.externalTrafficPolicy", want: "", spec: web + "service: {type: ClusterIP, externalTrafficPolicy: Local}"},
		{name: "externalTrafficPolicy value", field: "spec.service.externalTrafficPolicy", want: "", spec: web + "service: {type: NodePort, externalTrafficPolicy: Nearest}"},
		{name: "sessionAffinityTimeoutSeconds without ClientIP", field: "spec.service.sessionAffinityTimeoutSeconds", want: "", spec: web + "service: {sessionAffinityTimeoutSeconds: 60}"},
		{name: "sessionAffinityTimeoutSeconds too long", field: "spec.service.sessionAffinityTimeoutSeconds", want: "", spec: web + "service: {sessionAffinity: ClientIP, sessionAffinityTimeoutSeconds: 86401}"},
		{name: "ClientIP affinity with Headless", field: "spec.service.sessionAffinity", want: "", spec: web + "service: {type: Headless, sessionAffinity: ClientIP}"},
		{name: "dual-stack with a fixed clusterIP", field: "spec.service.ipFamilyPolicy", want: "", spec: web + "service: {clusterIP: 10.0.0.50, ipFamilyPolicy: RequireDualStack}"},
		{name: "service with external.hostname", field: "spec.service", want: "not allowed with external.hostname", spec: "external: {hostname: db.example.com}\nservice: {type: ClusterIP}"},

		// The load balancer.
		{name: "loadBalancer with type NodePort", field: "spec.loadBalancer", want: "only allowed when spec.service.type is LoadBalancer", spec: web + "service: {type: NodePort}\nloadBalancer: {ip: 192.168.50.20}"},
		{name: "loadBalancer without service", field: "spec.loadBalancer", want: "only allowed when spec.service.type is LoadBalancer", spec: web + "loadBalancer: {ip: 192.168.50.20}"},
		{name: "ip not an address", field: "spec.loadBalancer.ip", want: "", spec: lb + "loadBalancer: {ip: 192.168.50.256}"},
		{name: "ip loopback", field: "spec.loadBalancer.ip", want: "", spec: lb + "loadBalancer: {ip: 127.0.0.1}"},
		{name: "ip multicast", field: "spec.loadBalancer.ip", want: "", spec: lb + "loadBalancer: {ip: 239.1.1.1}"},
		{name: "ip outside addresses (range)", field: "spec.loadBalancer.ip", want: "must lie inside spec.loadBalancer.addresses", spec: lb + "loadBalancer: {ip: 192.168.50.31, addresses: [192.168.50.20-192.168.50.30]}"},
		{name: "ip below addresses (range)", field: "spec.loadBalancer.ip", want: "must lie inside spec.loadBalancer.addresses", spec: lb + "loadBalancer: {ip: 192.168.50.19, addresses: [192.168.50.20-192.168.50.30]}"},
		{name: "ip outside addresses (range across octets)", field: "spec.loadBalancer.ip", want: "must lie inside spec.loadBalancer.addresses", spec: lb + "loadBalancer: {ip: 192.168.50.100, addresses: [192.168.50.250-192.168.51.5]}"},
		{name: "ip outside addresses (CIDR)", field: "spec.loadBalancer.ip", want: "must lie inside spec.loadBalancer.addresses", spec: lb + "loadBalancer: {ip: 192.168.50.16, addresses: [192.168.50.0/28]}"},
		{name: "ip outside addresses (single address)", field: "spec.loadBalancer.ip", want: "must lie inside spec.loadBalancer.addresses", spec: lb + "loadBalancer: {ip: 192.168.50.21, addresses: [192.168.50.20]}"},
		{name: "ip of the other family", field: "spec.loadBalancer.ip", want: "must lie inside spec.loadBalancer.addresses", spec: lb + "loadBalancer: {ip: \"2001:db8::20\", addresses: [192.168.50.20-192.168.50.30]}"},
		{name: "addresses: bad CIDR", field: "spec.loadBalancer.addresses[0]", want: "", spec: lb + "loadBalancer: {addresses: [192.168.50.0/33]}"},
		{name: "addresses: reversed range", field: "spec.loadBalancer.addresses[0]", want: "", spec: lb + "loadBalancer: {addresses: [192.168.50.30-192.168.50.20]}"},
		{name: "addresses: reversed range across octets", field: "spec.loadBalancer.addresses[0]", want: "", spec: lb + "loadBalancer: {addresses: [192.168.51.1-192.168.50.200]}"},
		{name: "addresses: mixed-family range", field: "spec.loadBalancer.addresses[0]", want: "", spec: lb + "loadBalancer: {addresses: [\"192.168.50.20-2001:db8::1\"]}"},
		{name: "addresses: range with spaces", field: "spec.loadBalancer.addresses[0]", want: "", spec: lb + "loadBalancer: {addresses: [192.168.50.20 - 192.168.50.30]}"},
		{name: "addresses: a name", field: "spec.loadBalancer.addresses[0]", want: "", spec: lb + "loadBalancer: {addresses: [pool-a]}"},
		{name: "addresses: duplicate", field: "spec.loadBalancer.addresses[1]", want: "Duplicate value", spec: lb + "loadBalancer: {addresses: [192.168.50.20, 192.168.50.20]}"},
		{name: "addresses: too many", field: "spec.loadBalancer.addresses", want: "", spec: lb + "loadBalancer: {addresses: " + repeat(17, func(i int) string { return fmt.Sprintf("192.168.50.%d", i+1) }) + "}"},
		{name: "pool and addresses", field: "spec.loadBalancer.addresses", want: "pool and addresses are mutually exclusive", spec: lb + "loadBalancer: {pool: shared, addresses: [192.168.50.20]}"},
		{name: "advertisement without addresses", field: "spec.loadBalancer.advertisement", want: "only allowed with addresses", spec: lb + "loadBalancer: {pool: shared, advertisement: L2}"},
		{name: "advertisement value", field: "spec.loadBalancer.advertisement", want: "", spec: lb + "loadBalancer: {addresses: [192.168.50.20], advertisement: ARP}"},
		{name: "loadBalancerClass with ip", field: "spec.loadBalancer.loadBalancerClass", want: "", spec: lb + "loadBalancer: {loadBalancerClass: example.com/lb, ip: 192.168.50.20}"},
		{name: "sourceRanges: an address", field: "spec.loadBalancer.sourceRanges[0]", want: "", spec: lb + "loadBalancer: {sourceRanges: [10.0.0.1]}"},
		{name: "pool name upper-case", field: "spec.loadBalancer.pool", want: "", spec: lb + "loadBalancer: {pool: Shared}"},
		{name: "sharingKey with a space", field: "spec.loadBalancer.sharingKey", want: "", spec: lb + "loadBalancer: {sharingKey: \"a b\"}"},

		// The workload.
		{name: "image with a space", field: "spec.workload.image", want: "", spec: "workload: {image: \"nginx:1.27 --evil\", ports: [{name: http, containerPort: 8080}]}\n" + http80},
		{name: "empty image", field: "spec.workload.image", want: "", spec: "workload: {image: \"\", ports: [{name: http, containerPort: 8080}]}\n" + http80},
		{name: "negative replicas", field: "spec.workload.replicas", want: "", spec: "workload: {image: nginx:1.27, replicas: -1, ports: [{name: http, containerPort: 8080}]}\n" + http80},
		{name: "too many replicas", field: "spec.workload.replicas", want: "", spec: "workload: {image: nginx:1.27, replicas: 1001, ports: [{name: http, containerPort: 8080}]}\n" + http80},
		{name: "duplicate containerPort", field: "spec.workload.ports", want: "each containerPort and protocol pair must be unique", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}, {name: alt, containerPort: 8080}]}\n" + http80},
		{name: "duplicate workload port names", field: "spec.workload.ports[1]", want: "Duplicate value", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}, {name: http, containerPort: 8081}]}\n" + http80},
		{name: "workload port name without a letter", field: "spec.workload.ports[0].name", want: "", spec: "workload: {image: nginx:1.27, ports: [{name: \"8080\", containerPort: 8080}]}\nports: [{name: http, port: 80, targetPort: 8080}]"},
		{name: "containerPort 0", field: "spec.workload.ports[0].containerPort", want: "", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 0}]}\n" + http80},
		{name: "reserved pod label", field: "spec.workload.podLabels", want: "", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}], podLabels: {app.kubernetes.io/name: other}}\n" + http80},
		{name: "Multus annotation on pods", field: "spec.workload.podAnnotations", want: "", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}], podAnnotations: {k8s.v1.cni.cncf.io/networks: evil}}\n" + http80},
		{name: "serviceAccountName upper-case", field: "spec.workload.serviceAccountName", want: "", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}], serviceAccountName: Admin}\n" + http80},
		{name: "duplicate env names", field: "spec.workload.env[1]", want: "Duplicate value", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}], env: [{name: A, value: one}, {name: A, value: two}]}\n" + http80},
		{name: "too many args", field: "spec.workload.args", want: "", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}], args: " + repeat(129, func(int) string { return "x" }) + "}\n" + http80},

		// External backends.
		{name: "external addresses and hostname", field: "spec.external", want: "exactly one of addresses or hostname", spec: "external: {addresses: [10.20.0.5], hostname: db.example.com}\nports: [{name: mysql, port: 3306}]"},
		{name: "external with neither", field: "spec.external", want: "exactly one of addresses or hostname", spec: "external: {}\nports: [{name: mysql, port: 3306}]"},
		{name: "external loopback", field: "spec.external.addresses[0]", want: "", spec: "external: {addresses: [127.0.0.1]}\nports: [{name: mysql, port: 3306}]"},
		{name: "external IPv6 loopback", field: "spec.external.addresses[0]", want: "", spec: "external: {addresses: [\"::1\"]}\nports: [{name: mysql, port: 3306}]"},
		{name: "external link-local", field: "spec.external.addresses[0]", want: "", spec: "external: {addresses: [169.254.169.254]}\nports: [{name: mysql, port: 3306}]"},
		{name: "external IPv6 link-local", field: "spec.external.addresses[0]", want: "", spec: "external: {addresses: [\"fe80::1\"]}\nports: [{name: mysql, port: 3306}]"},
		{name: "external link-local multicast", field: "spec.external.addresses[0]", want: "", spec: "external: {addresses: [224.0.0.5]}\nports: [{name: mysql, port: 3306}]"},
		{name: "external unspecified", field: "spec.external.addresses[0]", want: "", spec: "external: {addresses: [0.0.0.0]}\nports: [{name: mysql, port: 3306}]"},
		{name: "external not an address", field: "spec.external.addresses[1]", want: "", spec: "external: {addresses: [10.20.0.5, 10.20.0.300]}\nports: [{name: mysql, port: 3306}]"},
		{name: "external too many addresses", field: "spec.external.addresses", want: "", spec: "external: {addresses: " + repeat(101, func(i int) string { return fmt.Sprintf("10.20.%d.%d", i/200, 1+i%200) }) + "}\nports: [{name: mysql, port: 3306}]"},
		{name: "external hostname upper-case", field: "spec.external.hostname", want: "", spec: "external: {hostname: DB.example.com}"},
		{name: "external hostname injection", field: "spec.external.hostname", want: "", spec: "external: {hostname: \"db.example.com;rm\"}"},
		{name: "networkPolicy with external addresses", field: "spec.networkPolicy", want: "not allowed with an external backend", spec: "external: {addresses: [10.20.0.5]}\nports: [{name: mysql, port: 3306}]\nnetworkPolicy: {enabled: true}"},
		{name: "networkPolicy with external hostname", field: "spec.networkPolicy", want: "not allowed with", spec: "external: {hostname: db.example.com}\nnetworkPolicy: {enabled: true}"},

		// Host access.
		{name: "hostAccess without workload", field: "spec.hostAccess", want: "requires spec.workload", spec: "selector: {app: web}\n" + http80 + "hostAccess: {hostNetwork: true}"},
		{name: "hostPort naming no workload port", field: "spec.hostAccess.hostPorts", want: "must name a port in spec.workload.ports", spec: web + "hostAccess: {hostPorts: [{port: web, hostPort: 8080}]}"},
		{name: "hostPort with a workload without ports", field: "spec.hostAccess.hostPorts", want: "must name a port in spec.workload.ports", spec: "workload: {image: nginx:1.27}\nports: [{name: http, port: 80, targetPort: 8080}]\nhostAccess: {hostPorts: [{port: http, hostPort: 8080}]}"},
		{name: "hostNetwork with hostPort other than containerPort", field: "spec.hostAccess.hostPorts", want: "with hostNetwork", spec: web + "hostAccess: {hostNetwork: true, hostPorts: [{port: http, hostPort: 80}]}"},
		{name: "duplicate hostPort", field: "spec.hostAccess.hostPorts", want: "each host port may be used once", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}, {name: alt, containerPort: 8081}]}\n" + http80 + "hostAccess: {hostPorts: [{port: http, hostPort: 8080}, {port: alt, hostPort: 8080}]}"},
		{name: "hostPort 0", field: "spec.hostAccess.hostPorts[0].hostPort", want: "", spec: web + "hostAccess: {hostPorts: [{port: http, hostPort: 0}]}"},
		{name: "hostNetwork with secondary networks", field: "spec.secondaryNetworks", want: "not possible with spec.hostAccess.hostNetwork", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}]}\nports: [{name: http, port: 8080, targetPort: http}]\nhostAccess: {hostNetwork: true}\nsecondaryNetworks: [{name: data, type: macvlan, master: ens4, ipam: {dhcp: true}}]"},

		// Ingress.
		{name: "ingress with neither rules nor defaultBackend", field: "spec.ingress", want: "needs rules or a defaultBackend", spec: web + "ingress: {className: nginx}"},
		{name: "ingress path not starting with /", field: "spec.ingress.rules[0].paths[0].path", want: "", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: shop}]}]}"},
		{name: "ingress path with a newline", field: "spec.ingress.rules[0].paths[0].path", want: "", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/shop\\n}location / {\"}]}]}"},
		{name: "ingress path with unicode", field: "spec.ingress.rules[0].paths[0].path", want: "", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /shöp}]}]}"},
		{name: "ingress path with a quote", field: "spec.ingress.rules[0].paths[0].path", want: "", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/shop';\"}]}]}"},
		{name: "ingress bad pathType", field: "spec.ingress.rules[0].paths[0].pathType", want: "", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /, pathType: Regex}]}]}"},
		{name: "regex path with Prefix", field: "spec.ingress.rules[0].paths[0].path", want: "is a regular expression: it needs pathType ImplementationSpecific", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/shop(/|$)(.*)\", pathType: Prefix}]}]}"},
		{name: "regex path with Exact", field: "spec.ingress.rules[0].paths[0].path", want: "is a regular expression: it needs pathType ImplementationSpecific", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/items/[0-9]+\", pathType: Exact}]}]}"},
		{name: "rewrite with $2 but no capture group", field: "spec.ingress.rewriteTarget", want: "refers to a capture group", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /shop}]}], rewriteTarget: /$2}"},
		{name: "rewriteTarget not starting with /", field: "spec.ingress.rewriteTarget", want: "", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/shop(/|$)(.*)\"}]}], rewriteTarget: $2}"},
		{name: "rewriteTarget injection", field: "spec.ingress.rewriteTarget", want: "", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/shop(/|$)(.*)\"}]}], rewriteTarget: \"/$2; return 200\"}"},
		{name: "tls host not among rule hosts", field: "spec.ingress.tls.hosts", want: "", spec: web + "ingress: {" + hostRule + ", tls: {secretName: shop-tls, hosts: [evil.example.com]}}"},
		{name: "tls without a rule host", field: "spec.ingress.tls", want: "needs at least one rule with a host", spec: web + "ingress: {rules: [{paths: [{path: /}]}], tls: {selfSigned: true}}"},
		{name: "two tls sources", field: "spec.ingress.tls", want: "exactly one of secretName, selfSigned: true or certManager", spec: web + "ingress: {" + hostRule + ", tls: {secretName: shop-tls, selfSigned: true}}"},
		{name: "tls source selfSigned false only", field: "spec.ingress.tls", want: "exactly one of secretName, selfSigned: true or certManager", spec: web + "ingress: {" + hostRule + ", tls: {selfSigned: false}}"},
		{name: "tls secretName upper-case", field: "spec.ingress.tls.secretName", want: "", spec: web + "ingress: {" + hostRule + ", tls: {secretName: Shop-TLS}}"},
		{name: "certManager kind", field: "spec.ingress.tls.certManager.kind", want: "", spec: web + "ingress: {" + hostRule + ", tls: {certManager: {issuer: letsencrypt, kind: VaultIssuer}}}"},
		{name: "certManager without issuer", field: "spec.ingress.tls.certManager.issuer", want: "", spec: web + "ingress: {" + hostRule + ", tls: {certManager: {kind: ClusterIssuer}}}"},
		{name: "sslRedirect without tls", field: "spec.ingress.sslRedirect", want: "", spec: web + "ingress: {" + hostRule + ", sslRedirect: true}"},
		{name: "duplicate rule host", field: "spec.ingress.rules", want: "each host may appear in one rule only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /a}]}, {host: shop.example.com, paths: [{path: /b}]}]}"},
		{name: "two catch-all rules", field: "spec.ingress.rules", want: "each host may appear in one rule only", spec: web + "ingress: {rules: [{paths: [{path: /a}]}, {paths: [{path: /b}]}]}"},
		{name: "duplicate path", field: "spec.ingress.rules[0].paths", want: "each path may appear once per host", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /a}, {path: /a, pathType: Exact}]}]}"},
		{name: "rule without paths", field: "spec.ingress.rules[0].paths", want: "", spec: web + "ingress: {rules: [{host: shop.example.com, paths: []}]}"},
		{name: "host upper-case", field: "spec.ingress.rules[0].host", want: "", spec: web + "ingress: {rules: [{host: Shop.example.com, paths: [{path: /}]}]}"},
		{name: "host unicode", field: "spec.ingress.rules[0].host", want: "", spec: web + "ingress: {rules: [{host: shöp.example.com, paths: [{path: /}]}]}"},
		{name: "host injection", field: "spec.ingress.rules[0].host", want: "", spec: web + "ingress: {rules: [{host: \"evil.com;rm\", paths: [{path: /}]}]}"},
		{name: "host with a port", field: "spec.ingress.rules[0].host", want: "", spec: web + "ingress: {rules: [{host: \"shop.example.com:443\", paths: [{path: /}]}]}"},
		{name: "host wildcard inside", field: "spec.ingress.rules[0].host", want: "", spec: web + "ingress: {rules: [{host: \"shop.*.example.com\", paths: [{path: /}]}]}"},
		{name: "host single label", field: "spec.ingress.rules[0].host", want: "", spec: web + "ingress: {rules: [{host: shop, paths: [{path: /}]}]}"},
		{name: "ingress path port not in spec.ports", field: "spec.ingress.rules", want: "", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /, port: web}]}]}"},
		{name: "ingress path port is a UDP port", field: "spec.ingress.rules", want: "", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}, {name: quic, containerPort: 8443, protocol: UDP}]}\nports: [{name: http, port: 80, targetPort: http}, {name: quic, port: 443, targetPort: quic, protocol: UDP}]\ningress: {rules: [{host: shop.example.com, paths: [{path: /, port: quic}]}]}"},
		{name: "defaultBackend port not in spec.ports", field: "spec.ingress.defaultBackend.port", want: "", spec: web + "ingress: {defaultBackend: {port: web}}"},
		{name: "defaultBackend port is a UDP port", field: "spec.ingress.defaultBackend.port", want: "", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}, {name: quic, containerPort: 8443, protocol: UDP}]}\nports: [{name: http, port: 80, targetPort: http}, {name: quic, port: 443, targetPort: quic, protocol: UDP}]\ningress: {defaultBackend: {port: quic}}"},
		{name: "ingress without ports", field: "spec.ingress", want: "requires spec.ports", spec: "external: {hostname: db.example.com}\ningress: {defaultBackend: {}}"},
		{name: "ingress with UDP ports only", field: "spec.ingress", want: "requires at least one TCP port", spec: "workload: {image: coredns/coredns:1.11.3, ports: [{name: dns, containerPort: 53, protocol: UDP}]}\nports: [{name: dns, port: 53, targetPort: dns, protocol: UDP}]\ningress: {defaultBackend: {}}"},
		{name: "className upper-case", field: "spec.ingress.className", want: "", spec: web + "ingress: {className: Nginx, " + hostRule + "}"},
		{name: "rateLimitRPS 0", field: "spec.ingress.rateLimitRPS", want: "", spec: web + "ingress: {" + hostRule + ", rateLimitRPS: 0}"},
		{name: "backendProtocol TCP", field: "spec.ingress.backendProtocol", want: "", spec: web + "ingress: {" + hostRule + ", backendProtocol: TCP}"},
		{name: "snippet annotation (ingress-nginx configuration)", field: "spec.ingress.annotations", want: "snippet annotations", spec: web + "ingress: {" + hostRule + ", annotations: {nginx.ingress.kubernetes.io/configuration-snippet: \"return 200;\"}}"},
		{name: "snippet annotation (ingress-nginx server)", field: "spec.ingress.annotations", want: "snippet annotations", spec: web + "ingress: {" + hostRule + ", annotations: {nginx.ingress.kubernetes.io/server-snippet: \"location / {}\"}}"},
		{name: "snippet annotation (ingress-nginx modsecurity)", field: "spec.ingress.annotations", want: "snippet annotations", spec: web + "ingress: {" + hostRule + ", annotations: {nginx.ingress.kubernetes.io/modsecurity-snippet: \"SecRuleEngine Off\"}}"},
		{name: "snippet annotation (NGINX Inc. location)", field: "spec.ingress.annotations", want: "snippet annotations", spec: web + "ingress: {" + hostRule + ", annotations: {nginx.org/location-snippets: \"return 200;\"}}"},
		{name: "snippet annotation (HAProxy backend)", field: "spec.ingress.annotations", want: "snippet annotations", spec: web + "ingress: {" + hostRule + ", annotations: {haproxy.org/backend-config-snippet: \"http-request deny\"}}"},
		{name: "annotation key with a space", field: "spec.ingress.annotations", want: "keys must be valid annotation names", spec: web + "ingress: {" + hostRule + ", annotations: {\"bad key\": x}}"},
		{name: "annotation value too long", field: "spec.ingress.annotations", want: "values are limited to 4096 characters", spec: web + "ingress: {" + hostRule + ", annotations: {example.com/x: " + strings.Repeat("a", 4097) + "}}"},
		{name: "too many ingress rules", field: "spec.ingress.rules", want: "", spec: web + "ingress: {rules: " + repeat(33, func(i int) string { return fmt.Sprintf("{host: h%d.example.com, paths: [{path: /}]}", i) }) + "}"},

		// NetworkPolicy.
		{name: "networkPolicy without enabled", field: "spec.networkPolicy.enabled", want: "", spec: web + "networkPolicy: {allowFrom: [{podSelector: {}}]}"},
		{name: "too many allowFrom peers", field: "spec.networkPolicy.allowFrom", want: "", spec: web + "networkPolicy: {enabled: true, allowFrom: " + repeat(33, func(i int) string { return fmt.Sprintf("{podSelector: {matchLabels: {n: p%d}}}", i) }) + "}"},
		{name: "allowFrom empty peer", field: "spec.networkPolicy.allowFrom[0]", want: "set podSelector, namespaceSelector or ipBlock", spec: web + "networkPolicy: {enabled: true, allowFrom: [{}]}"},
		{name: "allowFrom ipBlock with a podSelector", field: "spec.networkPolicy.allowFrom[0]", want: "an ipBlock peer takes no podSelector", spec: web + "networkPolicy: {enabled: true, allowFrom: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}"},

		// Secondary networks.
		{name: "secondaryNetworks without workload", field: "spec.secondaryNetworks", want: "requires spec.workload", spec: "selector: {app: web}\n" + http80 + "secondaryNetworks: [{name: data, type: macvlan, master: ens4, ipam: {dhcp: true}}]"},
		{name: "static ipam with fewer addresses than replicas", field: "spec.secondaryNetworks", want: "needs one address per replica", spec: "workload: {image: nginx:1.27, replicas: 3, ports: [{name: http, containerPort: 8080}]}\n" + http80 + "secondaryNetworks: [{name: data, type: macvlan, master: ens4, ipam: {static: {addresses: [192.168.51.10/24, 192.168.51.11/24]}}}]"},
		{name: "host-device without device", field: "spec.secondaryNetworks[0].device", want: "required for type host-device", spec: web + "secondaryNetworks: [{name: custom, type: host-device}]"},
		{name: "macvlan without master", field: "spec.secondaryNetworks[0].master", want: "required for type macvlan and ipvlan", spec: web + "secondaryNetworks: [{name: data, type: macvlan}]"},
		{name: "device on macvlan", field: "spec.secondaryNetworks[0].device", want: "only for type host-device", spec: web + "secondaryNetworks: [{name: data, type: macvlan, master: ens4, device: ens5}]"},
		{name: "master on bridge", field: "spec.secondaryNetworks[0].master", want: "only for type macvlan and ipvlan", spec: web + "secondaryNetworks: [{name: data, type: bridge, master: ens4}]"},
		{name: "bridge on macvlan", field: "spec.secondaryNetworks[0].bridge", want: "only for type bridge", spec: web + "secondaryNetworks: [{name: data, type: macvlan, master: ens4, bridge: br0}]"},
		{name: "ipvlan mode on macvlan", field: "spec.secondaryNetworks[0].mode", want: "", spec: web + "secondaryNetworks: [{name: data, type: macvlan, master: ens4, mode: l3}]"},
		{name: "mode on host-device", field: "spec.secondaryNetworks[0].mode", want: "", spec: web + "secondaryNetworks: [{name: custom, type: host-device, device: ens4, mode: bridge}]"},
		{name: "host-device with two static addresses", field: "spec.secondaryNetworks[0].ipam.static.addresses", want: "a host-device moves one NIC into one pod", spec: "workload: {image: nginx:1.27, replicas: 2, ports: [{name: http, containerPort: 8080}]}\n" + http80 + "secondaryNetworks: [{name: custom, type: host-device, device: ens4, ipam: {static: {addresses: [192.168.51.10/24, 192.168.51.11/24]}}}]"},
		{name: "type and networkAttachmentDefinition", field: "spec.secondaryNetworks[0]", want: "exactly one of type or networkAttachmentDefinition", spec: web + "secondaryNetworks: [{name: data, type: bridge, networkAttachmentDefinition: storage}]"},
		{name: "neither type nor networkAttachmentDefinition", field: "spec.secondaryNetworks[0]", want: "exactly one of type or networkAttachmentDefinition", spec: web + "secondaryNetworks: [{name: data}]"},
		{name: "networkAttachmentDefinition with ipam", field: "spec.secondaryNetworks[0]", want: "a networkAttachmentDefinition reference takes no", spec: web + "secondaryNetworks: [{name: data, networkAttachmentDefinition: storage, ipam: {dhcp: true}}]"},
		{name: "networkAttachmentDefinition of another namespace", field: "spec.secondaryNetworks[0].networkAttachmentDefinition", want: "", spec: web + "secondaryNetworks: [{name: data, networkAttachmentDefinition: other-team/storage-net}]"},
		{name: "CNI bridge name injection", field: "spec.secondaryNetworks[0].bridge", want: "", spec: web + "secondaryNetworks: [{name: data, type: bridge, bridge: 'br0\",\"type\":\"host-device'}]"},
		{name: "CNI device name injection", field: "spec.secondaryNetworks[0].device", want: "", spec: web + "secondaryNetworks: [{name: custom, type: host-device, device: 'eth0\"}'}]"},
		{name: "CNI master name injection", field: "spec.secondaryNetworks[0].master", want: "", spec: web + "secondaryNetworks: [{name: data, type: macvlan, master: \"ens4; reboot\"}]"},
		{name: "interface name longer than 15", field: "spec.secondaryNetworks[0].interface", want: "", spec: web + "secondaryNetworks: [{name: data, type: bridge, interface: net0123456789abc}]"},
		{name: "network name upper-case", field: "spec.secondaryNetworks[0].name", want: "", spec: web + "secondaryNetworks: [{name: Custom, type: bridge}]"},
		{name: "network type sriov", field: "spec.secondaryNetworks[0].type", want: "", spec: web + "secondaryNetworks: [{name: data, type: sriov}]"},
		{name: "mtu too small", field: "spec.secondaryNetworks[0].mtu", want: "", spec: web + "secondaryNetworks: [{name: data, type: bridge, mtu: 100}]"},
		{name: "ipam with nothing", field: "spec.secondaryNetworks[0].ipam", want: "exactly one of static, whereabouts, dhcp: true or hostLocal", spec: web + "secondaryNetworks: [{name: data, type: bridge, ipam: {dhcp: false}}]"},
		{name: "ipam with two", field: "spec.secondaryNetworks[0].ipam", want: "exactly one of static, whereabouts, dhcp: true or hostLocal", spec: web + "secondaryNetworks: [{name: data, type: bridge, ipam: {dhcp: true, whereabouts: {range: 192.168.52.0/24}}}]"},
		{name: "static address without prefix", field: "spec.secondaryNetworks[0].ipam.static.addresses[0]", want: "", spec: web + "secondaryNetworks: [{name: data, type: bridge, ipam: {static: {addresses: [192.168.51.10]}}}]"},
		{name: "static address with prefix 33", field: "spec.secondaryNetworks[0].ipam.static.addresses[0]", want: "", spec: web + "secondaryNetworks: [{name: data, type: bridge, ipam: {static: {addresses: [192.168.51.10/33]}}}]"},
		{name: "static address with prefix 999", field: "spec.secondaryNetworks[0].ipam.static.addresses[0]", want: "", spec: web + "secondaryNetworks: [{name: data, type: bridge, ipam: {static: {addresses: [192.168.51.10/999]}}}]"},
		{name: "static gateway not an address", field: "spec.secondaryNetworks[0].ipam.static.gateway", want: "", spec: web + "secondaryNetworks: [{name: data, type: bridge, ipam: {static: {addresses: [192.168.51.10/24], gateway: 192.168.51}}}]"},
		{name: "whereabouts range not a CIDR", field: "spec.secondaryNetworks[0].ipam.whereabouts.range", want: "", spec: web + "secondaryNetworks: [{name: data, type: macvlan, master: ens4, ipam: {whereabouts: {range: 192.168.52.0}}}]"},
		{name: "whereabouts rangeStart outside range", field: "spec.secondaryNetworks[0].ipam.whereabouts.rangeStart", want: "", spec: web + "secondaryNetworks: [{name: data, type: macvlan, master: ens4, ipam: {whereabouts: {range: 192.168.52.0/24, rangeStart: 192.168.53.10}}}]"},
		{name: "hostLocal rangeEnd outside range", field: "spec.secondaryNetworks[0].ipam.hostLocal.rangeEnd", want: "", spec: web + "secondaryNetworks: [{name: data, type: bridge, ipam: {hostLocal: {range: 192.168.52.0/24, rangeEnd: 192.168.53.10}}}]"},
		{name: "hostLocal exclude not a CIDR", field: "spec.secondaryNetworks[0].ipam.hostLocal.exclude[0]", want: "", spec: web + "secondaryNetworks: [{name: data, type: bridge, ipam: {hostLocal: {range: 192.168.52.0/24, exclude: [192.168.52.1]}}}]"},
		{name: "duplicate network names", field: "spec.secondaryNetworks[1]", want: "Duplicate value", spec: web + "secondaryNetworks: [{name: data, type: bridge}, {name: data, type: bridge, bridge: br1}]"},
		{name: "too many secondary networks", field: "spec.secondaryNetworks", want: "", spec: web + "secondaryNetworks: " + repeat(9, func(i int) string { return fmt.Sprintf("{name: n%d, type: bridge}", i) })},

		// Patches.
		{name: "patch target kind Pod", field: "spec.patches[0].target.kind", want: "", spec: web + "patches: [{target: {kind: Pod}, patch: \"metadata: {labels: {a: b}}\"}]"},
		{name: "empty patch", field: "spec.patches[0].patch", want: "", spec: web + "patches: [{target: {kind: Service}, patch: \"\"}]"},
		{name: "too many patches", field: "spec.patches", want: "", spec: web + "patches: " + repeat(33, func(int) string { return "{target: {kind: Service}, patch: \"metadata: {labels: {a: b}}\"}" })},

		// The name: the Service is named after the Exposure.
		{name: "name longer than 63", field: "metadata.name", want: "", objName: strings.Repeat("a", 64), spec: web},
		{name: "name upper-case", field: "metadata.name", want: "", objName: "Web", spec: web},
		{name: "name starting with a digit", field: "metadata.name", want: "", objName: "1web", spec: web},
		{name: "name with a dot", field: "metadata.name", want: "", objName: "web.v1", spec: web},
	}
}

// causeField is the field a refusal points at. A rule on the object's
// root (the name rule: fieldPath cannot point into metadata) reports no
// field ("<nil>"); its message names metadata.name instead.
func causeField(field, message string) string {
	if (field == "<nil>" || field == "") && strings.Contains(message, "metadata.name: ") {
		return "metadata.name"
	}
	return field
}

// dumpFields, with VALIDATION_DUMP_FIELDS=file, collects each case's
// reported fields into that file: a help for writing the table's field
// column after a deliberate change, to be read before it is pasted.
var dumpFields map[string][]string

// TestInvalidExposuresAreRefused submits every mistake in the table and
// checks the apiserver refuses it, naming the offending field.
func TestInvalidExposuresAreRefused(t *testing.T) {
	ns := newNamespace(t)
	if f := os.Getenv("VALIDATION_DUMP_FIELDS"); f != "" {
		dumpFields = map[string][]string{}
		t.Cleanup(func() {
			b, _ := json.MarshalIndent(dumpFields, "", "  ")
			_ = os.WriteFile(f, b, 0o644)
		})
	}
	cases := invalidCases()
	if len(cases) < 35 {
		t.Fatalf("only %d invalid cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.objName
			if name == "" {
				name = "bad"
			}
			u := exposure(t, name, tc.spec)
			err := create(ctx(t), ns, u)
			if err == nil {
				_ = env.Client.Delete(ctx(t), u)
				t.Fatalf("accepted, want refused naming %q", tc.want)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error naming %q, got: %v", tc.want, err)
			}
			t.Logf("refused: %s", strings.Join(causes(err), "; "))
			if dumpFields != nil {
				for _, c := range statusCauses(err) {
					dumpFields[tc.name] = append(dumpFields[tc.name], c.Field)
				}
			}
			for _, c := range statusCauses(err) {
				if !strings.Contains(c.Field+": "+c.Message, tc.want) {
					t.Errorf("reason %q does not name %q (all reasons: %q)", c.Field+": "+c.Message, tc.want, causes(err))
				}
				if got := causeField(c.Field, c.Message); got != tc.field {
					t.Errorf("the reason's field is %q, want %q (%s)", got, tc.field, c.Message)
				}
			}
		})
	}
}

// TestValidEdgeCasesAreAccepted submits the awkward corners that must pass.
func TestValidEdgeCasesAreAccepted(t *testing.T) {
	ns := newNamespace(t)
	cases := []struct {
		name    string
		spec    string
		objName string
	}{
		{name: "IPv6 range with the ip inside", spec: lb + "loadBalancer: {ip: \"2001:db8:50::15\", addresses: [\"2001:db8:50::10-2001:db8:50::20\"]}"},
		{name: "dual-stack pool, IPv4 ip in the second entry", spec: lb + "loadBalancer: {ip: 192.168.50.25, addresses: [\"2001:db8:50::10-2001:db8:50::20\", 192.168.50.20-192.168.50.30]}"},
		{name: "CIDR addresses with the ip inside", spec: lb + "loadBalancer: {ip: 192.168.50.14, addresses: [192.168.50.0/28], advertisement: BGP}"},
		{name: "IPv6 CIDR addresses with the ip inside", spec: lb + "loadBalancer: {ip: \"2001:db8:50::1:5\", addresses: [\"2001:db8:50::/64\"]}"},
		{name: "ip equal to the first address of a range", spec: lb + "loadBalancer: {ip: 192.168.50.20, addresses: [192.168.50.20-192.168.50.30]}"},
		{name: "ip equal to the last address of a range", spec: lb + "loadBalancer: {ip: 192.168.50.30, addresses: [192.168.50.20-192.168.50.30]}"},
		{name: "ip inside a range across octets", spec: lb + "loadBalancer: {ip: 192.168.51.2, addresses: [192.168.50.250-192.168.51.5]}"},
		{name: "ip equal to a single address", spec: lb + "loadBalancer: {ip: 192.168.50.21, addresses: [192.168.50.20, 192.168.50.21]}"},
		{name: "range of one address", spec: lb + "loadBalancer: {addresses: [192.168.50.20-192.168.50.20]}"},
		{name: "fixed ip from an admin pool", spec: lb + "loadBalancer: {pool: shared, ip: 192.168.50.20, sharingKey: web}"},
		{name: "another load-balancer implementation", spec: lb + "loadBalancer: {loadBalancerClass: example.com/lb, sourceRanges: [\"2001:db8::/32\", 10.0.0.0/8]}"},
		{name: "nodePort on LoadBalancer", spec: nginx + "ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]\nservice: {type: LoadBalancer, externalTrafficPolicy: Local}"},
		// The node-port range is the API server's setting, not the schema's.
		{name: "nodePort below the default range", spec: nginx + "ports: [{name: http, port: 80, targetPort: http, nodePort: 53}]\nservice: {type: NodePort}"},
		{name: "nodePort above the default range", spec: nginx + "ports: [{name: http, port: 80, targetPort: http, nodePort: 40000}]\nservice: {type: NodePort}"},
		{name: "nodePort range ends", spec: nginx + "ports: [{name: http, port: 80, targetPort: http, nodePort: 30000}, {name: alt, port: 81, targetPort: http, nodePort: 32767}]\nservice: {type: NodePort}"},
		{name: "same port and nodePort over TCP and UDP", spec: "workload: {image: coredns/coredns:1.11.3, ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]}\nports: [{name: dns, port: 53, targetPort: dns, protocol: UDP, nodePort: 30053}, {name: dns-tcp, port: 53, targetPort: dns-tcp, nodePort: 30053}]\nservice: {type: NodePort}"},
		{name: "replicas 0", spec: "workload: {image: nginx:1.27, replicas: 0, ports: [{name: http, containerPort: 8080}]}\n" + http80},
		{name: "replicas 1000 with numbered targetPort", spec: "workload: {image: nginx:1.27, replicas: 1000}\nports: [{name: http, port: 80, targetPort: 8080}]"},
		{name: "service port without targetPort", spec: nginx + "ports: [{name: http, port: 8080}]"},
		{name: "external hostname without ports", spec: "external: {hostname: db.example.com}"},
		{name: "external single-label hostname with ports", spec: "external: {hostname: db}\nports: [{name: postgres, port: 5432}]"},
		{name: "external IPv6 addresses", spec: "external: {addresses: [\"2001:db8::5\", \"2001:db8::6\"]}\nports: [{name: mysql, port: 3306}]"},
		{name: "external addresses behind a headless Service", spec: "external: {addresses: [10.20.0.5]}\nports: [{name: mysql, port: 3306}]\nservice: {type: Headless}"},
		{name: "exactly 100 external addresses", spec: "external: {addresses: " + repeat(100, func(i int) string { return fmt.Sprintf("10.20.0.%d", i+1) }) + "}\nports: [{name: mysql, port: 3306}]"},
		{name: "exactly 32 ports", spec: "selector: {app: web}\nports: " + repeat(32, func(i int) string { return fmt.Sprintf("{name: p%d, port: %d}", i, 1000+i) })},
		{name: "selector with a pod port name", spec: "selector: {app: web}\nports: [{name: http, port: 80, targetPort: web-8080}]\nservice: {type: Headless}\nnetworkPolicy: {enabled: true}"},
		{name: "fixed clusterIP, SingleStack", spec: web + "service: {clusterIP: 10.0.0.51, ipFamilyPolicy: SingleStack, internalTrafficPolicy: Local}"},
		{name: "headless with None affinity", spec: web + "service: {type: Headless, sessionAffinity: None}"},
		{name: "wildcard host with TLS", spec: web + "ingress: {rules: [{host: \"*.example.com\", paths: [{path: /}]}], tls: {secretName: wildcard-tls, hosts: [\"*.example.com\"]}}"},
		{name: "catch-all rule next to a host rule", spec: web + "ingress: {rules: [{paths: [{path: /}]}, {host: shop.example.com, paths: [{path: /}]}], tls: {certManager: {issuer: letsencrypt}}}"},
		{name: "ingress defaultBackend without port", spec: web + "ingress: {defaultBackend: {}}"},
		{name: "ingress on a TCP port next to a UDP port", spec: "workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}, {name: quic, containerPort: 8443, protocol: UDP}]}\nports: [{name: quic, port: 443, targetPort: quic, protocol: UDP}, {name: http, port: 80, targetPort: http}]\ningress: {rules: [{host: shop.example.com, paths: [{path: /, port: http}]}], defaultBackend: {port: http}}"},
		{name: "regex path without pathType", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/shop(/|$)(.*)\"}]}], rewriteTarget: /$2}"},
		{name: "rewrite without capture groups", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /shop, pathType: Prefix}]}], rewriteTarget: /}"},
		{name: "dotted Prefix path", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /v1.0/api, pathType: Prefix}, {path: /healthz, pathType: Exact}]}]}"},
		{name: "plain annotations", spec: web + "ingress: {" + hostRule + ", annotations: {nginx.ingress.kubernetes.io/proxy-body-size: 8m, traefik.ingress.kubernetes.io/router.priority: \"10\", example: x}, backendProtocol: GRPC, rateLimitRPS: 100000, sslRedirect: false}"},
		{name: "hostNetwork with hostPort equal to containerPort", spec: web + "hostAccess: {hostNetwork: true, hostPorts: [{port: http, hostPort: 8080}]}"},
		{name: "networkPolicy with every peer kind", spec: web + "networkPolicy: {enabled: true, allowFrom: [{podSelector: {matchLabels: {role: frontend}}, namespaceSelector: {matchLabels: {team: shop}}}, {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}, {ipBlock: {cidr: \"2001:db8::/32\"}}]}"},
		{name: "existing NetworkAttachmentDefinition", spec: web + "secondaryNetworks: [{name: data, networkAttachmentDefinition: storage-net, interface: net1}]"},
		{name: "macvlan with whereabouts", spec: "workload: {image: nginx:1.27, replicas: 5, ports: [{name: http, containerPort: 8080}]}\n" + http80 + "secondaryNetworks: [{name: data, type: macvlan, master: ens4, mode: bridge, mtu: 9000, ipam: {whereabouts: {range: 192.168.52.0/24, rangeStart: 192.168.52.10, rangeEnd: 192.168.52.99, exclude: [192.168.52.32/28], gateway: 192.168.52.1}}}]"},
		{name: "ipvlan l3 with host-local, bridge with dhcp", spec: web + "secondaryNetworks: [{name: a, type: ipvlan, master: ens4.100, mode: l3, ipam: {hostLocal: {range: \"2001:db8:52::/64\"}}}, {name: b, type: bridge, bridge: br-data, ipam: {dhcp: true}}]"},
		{name: "static addresses, one per replica", spec: "workload: {image: nginx:1.27, replicas: 3, ports: [{name: http, containerPort: 8080}]}\n" + http80 + "secondaryNetworks: [{name: data, type: macvlan, master: ens4, ipam: {static: {addresses: [192.168.51.10/24, \"2001:db8:51::11/64\", 192.168.51.12/24], gateway: 192.168.51.1}, dhcp: false}}]"},
		{name: "static addresses with replicas 0", spec: "workload: {image: nginx:1.27, replicas: 0, ports: [{name: http, containerPort: 8080}]}\n" + http80 + "secondaryNetworks: [{name: custom, type: host-device, device: ens4, ipam: {static: {addresses: [192.168.51.10/24]}}}]"},
		{name: "name of 63 characters", objName: "a" + strings.Repeat("b", 61) + "c", spec: web},
		{name: "every workload field", spec: "workload: {image: \"registry.example.com:5000/team/web@sha256:" + strings.Repeat("a", 64) + "\", command: [nginx], args: [-g, daemon off;], ports: [{name: http, containerPort: 8080}], env: [{name: MODE, value: prod}], resources: {requests: {cpu: 100m}}, readinessProbe: {httpGet: {path: /, port: http}}, serviceAccountName: web, nodeSelector: {kubernetes.io/os: linux}, podLabels: {team: shop}, podAnnotations: {prometheus.io/scrape: \"true\"}}\n" + http80},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.objName
			if name == "" {
				name = fmt.Sprintf("edge-%02d", i)
			}
			if err := create(ctx(t), ns, exposure(t, name, tc.spec)); err != nil {
				t.Fatalf("refused:\n  %s", strings.Join(causes(err), "\n  "))
			}
		})
	}
}

// TestNewExposureIsNotCurrent: before the operator writes any status, a
// new Exposure reads as not yet observed (status.observedGeneration 0 <
// metadata.generation), which is what kstatus and kubectl wait look at.
func TestNewExposureIsNotCurrent(t *testing.T) {
	ns := newNamespace(t)
	u := exposure(t, "fresh", "selector: {app: x}\nports: [{name: http, port: 80}]")
	if err := create(ctx(t), ns, u); err != nil {
		t.Fatal(err)
	}
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(u.GroupVersionKind())
	if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "fresh"}, got); err != nil {
		t.Fatal(err)
	}
	og, found, err := unstructured.NestedInt64(got.Object, "status", "observedGeneration")
	if err != nil || !found || og != 0 || got.GetGeneration() != 1 {
		t.Fatalf("a new Exposure must read status.observedGeneration 0 (found %v, %d) at generation %d: %v", found, og, got.GetGeneration(), err)
	}
}
