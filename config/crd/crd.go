// Package crd embeds the generated Exposure CRD, so that tools (the
// offline validator of exposurectl) carry exactly the schema and CEL rules
// the API server enforces.
package crd

import _ "embed"

// Exposure is config/crd/bases/exposure.dev_exposures.yaml.
//
//go:embed bases/exposure.dev_exposures.yaml
var Exposure []byte
