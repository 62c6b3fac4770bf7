// Helper module that pins Traefik, the ingress controller of the local
// end-to-end cluster. Traefik's own go.mod has replace and exclude
// directives, which `go install module@version` refuses; they are repeated
// here. hack/controlplane.sh builds it into bin/.
module github.com/exposure-operator/exposure-operator/hack/traefikbin

go 1.26.0

replace (
	github.com/abbot/go-http-auth => github.com/containous/go-http-auth v0.4.1-0.20200324110947-a37a7636d23e
	github.com/gorilla/mux => github.com/containous/mux v0.0.0-20250523120546-41b6ec3aed59
	github.com/mailgun/minheap => github.com/containous/minheap v0.0.0-20190809180810-6e71eb837595
)

exclude github.com/tencentcloud/tencentcloud-sdk-go v3.0.83+incompatible
