package gitops

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

var updateTestdata = flag.Bool("update-argocd-testdata", false,
	"rewrite config/argocd/exposure.dev/Exposure/testdata and health_test.yaml from real reconciles, and samples/argocd/argocd-cm.yaml from health.lua")

// healthDir is the health check in Argo CD's resource_customizations layout:
// <group>/<Kind>/health.lua, health_test.yaml and testdata/.
var healthDir = filepath.Join(testenv.RepoRoot(), "config", "argocd", "exposure.dev", "Exposure")

func healthScript(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(healthDir, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runHealthLua runs an Argo CD health script the way Argo CD's lua.VM
// (util/lua/lua.go) does for a script from argocd-cm: a state without the
// standard libraries except base, package and table (Argo CD adds a reduced
// os library, which this script does not use), a one-second deadline, the
// object as the global obj, and the returned table turned into a
// HealthStatus through JSON. An unknown status becomes Unknown, as there.
func runHealthLua(script string, obj map[string]any) (healthStatus, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return healthStatus{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return healthStatus{}, err
	}
	ret := l.Get(-1)
	if ret.Type() != lua.LTTable {
		return healthStatus{}, fmt.Errorf("expect table output from Lua script, not %s", ret.Type())
	}
	b, err := json.Marshal(fromLua(ret))
	if err != nil {
		return healthStatus{}, err
	}
	var hs healthStatus
	if err := json.Unmarshal(b, &hs); err != nil {
		return healthStatus{}, err
	}
	switch hs.Status {
	case "Unknown", "Progressing", "Suspended", "Healthy", "Degraded", "Missing":
		return hs, nil
	}
	return healthStatus{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
}

// toLua converts a decoded JSON value as Argo CD's decodeValue does.
func toLua(l *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case int32:
		return lua.LNumber(x)
	case int:
		return lua.LNumber(x)
	case json.Number:
		return lua.LString(x)
	case string:
		return lua.LString(x)
	case []any:
		arr := l.CreateTable(len(x), 0)
		for _, item := range x {
			arr.Append(toLua(l, item))
		}
		return arr
	case map[string]any:
		tbl := l.CreateTable(0, len(x))
		for k, item := range x {
			tbl.RawSetH(lua.LString(k), toLua(l, item))
		}
		return tbl
	}
	return lua.LNil
}

// fromLua converts a Lua value for JSON as gopher-json's Encode does:
// a table with an array part is an array, any other table an object.
func fromLua(v lua.LValue) any {
	switch x := v.(type) {
	case lua.LBool:
		return bool(x)
	case lua.LNumber:
		return float64(x)
	case lua.LString:
		return string(x)
	case *lua.LTable:
		if x.MaxN() > 0 {
			var arr []any
			for i := 1; i <= x.MaxN(); i++ {
				arr = append(arr, fromLua(x.RawGetInt(i)))
			}
			return arr
		}
		m := map[string]any{}
		x.ForEach(func(k, val lua.LValue) { m[k.String()] = fromLua(val) })
		return m
	}
	return nil
}

// healthTests is health_test.yaml, in Argo CD's format.
type healthTests struct {
	Tests []healthTest `json:"tests"`
}

type healthTest struct {
	HealthStatus healthStatus `json:"healthStatus"`
	InputPath    string       `json:"inputPath"`
}

func readHealthTests(t *testing.T) healthTests {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(healthDir, "health_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ht healthTests
	if err := yaml.UnmarshalStrict(b, &ht); err != nil {
		t.Fatalf("health_test.yaml: %v", err)
	}
	return ht
}

// TestArgoCDHealthTestdata runs the health check on every object listed in
// health_test.yaml, as Argo CD's own test of resource_customizations does,
// and checks the list covers every testdata file and every health status
// the script can return.
func TestArgoCDHealthTestdata(t *testing.T) {
	script := healthScript(t)
	ht := readHealthTests(t)
	listed := map[string]bool{}
	seen := map[string]bool{}
	for _, tc := range ht.Tests {
		listed[filepath.Clean(tc.InputPath)] = true
		seen[tc.HealthStatus.Status] = true
		t.Run(tc.InputPath, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(healthDir, tc.InputPath))
			if err != nil {
				t.Fatal(err)
			}
			obj := map[string]any{}
			if err := yaml.Unmarshal(b, &obj); err != nil {
				t.Fatal(err)
			}
			got, err := runHealthLua(script, obj)
			if err != nil {
				t.Fatalf("health.lua failed: %v", err)
			}
			if got != tc.HealthStatus {
				t.Errorf("health = %+v, want %+v", got, tc.HealthStatus)
			}
		})
	}
	files, err := filepath.Glob(filepath.Join(healthDir, "testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(healthDir, f)
		if !listed[rel] {
			t.Errorf("%s is not listed in health_test.yaml", rel)
		}
	}
	for _, s := range []string{"Healthy", "Progressing", "Degraded"} {
		if !seen[s] {
			t.Errorf("health_test.yaml has no case for %s", s)
		}
	}
}

// TestArgoCDHealthOfLiveExposures runs the health check on Exposures read
// back from real reconciles in every state, checks the result, and keeps
// testdata/ and health_test.yaml in step with what the operator writes
// (-update-argocd-testdata rewrites them).
func TestArgoCDHealthOfLiveExposures(t *testing.T) {
	script := healthScript(t)
	sts := liveStates(t)

	var wantTests healthTests
	for _, st := range sts {
		want := st.Health
		want.Message = clusterIPs.Replace(want.Message)
		wantTests.Tests = append(wantTests.Tests, healthTest{HealthStatus: want, InputPath: "testdata/" + st.File})
		t.Run(strings.TrimSuffix(st.File, ".yaml"), func(t *testing.T) {
			got, err := runHealthLua(script, st.Object.Object)
			if err != nil {
				t.Fatalf("health.lua failed: %v", err)
			}
			if got != st.Health {
				t.Errorf("%s:\n health = %+v\n want     %+v", st.Description, got, st.Health)
			}

			// The same object once its spec has changed again: whatever
			// its conditions say, they are about an older generation.
			bumped := st.Object.DeepCopy()
			bumped.SetGeneration(st.Object.GetGeneration() + 1)
			want := healthStatus{Status: "Progressing", Message: "Waiting for the operator to observe generation " + itoa(bumped.GetGeneration())}
			if got, err := runHealthLua(script, bumped.Object); err != nil || got != want {
				t.Errorf("with metadata.generation bumped to %d: health = %+v (%v), want %+v", bumped.GetGeneration(), got, err, want)
			}

			path := filepath.Join(healthDir, "testdata", st.File)
			if *updateTestdata {
				writeTestdata(t, path, st)
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./test/gitops -update-argocd-testdata)", err)
			}
			stored := map[string]any{}
			if err := yaml.Unmarshal(b, &stored); err != nil {
				t.Fatal(err)
			}
			// What the health check reads must be what the operator
			// writes today; the rest of the object may age.
			live := healthInputs(mustJSONRoundTrip(t, scrub(st.Object)))
			if old := healthInputs(stored); !reflect.DeepEqual(old, live) {
				o, _ := yaml.Marshal(old)
				l, _ := yaml.Marshal(live)
				t.Errorf("testdata/%s is out of date (run go test ./test/gitops -update-argocd-testdata):\n--- stored\n%s--- live\n%s", st.File, o, l)
			}
		})
	}

	path := filepath.Join(healthDir, "health_test.yaml")
	if *updateTestdata {
		b, err := yaml.Marshal(wantTests)
		if err != nil {
			t.Fatal(err)
		}
		header := "# The expected health of each object in testdata/, in the format of Argo CD's\n" +
			"# resource_customizations tests. The objects are Exposures read back from real\n" +
			"# reconciles (test/gitops/states_test.go); `go test ./test/gitops\n" +
			"# -update-argocd-testdata` rewrites this file and testdata/ together.\n"
		if err := os.WriteFile(path, append([]byte(header), b...), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := readHealthTests(t); !reflect.DeepEqual(got, wantTests) {
		g, _ := yaml.Marshal(got)
		w, _ := yaml.Marshal(wantTests)
		t.Errorf("health_test.yaml is out of date (run go test ./test/gitops -update-argocd-testdata):\n--- stored\n%s--- live\n%s", g, w)
	}
}

// scrub removes what changes from run to run and means nothing to a health
// check: server-assigned identity, managedFields, timestamps, and the
// randomly allocated cluster IPs (in addresses and messages alike).
func scrub(u *unstructured.Unstructured) map[string]any {
	o := u.DeepCopy().Object
	for _, f := range []string{"managedFields", "uid", "resourceVersion", "creationTimestamp"} {
		unstructured.RemoveNestedField(o, "metadata", f)
	}
	if conds, ok, _ := unstructured.NestedSlice(o, "status", "conditions"); ok {
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok {
				m["lastTransitionTime"] = "2026-01-01T00:00:00Z"
			}
		}
		_ = unstructured.SetNestedSlice(o, conds, "status", "conditions")
	}
	return scrubStrings(o).(map[string]any)
}

func scrubStrings(v any) any {
	switch x := v.(type) {
	case string:
		return clusterIPs.Replace(x)
	case map[string]any:
		for k, e := range x {
			x[k] = scrubStrings(e)
		}
	case []any:
		for i, e := range x {
			x[i] = scrubStrings(e)
		}
	}
	return v
}

// healthInputs is the part of an Exposure that the health check and
// kstatus read.
func healthInputs(o map[string]any) map[string]any {
	out := map[string]any{}
	out["generation"], _, _ = unstructured.NestedFieldNoCopy(o, "metadata", "generation")
	out["observedGeneration"], _, _ = unstructured.NestedFieldNoCopy(o, "status", "observedGeneration")
	var conds []any
	cs, _, _ := unstructured.NestedSlice(o, "status", "conditions")
	for _, c := range cs {
		m, _ := c.(map[string]any)
		conds = append(conds, map[string]any{
			"type": m["type"], "status": m["status"], "reason": m["reason"],
			"message": m["message"], "observedGeneration": m["observedGeneration"],
		})
	}
	out["conditions"] = conds
	return out
}

// mustJSONRoundTrip turns numbers into float64, as reading YAML does.
func mustJSONRoundTrip(t *testing.T, o map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func writeTestdata(t *testing.T, path string, st liveState) {
	t.Helper()
	b, err := yaml.Marshal(scrub(st.Object))
	if err != nil {
		t.Fatal(err)
	}
	header := "# " + strings.ToUpper(st.Description[:1]) + st.Description[1:] + ".\n" +
		"# Read back from a real reconcile by test/gitops/states_test.go; rewritten by\n" +
		"# `go test ./test/gitops -update-argocd-testdata`.\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append([]byte(header), b...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHealthScriptHandlesPartialStatus covers what a real reconcile never
// leaves behind but an object in transit might (a status written by an
// older operator, conditions without observedGeneration): the script must
// still return a valid status and never fail.
func TestHealthScriptHandlesPartialStatus(t *testing.T) {
	script := healthScript(t)
	for _, tc := range []struct {
		name string
		obj  string
		want healthStatus
	}{
		{"no metadata.generation, no status", `{metadata: {name: x}}`,
			healthStatus{"Progressing", "Waiting for the operator to report status"}},
		{"empty status", `{metadata: {generation: 1}, status: {}}`,
			healthStatus{"Progressing", "Waiting for the operator to observe generation 1"}},
		{"observed, no conditions", `{metadata: {generation: 1}, status: {observedGeneration: 1}}`,
			healthStatus{"Progressing", "Waiting for the operator to report the Ready condition"}},
		{"only Reconciling", `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [{type: Reconciling, status: "True", reason: Progressing, message: "ServiceReady: Service x does not exist yet"}]}}`,
			healthStatus{"Progressing", "ServiceReady: Service x does not exist yet"}},
		{"Ready without message", `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [{type: Ready, status: "False", reason: Pending}]}}`,
			healthStatus{"Progressing", "Ready is False: Pending"}},
		{"Ready=True for an older generation", `{metadata: {generation: 3}, status: {observedGeneration: 3, conditions: [{type: Ready, status: "True", reason: AllPartsReady, message: ok, observedGeneration: 2}]}}`,
			healthStatus{"Progressing", "Waiting for the operator to observe generation 3"}},
		{"Stalled and Ready=True (never written together)", `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [{type: Ready, status: "True", message: ok}, {type: Stalled, status: "True", reason: Conflict, message: taken}]}}`,
			healthStatus{"Degraded", "taken"}},
		{"Ready=Unknown", `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [{type: Ready, status: Unknown, reason: Unknown, message: checking}]}}`,
			healthStatus{"Progressing", "checking"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := map[string]any{}
			if err := yaml.Unmarshal([]byte(tc.obj), &obj); err != nil {
				t.Fatal(err)
			}
			got, err := runHealthLua(script, obj)
			if err != nil {
				t.Fatalf("health.lua failed: %v", err)
			}
			if got != tc.want {
				t.Errorf("health = %+v, want %+v", got, tc.want)
			}
		})
	}
}
