#!/usr/bin/env bash
# Builds the real Kubernetes control plane from the Go module proxy into bin/.
#
#   hack/controlplane.sh [component ...]
#
# Components: kube-apiserver etcd kube-controller-manager kube-scheduler kubectl
# (default: kube-apiserver etcd, what the integration tests need).
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

fail() { echo "controlplane.sh: $*" >&2; exit 1; }

package_of() {
  case "$1" in
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl) echo "k8s.io/kubernetes/cmd/$1" ;;
    etcd) echo "go.etcd.io/etcd/server/v3" ;;
    *) fail "unknown component '$1' (want kube-apiserver, etcd, kube-controller-manager, kube-scheduler or kubectl)" ;;
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
  if [ -x "$out/$c" ]; then
    continue
  fi
  echo "controlplane.sh: building $c ($pkg, Kubernetes $k8s_version) ..." >&2
  start=$(date +%s)
  tmp=$(mktemp -d "$out/.build-XXXXXX")
  if ! (cd "$helper" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod GOBIN="$tmp" \
        go install -trimpath -ldflags "$ldflags" "$pkg"); then
    rm -rf "$tmp"
    fail "step 'go install $pkg' failed (see the compiler output above)"
  fi
  built="$tmp/$(basename "$pkg")"
  [ "$c" = etcd ] && built="$tmp/v3"   # the etcd server's main package is its module root
  [ -x "$built" ] || built=$(find "$tmp" -maxdepth 1 -type f -perm -u+x | head -1)
  [ -n "$built" ] && [ -x "$built" ] || { rm -rf "$tmp"; fail "step 'install $c': no binary came out of go install"; }
  mv "$built" "$out/$c"
  rm -rf "$tmp"
  echo "controlplane.sh: built $c in $(( $(date +%s) - start ))s" >&2
done

ln -sfn "$key" "$root/bin/k8s/current"
"$out/kube-apiserver" --version >/dev/null 2>&1 || [ ! -e "$out/kube-apiserver" ] || fail "step 'verify': $out/kube-apiserver does not run"
echo "$out"
