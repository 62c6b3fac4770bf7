// Package scheme is the runtime scheme shared by the manager, the CLI and
// the tests: Kubernetes' built-in types plus the Exposure API.
package scheme

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	exposurev1alpha1 "github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// Scheme knows every type the operator reads or writes as a Go struct.
var Scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(Scheme))
	utilruntime.Must(exposurev1alpha1.AddToScheme(Scheme))
}
