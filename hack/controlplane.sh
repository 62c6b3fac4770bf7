#!/usr/bin/env bash
# Builds the real Kubernetes control plane from the Go module proxy into bin/.
#
#   hack/controlplane.sh [component ...]
#
# Components: kube-apiserver etcd kube-controller-manager kube-scheduler kubectl
# (default: kube-apiserver etcd, what the integration tests need), and the
# end-to-end cluster's parts: kwok, metallb-controller, traefik
# ("e2e" builds everything the end-to-end cluster needs).
#
# Versions are pinned by hack/k8sbins/go.mod + go.sum. Binaries land in
# bin/k8s/<key>/, where <key> is a hash of that go.sum, so a version bump
# rebuilds and an unchanged pin is a no-op. bin/k8s/current points at the
# newest build; KUBEBUILDER_ASSETS=bin/k8s/current is what envtest reads.
# Prints the asset directory on its last line.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
helper="$root/hack/k8sbins"
k8s_version=$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$helper/go.mod")
key=$(cat "$helper/go.sum" "$helper/go.mod" | sha256sum | cut -c1-12)
out="$root/bin/k8s/$key"

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(kube-apiserver etcd)
if [ "${components[*]}" = e2e ]; then
  components=(kube-apiserver etcd kube-controller-manager kube-scheduler kwok metallb-controller traefik)
fi

# Versions of the parts that are not Kubernetes itself. Changing one
# rebuilds it: the version is part of the binary's cache name.
KWOK_VERSION=v0.8.0
METALLB_VERSION=v0.16.1
TRAEFIK_VERSION=$(awk '$1=="github.com/traefik/traefik/v3" {print $2; exit}' "$root/hack/traefikbin/go.mod")

fail() { echo "controlplane.sh: $*" >&2; exit 1; }

package_of() {
  case "$1" in
    kwok) echo "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" ;;
    metallb-controller) echo "go.universe.tf/metallb/controller@$METALLB_VERSION" ;;
    traefik) echo "github.com/traefik/traefik/v3/cmd/traefik" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl) echo "k8s.io/kubernetes/cmd/$1" ;;
    etcd) echo "go.etcd.io/etcd/server/v3" ;;
    *) fail "unknown component '$1' (want kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kubectl, kwok, metallb-controller, traefik or e2e)" ;;
  esac
}

major=${k8s_version#v}; major=${major%%.*}
minor=${k8s_version#v*.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

mkdir -p "$out"
for c in "${components[@]}"; do
  pkg=$(package_of "$c")
  case "$c" in
    kwok) ver=$KWOK_VERSION ;; metallb-controller) ver=$METALLB_VERSION ;; traefik) ver=$TRAEFIK_VERSION ;; *) ver=$k8s_version ;;
  esac
  if [ -x "$out/$c" ] && [ "$(cat "$out/.$c.version" 2>/dev/null)" = "$ver" ]; then
    continue
  fi
  echo "controlplane.sh: building $c $ver ($pkg) ..." >&2
  start=$(date +%s)
  tmp=$(mktemp -d "$out/.build-XXXXXX")
  # Kubernetes builds in the pinned helper module; kwok and MetalLB with
  # their own go.mod (module@version); Traefik in its helper module.
  dir="$helper"; flags=(-trimpath "-ldflags=$ldflags")
  case "$c" in
    kwok|metallb-controller) dir="$tmp"; flags=(-trimpath) ;;
    traefik) dir="$root/hack/traefikbin"; flags=(-trimpath) ;;
  esac
  if ! (cd "$dir" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod GOBIN="$tmp" \
        go install "${flags[@]}" "$pkg"); then
    rm -rf "$tmp"
    fail "step 'go install $pkg' failed (see the compiler output above)"
  fi
  built="$tmp/$(basename "${pkg%@*}")"
  [ "$c" = etcd ] && built="$tmp/v3"   # the etcd server's main package is its module root
  [ -x "$built" ] || built=$(find "$tmp" -maxdepth 1 -type f -perm -u+x | head -1)
  [ -n "$built" ] && [ -x "$built" ] || { rm -rf "$tmp"; fail "step 'install $c': no binary came out of go install"; }
  mv "$built" "$out/$c"
  echo "$ver" > "$out/.$c.version"
  rm -rf "$tmp"
  echo "controlplane.sh: built $c in $(( $(date +%s) - start ))s" >&2
done

ln -sfn "$key" "$root/bin/k8s/current"
"$out/kube-apiserver" --version >/dev/null 2>&1 || [ ! -e "$out/kube-apiserver" ] || fail "step 'verify': $out/kube-apiserver does not run"
echo "$out"
