// Package delivery builds what the project ships: the kustomizations under
// config/ (with sigs.k8s.io/kustomize/api, so no kustomize binary is
// needed), the single-file installer dist/install.yaml and the OLM bundle.
// Everything it produces is deterministic: the same tree gives the same
// bytes, so the committed outputs can be checked against a fresh build.
package delivery

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// ManagerContainer is the name of the manager's container in the
// Deployment of config/manager.
const ManagerContainer = "manager"

// OutsideRoot lists the kustomizations (relative to the repository root)
// that load files from outside their own directory, the repository's
// samples/, and so build only with load restrictions off. Every other
// kustomization builds with kustomize's default, root-only restrictions,
// as `kubectl apply -k` and Argo CD build it.
var OutsideRoot = map[string]bool{
	"config/samples":   true,
	"config/manifests": true,
}

// BuildOptions tune a build.
type BuildOptions struct {
	// Image replaces the manager container's image; empty keeps the one
	// config/manager sets.
	Image string
	// AllowOutsideRoot turns kustomize's load restrictions off, for the
	// kustomizations in OutsideRoot.
	AllowOutsideRoot bool
	// KeepOrder keeps the order in which the kustomizations list the
	// resources instead of kustomize's legacy sort.
	KeepOrder bool
}

// Build builds the kustomization in dir on the real file system, sorted
// in kustomize's legacy order (Namespaces and CRDs first, as `kustomize
// build` prints them) unless o.KeepOrder.
func Build(dir string, o BuildOptions) (resmap.ResMap, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy
	if o.KeepOrder {
		opts.Reorder = krusty.ReorderOptionNone
	}
	if o.AllowOutsideRoot {
		opts.LoadRestrictions = types.LoadRestrictionsNone
	}
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	if o.Image != "" {
		if err := SetManagerImage(m, o.Image); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// BuildYAML builds the kustomization in dir into one multi-document YAML
// stream.
func BuildYAML(dir string, o BuildOptions) ([]byte, error) {
	m, err := Build(dir, o)
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

// SetManagerImage sets the image of every container named "manager" in the
// Deployments of m. It fails when there is none, so that a renamed
// container cannot silently keep the default image.
func SetManagerImage(m resmap.ResMap, image string) error {
	found := 0
	for _, r := range m.Resources() {
		if r.GetKind() != "Deployment" {
			continue
		}
		c, err := r.Pipe(yaml.Lookup("spec", "template", "spec", "containers", "[name="+ManagerContainer+"]"))
		if err != nil {
			return fmt.Errorf("the Deployment %s: %w", r.GetName(), err)
		}
		if c == nil {
			continue
		}
		if err := c.PipeE(yaml.SetField("image", yaml.NewStringRNode(image))); err != nil {
			return fmt.Errorf("the Deployment %s: setting the image: %w", r.GetName(), err)
		}
		found++
	}
	if found == 0 {
		return fmt.Errorf("no Deployment with a container named %q to set the image %s on", ManagerContainer, image)
	}
	return nil
}

// Objects turns a build into plain objects, in build order.
func Objects(m resmap.ResMap) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, r := range m.Resources() {
		// Through YAML and JSON, so that every value is a plain JSON type
		// (int64, float64, string, bool, map, slice), as apimachinery
		// expects.
		b, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		u, err := decodeObject(b)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
		out = append(out, u)
	}
	return out, nil
}

// decodeObject decodes one YAML document into an object whose values are
// all plain JSON types (integers as int64), as apimachinery expects.
func decodeObject(b []byte) (*unstructured.Unstructured, error) {
	j, err := sigsyaml.YAMLToJSON(b)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		return nil, err
	}
	return u, nil
}

// Kustomizations lists the directories (relative to root, with forward
// slashes, sorted) under root/config that hold a kustomization file.
func Kustomizations(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(filepath.Join(root, "config"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch d.Name() {
		case "kustomization.yaml", "kustomization.yml", "Kustomization":
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			dirs = append(dirs, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(dirs)
	return dirs, err
}

// WriteFile writes b to path (creating its directory) unless path already
// holds exactly b, so that an unchanged output keeps its modification time.
func WriteFile(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
