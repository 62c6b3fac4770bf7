package testenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// ManagerRoles are the manager's generated roles (config/rbac/role.yaml,
// written by `make manifests` from the markers): the ClusterRole, and the
// Roles for the namespaces it writes in besides its own (MetalLB's).
type ManagerRoles struct {
	Cluster *rbacv1.ClusterRole
	Roles   []*rbacv1.Role
}

// ReadManagerRoles reads config/rbac/role.yaml.
func ReadManagerRoles() (ManagerRoles, error) {
	var out ManagerRoles
	b, err := os.ReadFile(filepath.Join(RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		return out, err
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if err != nil {
			break // io.EOF: every document read
		}
		if len(bytes.TrimSpace(doc)) == 0 || bytes.Equal(bytes.TrimSpace(doc), []byte("---")) {
			continue
		}
		meta := &metav1.TypeMeta{}
		if err := yaml.Unmarshal(doc, meta); err != nil {
			return out, err
		}
		switch meta.Kind {
		case "ClusterRole":
			out.Cluster = &rbacv1.ClusterRole{}
			if err := yaml.UnmarshalStrict(doc, out.Cluster); err != nil {
				return out, err
			}
		case "Role":
			role := &rbacv1.Role{}
			if err := yaml.UnmarshalStrict(doc, role); err != nil {
				return out, err
			}
			out.Roles = append(out.Roles, role)
		default:
			return out, fmt.Errorf("config/rbac/role.yaml holds a %s", meta.Kind)
		}
	}
	if out.Cluster == nil {
		return out, fmt.Errorf("config/rbac/role.yaml holds no ClusterRole")
	}
	return out, nil
}

// Bind creates the roles under the given name, bound to the user, and
// returns what removes them again. Existing objects of that name (an
// earlier run's) are replaced, so the roles are this checkout's.
func (m ManagerRoles) Bind(ctx context.Context, c client.Client, name, user string) (func(), error) {
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
	cr := m.Cluster.DeepCopy()
	cr.ObjectMeta = metav1.ObjectMeta{Name: name}
	objs := []client.Object{cr, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   subject,
	}}
	for _, r := range m.Roles {
		role := r.DeepCopy()
		role.ObjectMeta = metav1.ObjectMeta{Namespace: r.Namespace, Name: name}
		objs = append(objs, role, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: r.Namespace, Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects:   subject,
		})
	}
	remove := func() {
		for _, o := range objs {
			_ = c.Delete(context.Background(), o)
		}
	}
	for _, o := range objs {
		if err := client.IgnoreNotFound(c.Delete(ctx, o)); err != nil {
			return remove, err
		}
		if err := c.Create(ctx, o); err != nil {
			return remove, fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	return remove, nil
}
