package render

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// The Exposure embeds a few core types verbatim (env, resources, probes).
// Their apply configurations have the same JSON shape, and typed fields the
// user left out are omitted by their omitempty tags, so a JSON round trip
// carries exactly what the user wrote.
func viaJSON[T any](in any) *T {
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("render: marshal %T: %v", in, err))
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("render: unmarshal into %T: %v", out, err))
	}
	return out
}

func envVar(e corev1.EnvVar) *corev1ac.EnvVarApplyConfiguration {
	return viaJSON[corev1ac.EnvVarApplyConfiguration](e)
}

func resources(r *corev1.ResourceRequirements) *corev1ac.ResourceRequirementsApplyConfiguration {
	return viaJSON[corev1ac.ResourceRequirementsApplyConfiguration](r)
}

func probe(p *corev1.Probe) *corev1ac.ProbeApplyConfiguration {
	return viaJSON[corev1ac.ProbeApplyConfiguration](p)
}
