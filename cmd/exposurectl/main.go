// Command exposurectl works with Exposure manifests offline:
//
//	exposurectl render -f exposure.yaml [--policy policy.yaml]
//	exposurectl validate -f exposure.yaml
//
// render prints the objects the operator would create, using the
// operator's own render code and policy checks; validate runs the CRD's
// OpenAPI schema and CEL rules with the API server's own libraries.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/config/crd"
	"github.com/exposure-operator/exposure-operator/controllers/policy"
	"github.com/exposure-operator/exposure-operator/controllers/render"
	"github.com/exposure-operator/exposure-operator/internal/offline"
)

const usage = `exposurectl works with Exposure manifests offline.

  exposurectl render -f FILE [--policy POLICY] [--namespace NS]
      Print the objects the operator would create for each Exposure in FILE
      ("-" for standard input), as YAML. With --policy, first check the
      Exposure against the admin's policy, as the operator does.

  exposurectl validate -f FILE
      Check each Exposure in FILE against the CRD's OpenAPI schema and CEL
      rules, as the API server would at admission. What only a cluster can
      tell (names already taken, MetalLB pools overlapping, Secrets present)
      is not checked offline.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "render":
		err = runRender(os.Args[2:], os.Stdout)
	case "validate":
		err = runValidate(os.Args[2:], os.Stdout)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		err = fmt.Errorf("unknown command %q\n\n%s", os.Args[1], usage)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "exposurectl:", err)
		os.Exit(1)
	}
}

func runRender(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	file := fs.String("f", "", "the Exposure manifest (- for standard input)")
	policyFile := fs.String("policy", "", "the admin's policy file (OperatorPolicy)")
	namespace := fs.String("namespace", "default", "namespace for Exposures that name none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	docs, err := readDocs(*file)
	if err != nil {
		return err
	}
	pol, _, err := policy.Load(*policyFile)
	if err != nil {
		return err
	}
	opts := render.DefaultOptions()
	if pol.MetalLBNamespace != "" {
		opts.MetalLBNamespace = pol.MetalLBNamespace
	}
	for _, d := range docs {
		exp := &v1alpha1.Exposure{}
		if err := yaml.UnmarshalStrict(d, exp); err != nil {
			return fmt.Errorf("reading the Exposure: %w", err)
		}
		if exp.Namespace == "" {
			exp.Namespace = *namespace
		}
		if *policyFile != "" {
			// The namespace's labels are not known offline: grants by
			// namespace name apply, label selectors do not.
			if vs := policy.Check(exp, pol.For(exp.Namespace, nil)); len(vs) > 0 {
				for _, v := range vs {
					fmt.Fprintln(os.Stderr, "policy:", v)
				}
				return fmt.Errorf("the policy refuses Exposure %s/%s", exp.Namespace, exp.Name)
			}
		}
		objs, err := render.Render(exp, opts)
		if err != nil {
			return err
		}
		for _, o := range objs {
			b, err := yaml.Marshal(o.Object)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "---\n%s", b)
		}
	}
	return nil
}

func runValidate(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	file := fs.String("f", "", "the Exposure manifest (- for standard input)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	docs, err := readDocs(*file)
	if err != nil {
		return err
	}
	v, err := offline.NewValidator(crd.Exposure)
	if err != nil {
		return err
	}
	invalid := 0
	for _, d := range docs {
		// Decode as the API server does: whole numbers as int64, which
		// the schema's integer types and CEL expect.
		j, err := yaml.YAMLToJSON(d)
		if err != nil {
			return err
		}
		obj := map[string]any{}
		if err := utiljson.Unmarshal(j, &obj); err != nil {
			return err
		}
		meta, _ := obj["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		errs := v.Validate(context.Background(), obj)
		if len(errs) == 0 {
			fmt.Fprintf(out, "Exposure %s: valid\n", name)
			continue
		}
		invalid++
		for _, e := range errs {
			fmt.Fprintf(out, "Exposure %s: %s\n", name, e.Error())
		}
	}
	if invalid > 0 {
		return fmt.Errorf("%d of %d Exposures are invalid", invalid, len(docs))
	}
	return nil
}

func readDocs(file string) ([][]byte, error) {
	if file == "" {
		return nil, errors.New("-f FILE is required")
	}
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var docs [][]byte
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
}
