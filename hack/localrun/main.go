// Command localrun is `make run` on a machine without a cluster: it builds
// and starts the local cluster (test/cluster), installs the CRD, runs the
// operator, does the admin and tenant steps the samples name in their
// first comment lines (MetalLB pools, the namespace label the policy
// grants by, a TLS Secret, pods for the selector backend), applies every
// sample into one namespace, prints the Exposures' real addresses, and
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
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

const (
	// sampleNamespace is the namespace samples/policy/operator-policy.yaml
	// grants the samples' load-balancer addresses and networks to.
	sampleNamespace = "shop"
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
	// As in a cluster: the operator has its generated role, not admin.
	operatorKubeconfig, err := cluster.OperatorKubeconfig(ctx, c.Client, c.Kubeconfig)
	if err != nil {
		return err
	}
	defer os.Remove(operatorKubeconfig)
	stop, err := cluster.RunOperator(operatorKubeconfig, filepath.Join(root, policy), logs)
	if err != nil {
		return err
	}
	defer stop()

	fmt.Println("localrun: admin steps: MetalLB pools", poolNames(), "and the namespace", sampleNamespace, "labelled", cluster.SampleNamespaceLabels)
	if err := cluster.EnsureAdminPools(ctx, c.Client, cluster.SamplePools); err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sampleNamespace, Labels: cluster.SampleNamespaceLabels}}
	if err := c.Client.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		return err
	}
	samples, err := cluster.LoadSamples(root)
	if err != nil {
		return err
	}
	if err := cluster.PrepareSamples(ctx, c.Client, sampleNamespace, samples); err != nil {
		return err
	}
	for _, s := range samples {
		u := s.Exposure.DeepCopy()
		u.SetNamespace(sampleNamespace)
		if err := c.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("localrun"), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s: %w", s.File, err)
		}
	}
	fmt.Printf("localrun: applied the %d samples in namespace %s; waiting for Ready\n", len(samples), sampleNamespace)
	exps, err := waitReady(ctx, c.Client, samples)
	if err != nil || ctx.Err() != nil {
		return err
	}
	fmt.Printf("\nEvery sample is Ready (%s after start). Their addresses, as the cluster's controllers wrote them:\n\n", time.Since(start).Round(time.Second))
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EXPOSURE\tTYPE\tADDRESS\tPORT\tDETAIL")
	for _, exp := range exps {
		for _, a := range exp.Status.Addresses {
			addr := a.Address
			if addr == "" {
				addr = a.Hostname
			}
			detail := a.URL + a.Node + a.Pod
			if a.Interface != "" {
				detail += " " + a.Interface + " (" + a.NetworkAttachmentDefinition + ")"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", exp.Name, a.Type, addr, a.Port, detail)
		}
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

func poolNames() []string {
	var names []string
	for _, p := range cluster.SamplePools {
		names = append(names, p.Name)
	}
	return names
}

// waitReady waits until every sample's Exposure is Ready, saying every
// ten seconds which are not yet, and returns them in the samples' order.
func waitReady(ctx context.Context, c client.Client, samples []cluster.Sample) ([]*v1alpha1.Exposure, error) {
	exps := make([]*v1alpha1.Exposure, len(samples))
	last := time.Now()
	for {
		var waiting []string
		for i, s := range samples {
			exp := &v1alpha1.Exposure{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: sampleNamespace, Name: s.Exposure.GetName()}, exp); err != nil {
				if ctx.Err() != nil {
					return nil, nil
				}
				return nil, err
			}
			exps[i] = exp
			if cnd := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionReady); cnd == nil || cnd.Status != metav1.ConditionTrue || exp.Status.ObservedGeneration != exp.Generation {
				reason := "no status yet"
				if cnd != nil {
					reason = cnd.Reason + ": " + cnd.Message
				}
				waiting = append(waiting, exp.Name+" ("+reason+")")
			}
		}
		if len(waiting) == 0 {
			return exps, nil
		}
		if time.Since(last) > 10*time.Second {
			fmt.Printf("localrun: %d not Ready yet: %s\n", len(waiting), strings.Join(waiting, "; "))
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}
