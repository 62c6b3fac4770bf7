package delivery

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsyaml "sigs.k8s.io/yaml"
)

// Where the bundle's inputs and outputs live, relative to the repository
// root.
const (
	ManifestsDir     = "config/manifests"
	IconFile         = "config/manifests/icon.svg"
	BundleDir        = "bundle"
	BundleDockerfile = "bundle.Dockerfile"
)

// RelatedImageName is the name of the manager image in the CSV's
// relatedImages.
const RelatedImageName = "manager"

// BundleOptions are the release settings of a bundle (the Makefile's
// VERSION, IMG, BUNDLE_CREATED_AT and channel settings).
type BundleOptions struct {
	// Root is the repository root.
	Root string
	// Package is the OLM package name; the CSV is named <Package>.v<Version>.
	Package string
	// Version is the operator's semantic version, without a leading v.
	Version string
	// Image is the manager image.
	Image string
	// CreatedAt is the CSV's createdAt annotation (RFC 3339). It is a
	// setting, never the clock, so that generating twice gives no diff.
	CreatedAt string
	// Channels are the channels the bundle is published to.
	Channels []string
	// DefaultChannel is the package's default channel; one of Channels.
	DefaultChannel string
}

var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

func (o BundleOptions) check() error {
	var errs []string
	if o.Package == "" {
		errs = append(errs, "no package name")
	}
	if !semverRE.MatchString(o.Version) {
		errs = append(errs, fmt.Sprintf("version %q is not a semantic version (MAJOR.MINOR.PATCH, no leading v)", o.Version))
	}
	if o.Image == "" {
		errs = append(errs, "no manager image")
	}
	if _, err := time.Parse(time.RFC3339, o.CreatedAt); err != nil {
		errs = append(errs, fmt.Sprintf("createdAt %q is not an RFC 3339 time (e.g. 2026-11-22T00:00:00Z)", o.CreatedAt))
	}
	if len(o.Channels) == 0 {
		errs = append(errs, "no channels")
	}
	if !slices.Contains(o.Channels, o.DefaultChannel) {
		errs = append(errs, fmt.Sprintf("default channel %q is not one of the channels %v", o.DefaultChannel, o.Channels))
	}
	if len(errs) > 0 {
		return fmt.Errorf("bundle settings: %s", strings.Join(errs, "; "))
	}
	return nil
}

// GenerateBundle builds config/manifests (the default install plus the
// samples and the hand-written base of the ClusterServiceVersion) and
// turns it into an OLM registry+v1 bundle, the way `operator-sdk generate
// bundle` does:
//
//   - the Deployment becomes the CSV's install strategy;
//   - Roles and ClusterRoles bound to the Deployment's service account
//     become its permissions and clusterPermissions (a Role bound in
//     another namespace than the Deployment's becomes clusterPermissions:
//     OLM grants permissions in its install namespace only; OLM creates the
//     account and the bindings); roles bound to no one stay as manifests;
//   - the Namespace, the ServiceAccount and the bindings are dropped (OLM
//     installs into the namespace the admin picks);
//   - instances of the bundle's CRDs become the alm-examples;
//   - CRDs and every other object (Services, ConfigMaps, ...) are written
//     to bundle/manifests/ without a namespace.
//
// It returns the files by path relative to the root: bundle/manifests/*,
// bundle/metadata/annotations.yaml and bundle.Dockerfile.
func GenerateBundle(o BundleOptions) (map[string][]byte, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	m, err := Build(filepath.Join(o.Root, ManifestsDir), BuildOptions{
		Image:            o.Image,
		AllowOutsideRoot: true,
		// The samples' order is the alm-examples' order: the console
		// offers the first one in its create form.
		KeepOrder: true,
	})
	if err != nil {
		return nil, err
	}
	objs, err := Objects(m)
	if err != nil {
		return nil, err
	}

	var (
		csvs, crds, deployments, roles, bindings, rest []*unstructured.Unstructured
	)
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		switch {
		case gvk.Group == "operators.coreos.com" && gvk.Kind == "ClusterServiceVersion":
			csvs = append(csvs, u)
		case gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition":
			crds = append(crds, u)
		case gvk.Group == "apps" && gvk.Kind == "Deployment":
			deployments = append(deployments, u)
		case gvk.Group == "rbac.authorization.k8s.io" && (gvk.Kind == "Role" || gvk.Kind == "ClusterRole"):
			roles = append(roles, u)
		case gvk.Group == "rbac.authorization.k8s.io" && (gvk.Kind == "RoleBinding" || gvk.Kind == "ClusterRoleBinding"):
			bindings = append(bindings, u)
		case gvk.Group == "" && (gvk.Kind == "Namespace" || gvk.Kind == "ServiceAccount"):
			// OLM installs into the namespace the admin picks and creates
			// the service accounts the install strategy names.
		default:
			rest = append(rest, u)
		}
	}
	if len(csvs) != 1 {
		return nil, fmt.Errorf("%s: want exactly one ClusterServiceVersion, found %d", ManifestsDir, len(csvs))
	}
	if len(deployments) == 0 {
		return nil, fmt.Errorf("%s: no Deployment to install", ManifestsDir)
	}

	// Instances of the bundle's own CRDs are examples; everything else is
	// shipped as a manifest.
	served := map[schema.GroupVersionKind]bool{}
	for _, crd := range crds {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			if name, ok := v.(map[string]any)["name"].(string); ok {
				served[schema.GroupVersionKind{Group: group, Version: name, Kind: kind}] = true
			}
		}
	}
	var examples, extra []*unstructured.Unstructured
	for _, u := range rest {
		if served[u.GroupVersionKind()] {
			examples = append(examples, u)
		} else {
			extra = append(extra, u)
		}
	}

	strategy, unbound, err := installStrategy(deployments, roles, bindings)
	if err != nil {
		return nil, err
	}
	extra = append(extra, unbound...)

	icon, err := os.ReadFile(filepath.Join(o.Root, IconFile))
	if err != nil {
		return nil, err
	}
	csv, err := fillCSV(csvs[0], o, strategy, examples, crds, icon)
	if err != nil {
		return nil, err
	}

	files := map[string][]byte{}
	add := func(name string, obj map[string]any) error {
		path := BundleDir + "/manifests/" + name
		if _, dup := files[path]; dup {
			return fmt.Errorf("two bundle manifests would be written to %s", path)
		}
		b, err := sigsyaml.Marshal(obj)
		if err != nil {
			return err
		}
		files[path] = b
		return nil
	}
	if err := add(o.Package+".clusterserviceversion.yaml", csv); err != nil {
		return nil, err
	}
	for _, crd := range crds {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		if err := add(group+"_"+plural+".yaml", crd.Object); err != nil {
			return nil, err
		}
	}
	for _, u := range extra {
		unstructured.RemoveNestedField(u.Object, "metadata", "namespace")
		gvk := u.GroupVersionKind()
		name := u.GetName() + "_"
		if gvk.Group != "" {
			name += gvk.Group + "_"
		}
		name += gvk.Version + "_" + strings.ToLower(gvk.Kind) + ".yaml"
		if err := add(name, u.Object); err != nil {
			return nil, err
		}
	}
	files[BundleDir+"/metadata/annotations.yaml"] = annotationsYAML(o)
	files[BundleDockerfile] = dockerfile(o)
	return files, nil
}

// bundleLabels are the bundle's metadata, in the order both
// metadata/annotations.yaml and the bundle image's labels list them.
func bundleLabels(o BundleOptions) [][2]string {
	return [][2]string{
		{"operators.operatorframework.io.bundle.mediatype.v1", "registry+v1"},
		{"operators.operatorframework.io.bundle.manifests.v1", "manifests/"},
		{"operators.operatorframework.io.bundle.metadata.v1", "metadata/"},
		{"operators.operatorframework.io.bundle.package.v1", o.Package},
		{"operators.operatorframework.io.bundle.channels.v1", strings.Join(o.Channels, ",")},
		{"operators.operatorframework.io.bundle.channel.default.v1", o.DefaultChannel},
	}
}

const generatedBy = "Generated by `make bundle` (hack/kustomizebuild) from config/manifests; do not edit."

func annotationsYAML(o BundleOptions) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\nannotations:\n", generatedBy)
	for _, l := range bundleLabels(o) {
		v, _ := json.Marshal(l[1]) // a quoted YAML scalar
		fmt.Fprintf(&b, "  %s: %s\n", l[0], v)
	}
	return b.Bytes()
}

func dockerfile(o BundleOptions) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n# Build from the repository root: docker build -f bundle.Dockerfile -t <bundle image> .\nFROM scratch\n\n", generatedBy)
	for _, l := range bundleLabels(o) {
		fmt.Fprintf(&b, "LABEL %s=%s\n", l[0], l[1])
	}
	b.WriteString("\nCOPY bundle/manifests /manifests/\nCOPY bundle/metadata /metadata/\n")
	return b.Bytes()
}

// installStrategy makes the CSV's deployment install strategy. It returns
// the roles that are bound to none of the deployments' service accounts,
// which are shipped as plain manifests.
func installStrategy(deployments, roles, bindings []*unstructured.Unstructured) (map[string]any, []*unstructured.Unstructured, error) {
	accounts := map[string]bool{}
	installNS := map[string]bool{}
	var specs []any
	for _, d := range deployments {
		installNS[d.GetNamespace()] = true
		spec, ok := d.Object["spec"].(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("the Deployment %s has no spec", d.GetName())
		}
		sa, _, _ := unstructured.NestedString(spec, "template", "spec", "serviceAccountName")
		if sa == "" {
			return nil, nil, fmt.Errorf("the Deployment %s names no serviceAccountName: OLM would run it as the namespace's default account", d.GetName())
		}
		accounts[sa] = true
		entry := map[string]any{"name": d.GetName(), "spec": spec}
		if l := d.GetLabels(); len(l) > 0 {
			labels := map[string]any{}
			for k, v := range l {
				labels[k] = v
			}
			entry["label"] = labels
		}
		specs = append(specs, entry)
	}

	type roleKey struct{ kind, name string }
	byKey := map[roleKey]*unstructured.Unstructured{}
	for _, r := range roles {
		byKey[roleKey{r.GetKind(), r.GetName()}] = r
	}
	used := map[roleKey]bool{}
	// service account -> rules, for namespaced and cluster-wide grants.
	perms, clusterPerms := map[string][]any{}, map[string][]any{}
	for _, b := range bindings {
		kind, _, _ := unstructured.NestedString(b.Object, "roleRef", "kind")
		name, _, _ := unstructured.NestedString(b.Object, "roleRef", "name")
		key := roleKey{kind, name}
		role, ok := byKey[key]
		if !ok {
			return nil, nil, fmt.Errorf("%s %s refers to %s %s, which is not in the build", b.GetKind(), b.GetName(), kind, name)
		}
		subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
		for _, s := range subjects {
			sm, _ := s.(map[string]any)
			if sm["kind"] != "ServiceAccount" || !accounts[fmt.Sprint(sm["name"])] {
				return nil, nil, fmt.Errorf("%s %s binds %v, which is not the service account of a Deployment in the bundle; OLM cannot create that binding", b.GetKind(), b.GetName(), sm)
			}
			sa := sm["name"].(string)
			rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
			// OLM grants a CSV's permissions in the namespace it installs
			// into only: a Role bound in another namespace (the manager's
			// Role in MetalLB's namespace) can only become cluster-wide
			// permissions there.
			if b.GetKind() == "ClusterRoleBinding" || !installNS[b.GetNamespace()] {
				clusterPerms[sa] = appendRules(clusterPerms[sa], rules)
			} else {
				perms[sa] = appendRules(perms[sa], rules)
			}
		}
		used[key] = true
	}
	var unbound []*unstructured.Unstructured
	for _, r := range roles {
		if !used[roleKey{r.GetKind(), r.GetName()}] {
			unbound = append(unbound, r)
		}
	}

	spec := map[string]any{"deployments": specs}
	if p := permissionList(perms); p != nil {
		spec["permissions"] = p
	}
	if p := permissionList(clusterPerms); p != nil {
		spec["clusterPermissions"] = p
	}
	return map[string]any{"strategy": "deployment", "spec": spec}, unbound, nil
}

// appendRules appends the rules that are not already in list: two roles
// granting the same rule give it once.
func appendRules(list, rules []any) []any {
	seen := map[string]bool{}
	for _, r := range list {
		b, _ := json.Marshal(r)
		seen[string(b)] = true
	}
	for _, r := range rules {
		b, _ := json.Marshal(r)
		if !seen[string(b)] {
			seen[string(b)] = true
			list = append(list, r)
		}
	}
	return list
}

func permissionList(bySA map[string][]any) []any {
	var names []string
	for sa := range bySA {
		names = append(names, sa)
	}
	sort.Strings(names)
	var out []any
	for _, sa := range names {
		out = append(out, map[string]any{"serviceAccountName": sa, "rules": bySA[sa]})
	}
	return out
}

// fillCSV completes the hand-written base of the ClusterServiceVersion.
func fillCSV(base *unstructured.Unstructured, o BundleOptions, strategy map[string]any, examples, crds []*unstructured.Unstructured, icon []byte) (map[string]any, error) {
	csv := base.DeepCopy()
	csv.SetName(o.Package + ".v" + o.Version)
	csv.SetNamespace("")
	unstructured.RemoveNestedField(csv.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(csv.Object, "status")

	var list []any
	for _, e := range examples {
		obj := e.DeepCopy()
		obj.SetNamespace("")
		list = append(list, obj.Object)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: no example instances of the bundle's CRDs (alm-examples)", ManifestsDir)
	}
	almExamples, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, err
	}
	ann := csv.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann["alm-examples"] = string(almExamples)
	ann["containerImage"] = o.Image
	ann["createdAt"] = o.CreatedAt
	csv.SetAnnotations(ann)

	spec, ok := csv.Object["spec"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the base ClusterServiceVersion has no spec")
	}
	spec["version"] = o.Version
	spec["icon"] = []any{map[string]any{
		"base64data": base64.StdEncoding.EncodeToString(icon),
		"mediatype":  "image/svg+xml",
	}}
	spec["relatedImages"] = []any{map[string]any{"name": RelatedImageName, "image": o.Image}}
	spec["install"] = strategy

	// Every CRD in the bundle must be described as owned, with the version
	// and kind it serves.
	owned, _, _ := unstructured.NestedSlice(spec, "customresourcedefinitions", "owned")
	for _, crd := range crds {
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			version, _ := v.(map[string]any)["name"].(string)
			found := false
			for _, d := range owned {
				dm, _ := d.(map[string]any)
				if dm["name"] == crd.GetName() && dm["version"] == version && dm["kind"] == kind {
					found = true
				}
			}
			if !found {
				return nil, fmt.Errorf("the base ClusterServiceVersion describes no owned CRD %s %s %s: add it to spec.customresourcedefinitions.owned", crd.GetName(), version, kind)
			}
		}
	}
	return csv.Object, nil
}

// WriteBundle writes the generated files under root and removes any other
// file in bundle/, so that a manifest that is no longer generated does not
// linger.
func WriteBundle(root string, files map[string][]byte) error {
	dir := filepath.Join(root, BundleDir)
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if _, keep := files[filepath.ToSlash(rel)]; !keep {
			return os.Remove(path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := WriteFile(filepath.Join(root, filepath.FromSlash(name)), files[name]); err != nil {
			return err
		}
	}
	return nil
}

// DiffBundle compares generated files with what is under root: it lists
// the files that are missing, differ, or are in bundle/ without being
// generated.
func DiffBundle(root string, files map[string][]byte) ([]string, error) {
	var diffs []string
	var names []string
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		switch {
		case os.IsNotExist(err):
			diffs = append(diffs, name+": missing")
		case err != nil:
			return nil, err
		case !bytes.Equal(b, files[name]):
			diffs = append(diffs, name+": differs from a fresh generation")
		}
	}
	err := filepath.WalkDir(filepath.Join(root, BundleDir), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if _, ok := files[filepath.ToSlash(rel)]; !ok {
			diffs = append(diffs, filepath.ToSlash(rel)+": not generated any more")
		}
		return nil
	})
	if os.IsNotExist(err) {
		err = nil
	}
	return diffs, err
}
