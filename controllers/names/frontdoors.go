package names

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxSubdomain is the longest DNS-1123 subdomain, the name rule of both
// HTTPRoutes and OpenShift Routes.
const maxSubdomain = 253

// HTTPRoute is the name of the HTTPRoute serving one host of
// spec.ingress.rules: <exposure>-<host with dashes>, and the Exposure's own
// name for the route without a host (hostless rule and default backend).
// Named after the host, not the rule's position, so reordering rules
// renames nothing and no route is deleted and recreated.
func HTTPRoute(exposure, host string) string { return hostName(exposure, host, "") }

// Route is the name of the OpenShift Route serving one host and path: like
// HTTPRoute for the path "/", with a short hash of the path otherwise.
func Route(exposure, host, path string) string { return hostName(exposure, host, path) }

func hostName(exposure, host, path string) string {
	base := exposure
	if host != "" {
		base += "-" + strings.ReplaceAll(strings.ReplaceAll(host, "*.", "wildcard."), ".", "-")
	}
	if path != "" && path != "/" {
		base += "-" + shortHash(path)
	}
	if len(base) <= maxSubdomain {
		return base
	}
	// Only a long host gets here; the hash keeps two long hosts apart.
	return strings.TrimRight(base[:maxSubdomain-11], "-") + "-" + shortHash(host+"/"+path)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:10]
}

// PortRoute is the name of the TCPRoute, TLSRoute or UDPRoute publishing
// one Service port: <exposure>-<port name> (at most 63+1+15 characters,
// well inside the subdomain limit).
func PortRoute(exposure, port string) string { return exposure + "-" + port }
