package manager

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// The metrics endpoint lets in a caller whose bearer token the API server
// authenticates (TokenReview) and whose user may "get" the request's path
// (SubjectAccessReview on the non-resource URL), as the kube-rbac-proxy
// convention and controller-runtime's metrics filter do. It is written
// here, on two reviews, rather than taken from controller-runtime's
// pkg/metrics/filters: that package links the API server's whole
// authentication and authorization stack (k8s.io/apiserver and the CEL
// libraries) into the manager, 30 MB of its binary and 15 MiB of its
// resident memory for these two requests (docs/benchmarks.md).

// reviewTTL is how long a decision is kept, so that a scraper every few
// seconds costs two reviews a minute, not two per scrape; a denial is kept
// briefly so that a fixed binding takes effect soon.
const (
	allowTTL = time.Minute
	denyTTL  = 10 * time.Second
	// maxDecisions bounds the cache; it is cleared when full.
	maxDecisions = 1024
)

type decision struct {
	status  int
	message string
	until   time.Time
}

type metricsAuth struct {
	client client.Client
	now    func() time.Time

	mu        sync.Mutex
	decisions map[[sha256.Size]byte]decision
}

// metricsAuthFilter builds the filter for the manager's HTTPS metrics.
func metricsAuthFilter(cfg *rest.Config, hc *http.Client) (metricsserver.Filter, error) {
	s := runtime.NewScheme()
	utilruntime.Must(authenticationv1.AddToScheme(s))
	utilruntime.Must(authorizationv1.AddToScheme(s))
	c, err := client.New(cfg, client.Options{HTTPClient: hc, Scheme: s})
	if err != nil {
		return nil, fmt.Errorf("the metrics endpoint's review client: %w", err)
	}
	a := &metricsAuth{client: c, now: time.Now, decisions: map[[sha256.Size]byte]decision{}}
	return func(log logr.Logger, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d := a.decide(r.Context(), log, r)
			if d.status != http.StatusOK {
				http.Error(w, d.message, d.status)
				return
			}
			next.ServeHTTP(w, r)
		}), nil
	}, nil
}

func (a *metricsAuth) decide(ctx context.Context, log logr.Logger, r *http.Request) decision {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return decision{status: http.StatusUnauthorized, message: "Unauthorized: a bearer token is required"}
	}
	verb := strings.ToLower(r.Method)
	key := sha256.Sum256([]byte(token + "\x00" + verb + "\x00" + r.URL.Path))
	now := a.now()
	a.mu.Lock()
	d, cached := a.decisions[key]
	a.mu.Unlock()
	if cached && now.Before(d.until) {
		return d
	}
	d = a.review(ctx, log, token, verb, r.URL.Path)
	if d.status == http.StatusInternalServerError {
		return d // the API server could not answer: ask again next time
	}
	d.until = now.Add(denyTTL)
	if d.status == http.StatusOK {
		d.until = now.Add(allowTTL)
	}
	a.mu.Lock()
	if len(a.decisions) >= maxDecisions {
		clear(a.decisions)
	}
	a.decisions[key] = d
	a.mu.Unlock()
	return d
}

func (a *metricsAuth) review(ctx context.Context, log logr.Logger, token, verb, path string) decision {
	tr := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	if err := a.client.Create(ctx, tr); err != nil {
		log.Error(err, "metrics: TokenReview failed")
		return decision{status: http.StatusInternalServerError, message: "the token could not be reviewed"}
	}
	if !tr.Status.Authenticated {
		return decision{status: http.StatusUnauthorized, message: "Unauthorized"}
	}
	u := tr.Status.User
	extra := make(map[string]authorizationv1.ExtraValue, len(u.Extra))
	for k, v := range u.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra,
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb},
	}}
	if err := a.client.Create(ctx, sar); err != nil {
		log.Error(err, "metrics: SubjectAccessReview failed")
		return decision{status: http.StatusInternalServerError, message: "the request could not be authorized"}
	}
	if !sar.Status.Allowed {
		return decision{status: http.StatusForbidden, message: fmt.Sprintf("Forbidden: user %q may not %s %s", u.Username, verb, path)}
	}
	return decision{status: http.StatusOK}
}
