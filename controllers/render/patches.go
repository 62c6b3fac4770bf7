package render

import (
	"fmt"
	"maps"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/kustomize/api/filters/patchjson6902"
	"sigs.k8s.io/kustomize/api/filters/patchstrategicmerge"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// PatchError says which of spec.patches failed and why.
type PatchError struct {
	Index int
	Err   error
}

func (e *PatchError) Error() string {
	return fmt.Sprintf("spec.patches[%d]: %v", e.Index, e.Err)
}

func (e *PatchError) Unwrap() error { return e.Err }

// applyPatches runs the Exposure's patches with kustomize's patch filters, one at a
// time so that an error names the patch that caused it. A patch may change
// anything except what makes an object ours: its kind, name, namespace, our
// labels and its owner reference. Losing those would orphan the object or
// make the operator prune it.
func applyPatches(objs []*unstructured.Unstructured, patches []v1alpha1.Patch) ([]*unstructured.Unstructured, error) {
	for i, p := range patches {
		out, err := kustomizePatch(objs, p)
		if err != nil {
			return nil, &PatchError{Index: i, Err: err}
		}
		if err := sameIdentities(objs, out); err != nil {
			return nil, &PatchError{Index: i, Err: err}
		}
		objs = out
	}
	return objs, nil
}

// kustomizePatch applies one patch with kustomize's own patch filters, the
// ones its PatchTransformer runs: targets are selected as kustomize selects
// them (kind, and name as an anchored regular expression), a strategic-merge
// patch takes each target's apiVersion and kind and may not rename it, a
// JSON 6902 patch applies as written. The filters work on kyaml nodes alone,
// without kustomize's build engine (loaders, plugins, generators), which the
// manager has no use for.
func kustomizePatch(objs []*unstructured.Unstructured, p v1alpha1.Patch) ([]*unstructured.Unstructured, error) {
	sel, err := types.NewSelectorRegex(&types.Selector{ResId: resIDSelector(p.Target)})
	if err != nil {
		return nil, err
	}
	smp, isSMP, err := strategicMergePatch(p)
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if !sel.MatchName(o.GetName()) || !sel.MatchGvk(resid.Gvk{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}) {
			out = append(out, o)
			continue
		}
		node, err := kyaml.FromMap(o.Object)
		if err != nil {
			return nil, err
		}
		if isSMP {
			node, err = applyStrategicMerge(node, smp)
		} else {
			node, err = applyJSON6902(node, p.Patch)
		}
		if err != nil {
			return nil, err
		}
		if node == nil {
			return nil, fmt.Errorf("a patch must not add or remove objects (%s %s would be deleted)", o.GetKind(), o.GetName())
		}
		// Through JSON, as the API machinery decodes objects: kyaml's
		// maps hold Go ints, which unstructured content cannot carry (its
		// DeepCopy panics on them); whole numbers must be int64.
		b, err := node.MarshalJSON()
		if err != nil {
			return nil, err
		}
		m := map[string]any{}
		if err := utiljson.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out, nil
}

// strategicMergePatch parses a strategic-merge patch; isSMP is false for a
// JSON 6902 patch (a list of operations).
func strategicMergePatch(p v1alpha1.Patch) (patch *kyaml.RNode, isSMP bool, err error) {
	text := completeStrategicMerge(p)
	node, err := kyaml.Parse(text)
	if err != nil {
		return nil, false, fmt.Errorf("unable to parse the patch as a strategic-merge or JSON 6902 patch: %w", err)
	}
	if node.YNode().Kind != kyaml.MappingNode {
		return nil, false, nil
	}
	return node, true, nil
}

// applyStrategicMerge merges a patch into one target as kustomize does: the
// patch takes the target's apiVersion and kind, and the target keeps its
// kind, name and namespace whatever the patch says. A nil result means the
// patch deleted the target.
func applyStrategicMerge(target, patch *kyaml.RNode) (*kyaml.RNode, error) {
	kind, name, ns := target.GetKind(), target.GetName(), target.GetNamespace()
	pc := patch.Copy()
	pc.SetApiVersion(target.GetApiVersion())
	nodes, err := patchstrategicmerge.Filter{Patch: pc}.Filter([]*kyaml.RNode{target})
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 || nodes[0].IsNilOrEmpty() {
		return nil, nil
	}
	out := nodes[0]
	out.SetKind(kind)
	if err := out.SetName(name); err != nil {
		return nil, err
	}
	if err := out.SetNamespace(ns); err != nil {
		return nil, err
	}
	return out, nil
}

func applyJSON6902(target *kyaml.RNode, patch string) (*kyaml.RNode, error) {
	nodes, err := patchjson6902.Filter{Patch: patch}.Filter([]*kyaml.RNode{target})
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, nil
	}
	return nodes[0], nil
}

// completeStrategicMerge lets a strategic-merge patch be just the fields to
// change: kustomize wants a patch to look like an object (kind and
// metadata.name), but the target already says which objects it applies to,
// so the missing parts are filled in from it. JSON 6902 patches (a list)
// pass through untouched.
func completeStrategicMerge(p v1alpha1.Patch) string {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(p.Patch), &m); err != nil || m == nil {
		return p.Patch
	}
	if _, ok := m["kind"]; !ok {
		m["kind"] = p.Target.Kind
	}
	if _, ok := m["apiVersion"]; !ok {
		m["apiVersion"] = "v1"
	}
	meta, _ := m["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		m["metadata"] = meta
	}
	if _, ok := meta["name"]; !ok {
		name := p.Target.Name
		if name == "" {
			name = "any"
		}
		meta["name"] = name
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		return p.Patch
	}
	return string(b)
}

func resIDSelector(t v1alpha1.PatchTarget) resid.ResId {
	return resid.ResId{Gvk: resid.Gvk{Kind: t.Kind}, Name: t.Name}
}

type identity struct{ apiVersion, kind, namespace, name string }

func identityOf(o *unstructured.Unstructured) identity {
	return identity{o.GetAPIVersion(), o.GetKind(), o.GetNamespace(), o.GetName()}
}

func sameIdentities(before, after []*unstructured.Unstructured) error {
	if len(before) != len(after) {
		return fmt.Errorf("a patch must not add or remove objects (%d before, %d after)", len(before), len(after))
	}
	want := map[identity]*unstructured.Unstructured{}
	for _, o := range before {
		want[identityOf(o)] = o
	}
	for _, o := range after {
		orig, ok := want[identityOf(o)]
		if !ok {
			return fmt.Errorf("a patch must not change an object's apiVersion, kind, namespace or name (%s %s/%s)", o.GetKind(), o.GetNamespace(), o.GetName())
		}
		for _, k := range []string{names.ManagedByLabel, names.ExposureLabel, names.NameLabel} {
			if o.GetLabels()[k] != orig.GetLabels()[k] {
				return fmt.Errorf("a patch must not change the label %s of %s %s", k, o.GetKind(), o.GetName())
			}
		}
		if !maps.EqualFunc(refMap(orig), refMap(o), func(a, b string) bool { return a == b }) {
			return fmt.Errorf("a patch must not change the owner references of %s %s", o.GetKind(), o.GetName())
		}
	}
	return nil
}

func refMap(o *unstructured.Unstructured) map[string]string {
	m := map[string]string{}
	for _, r := range o.GetOwnerReferences() {
		m[string(r.UID)] = r.Kind + "/" + r.Name
	}
	return m
}
