package manager_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-operator/exposure-operator/internal/manager"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// serviceAccountToken creates a ServiceAccount and returns a token for it,
// as a Prometheus in the cluster would hold.
func serviceAccountToken(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
	if err := env.Client.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrInt64(600)}}
	if err := env.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatalf("requesting a token for %s: %v", name, err)
	}
	return tr.Status.Token
}

func ptrInt64(v int64) *int64 { return &v }

// TestSecureMetricsAuthenticateAndAuthorize: the HTTPS metrics endpoint
// answers 401 without a token or with a bad one, 403 to a caller not
// allowed "get /metrics", and the metrics to one bound to the
// metrics-reader rules.
func TestSecureMetricsAuthenticateAndAuthorize(t *testing.T) {
	ctx := context.Background()
	reader := serviceAccountToken(t, "scraper")
	stranger := serviceAccountToken(t, "stranger")
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "test-metrics-reader"},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "test-metrics-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "default", Name: "scraper"}}}
	if err := env.Client.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	o := manager.DefaultOptions()
	o.MetricsAddr, o.ProbeAddr, o.MetricsSecure = addr, "0", true
	mgr, err := manager.New(env.Config, o)
	if err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager stopped with %v", err)
		}
	}()

	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		// The manager serves a self-signed certificate when given none.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // a test of authentication, not of the certificate
	get := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	testenv.Eventually(t, 30*time.Second, func() string {
		if code, body := get(""); code != http.StatusUnauthorized {
			return fmt.Sprintf("without a token: %d %.80s", code, body)
		}
		return ""
	})
	for _, c := range []struct {
		who, token string
		want       int
	}{
		{"a token the API server does not know", "not-a-token", http.StatusUnauthorized},
		{"a service account without the grant", stranger, http.StatusForbidden},
		{"the metrics reader", reader, http.StatusOK},
		{"the metrics reader again (cached)", reader, http.StatusOK},
	} {
		code, body := get(c.token)
		if code != c.want {
			t.Errorf("%s: HTTP %d (%.120s), want %d", c.who, code, body, c.want)
		}
		if c.want == http.StatusOK && len(body) < 100 {
			t.Errorf("%s: no metrics in %q", c.who, body)
		}
	}
}
