// Command kustomizebuild builds the project's kustomizations and its OLM
// bundle with sigs.k8s.io/kustomize/api, so neither a kustomize nor an
// operator-sdk binary is needed. The Makefile's build-installer, deploy,
// undeploy, bundle and verify-bundle targets run it.
//
//	kustomizebuild build [-image IMG] [-o FILE] DIR
//	    Build the kustomization in DIR to FILE (default: stdout).
//	kustomizebuild bundle -version V -image IMG -created-at T -channels C -default-channel D [-check]
//	    Generate bundle/ and bundle.Dockerfile from config/manifests; with
//	    -check, write nothing and fail when the committed files differ.
//	kustomizebuild validate [-k8s-version V] [DIR]
//	    Run the operatorframework validators on the bundle in DIR (default
//	    bundle); fail on any error or warning.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/exposure-operator/exposure-operator/internal/delivery"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "bundle":
		err = bundle(os.Args[2:])
	case "validate":
		err = validate(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kustomizebuild:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kustomizebuild build [-image IMG] [-o FILE] DIR\n"+
		"       kustomizebuild bundle -version V -image IMG -created-at T -channels C -default-channel D [-check]\n"+
		"       kustomizebuild validate [-k8s-version V] [DIR]")
	os.Exit(2)
}

func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	image := fs.String("image", "", "manager image (default: the one config/manager sets)")
	out := fs.String("o", "", "output file (default: stdout)")
	outsideRoot := fs.Bool("load-restrictor-none", false, "allow files outside the kustomization's directory (needed by config/samples and config/manifests)")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		return errors.New("build: want exactly one kustomization directory")
	}
	dir := filepath.ToSlash(filepath.Clean(fs.Arg(0)))
	b, err := delivery.BuildYAML(dir, delivery.BuildOptions{
		Image:            *image,
		AllowOutsideRoot: *outsideRoot || delivery.OutsideRoot[dir],
	})
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return delivery.WriteFile(*out, b)
}

func bundle(args []string) error {
	fs := flag.NewFlagSet("bundle", flag.ExitOnError)
	o := delivery.BundleOptions{Root: "."}
	fs.StringVar(&o.Package, "package", "exposure-operator", "OLM package name")
	fs.StringVar(&o.Version, "version", "", "operator version (semver, no leading v)")
	fs.StringVar(&o.Image, "image", "", "manager image")
	fs.StringVar(&o.CreatedAt, "created-at", "", "the CSV's createdAt (RFC 3339); a fixed setting, never the clock")
	channels := fs.String("channels", "stable", "comma-separated channels")
	fs.StringVar(&o.DefaultChannel, "default-channel", "stable", "default channel")
	check := fs.Bool("check", false, "write nothing; fail when the committed bundle differs from a fresh generation")
	_ = fs.Parse(args)
	o.Channels = strings.Split(*channels, ",")
	files, err := delivery.GenerateBundle(o)
	if err != nil {
		return err
	}
	if *check {
		diffs, err := delivery.DiffBundle(o.Root, files)
		if err != nil {
			return err
		}
		if len(diffs) > 0 {
			return fmt.Errorf("the bundle is stale, run 'make bundle' and commit:\n  %s", strings.Join(diffs, "\n  "))
		}
		return nil
	}
	return delivery.WriteBundle(o.Root, files)
}

func validate(args []string) error {
	fs := flag.NewFlagSet("validate", flag.ExitOnError)
	k8s := fs.String("k8s-version", "", "Kubernetes version for the deprecated-API check")
	_ = fs.Parse(args)
	dir := delivery.BundleDir
	if fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	errs, warns, err := delivery.ValidateBundle(dir, *k8s)
	if err != nil {
		return err
	}
	for _, e := range errs {
		fmt.Println("ERROR:", e)
	}
	for _, w := range warns {
		fmt.Println("WARNING:", w)
	}
	fmt.Printf("%s: %d errors, %d warnings\n", dir, len(errs), len(warns))
	if len(errs)+len(warns) > 0 {
		return errors.New("the bundle does not validate cleanly")
	}
	return nil
}
