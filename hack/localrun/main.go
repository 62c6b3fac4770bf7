// Command localrun is `make run` on a machine without a cluster: it builds
// and starts the local cluster (test/cluster), installs the CRD, runs the
// operator, applies a sample, prints the Exposure's real addresses, and
// keeps everything running until Ctrl-C, when it stops every process it
// started.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

const (
	sampleNamespace = "shop"
	sample          = "samples/loadbalancer-metallb-pool.yaml"
	policy          = "samples/policy/operator-policy.yaml"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "localrun:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	start := time.Now()
	logs := io.Discard
	if os.Getenv("LOCALRUN_LOGS") != "" {
		logs = os.Stderr
	}
	fmt.Println("localrun: building and starting a local cluster (first run: builds the control plane from source, several minutes)")
	c, err := cluster.Start(ctx, cluster.Options{Progress: os.Stdout, Log: logs})
	if err != nil {
		return err
	}
	defer c.Stop()
	root := testenv.RepoRoot()
	if err := testenv.InstallCRDs(c.Config, filepath.Join(root, "config", "crd", "bases")); err != nil {
		return fmt.Errorf("installing the CRD: %w", err)
	}
	fmt.Println("localrun: starting the operator with the policy", policy)
	stop, err := cluster.RunOperator(c.Kubeconfig, filepath.Join(root, policy), logs)
	if err != nil {
		return err
	}
	defer stop()

	if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sampleNamespace}}); client.IgnoreAlreadyExists(err) != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(root, sample))
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &u.Object); err != nil {
		return err
	}
	u.SetNamespace(sampleNamespace)
	if err := c.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("localrun"), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s: %w", sample, err)
	}
	fmt.Printf("localrun: applied %s in namespace %s; waiting for Ready\n", sample, sampleNamespace)
	exp := &v1alpha1.Exposure{}
	for {
		if err := c.Client.Get(ctx, client.ObjectKey{Namespace: sampleNamespace, Name: u.GetName()}, exp); err == nil {
			if cnd := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionReady); cnd != nil && cnd.Status == metav1.ConditionTrue {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
	fmt.Printf("\nExposure %s/%s is Ready (%s after start). Its addresses, as the cluster's controllers wrote them:\n\n", exp.Namespace, exp.Name, time.Since(start).Round(time.Second))
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TYPE\tADDRESS\tPORT\tDETAIL")
	for _, a := range exp.Status.Addresses {
		addr := a.Address
		if addr == "" {
			addr = a.Hostname
		}
		detail := a.URL + a.Node + a.Pod
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", a.Type, addr, a.Port, detail)
	}
	_ = w.Flush()
	kubectl := "kubectl"
	if _, err := exec.LookPath("kubectl"); err != nil {
		kubectl = filepath.Join(root, "bin", "k8s", "current", "kubectl") + "   # build it first: hack/controlplane.sh kubectl"
	}
	fmt.Printf("\nThe cluster keeps running. Poke around with:\n  export KUBECONFIG=%s\n  %s get exposures -A\nCtrl-C stops everything.\n", c.Kubeconfig, kubectl)
	<-ctx.Done()
	fmt.Println("\nlocalrun: stopping")
	return nil
}
