package delivery

import (
	"fmt"
	"sort"

	"github.com/operator-framework/api/pkg/manifests"
	"github.com/operator-framework/api/pkg/validation"
	"github.com/operator-framework/api/pkg/validation/errors"
)

// BundleValidators are the checks of `operator-sdk bundle validate
// --select-optional suite=operatorframework`: the default bundle
// validators (CSV, CRDs, bundle) plus OperatorHub (its current form: the
// v2 checks, capabilities and categories), deprecated APIs and good
// practices.
var BundleValidators = validation.DefaultBundleValidators.WithValidators(
	validation.OperatorHubV2Validator,
	validation.StandardCapabilitiesValidator,
	validation.StandardCategoriesValidator,
	validation.AlphaDeprecatedAPIsValidator,
	validation.GoodPracticesValidator,
)

// ValidateBundle loads the bundle in dir (the directory that holds
// manifests/ and metadata/) and runs BundleValidators on it. k8sVersion,
// when set, is the Kubernetes version the deprecated-API check targets.
// It returns every error and every warning, each as one line.
func ValidateBundle(dir, k8sVersion string) (errs, warns []string, err error) {
	bundle, err := manifests.GetBundleFromDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("loading the bundle in %s: %w", dir, err)
	}
	objs := bundle.ObjectsToValidate()
	if k8sVersion != "" {
		objs = append(objs, map[string]string{"k8s-version": k8sVersion})
	}
	for _, r := range BundleValidators.Validate(objs...) {
		for _, e := range r.Errors {
			errs = append(errs, line(r, e))
		}
		for _, w := range r.Warnings {
			warns = append(warns, line(r, w))
		}
	}
	sort.Strings(errs)
	sort.Strings(warns)
	return errs, warns, nil
}

func line(r errors.ManifestResult, e errors.Error) string {
	if r.Name != "" {
		return r.Name + ": " + e.Error()
	}
	return e.Error()
}
