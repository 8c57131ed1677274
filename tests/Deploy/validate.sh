#!/usr/bin/env bash
# Deployment validation (run by scripts/test.sh): renders every kustomize overlay under
# k8s/overlays/ with `kubectl kustomize` and checks each render with validate.mjs (the Kubernetes
# schemas from the npm package kubernetes-models, offline, plus the PRH silo invariants).
# Then proves the validator catches mistakes: deliberately broken copies must be rejected.
# Installs what it needs on first run: npm deps into tests/Deploy/node_modules, kubectl (Debian).
set -uo pipefail
cd "$(dirname "$0")/../.."
here=tests/Deploy

# ---- dependencies ------------------------------------------------------------------------
deps_ok() {
  (cd "$here" && node --input-type=module -e \
    "await import('kubernetes-models/apps/v1'); await import('kubernetes-models/policy/v1'); await import('yaml');") >/dev/null 2>&1
}
for attempt in 1 2; do
  deps_ok && break
  rm -rf "$here/node_modules"
  npm install --prefix "$here" --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null 2>&1
done
deps_ok || { echo "deploy: could not install the npm packages of $here/package.json (2 attempts)" >&2; exit 1; }

if ! command -v kubectl >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq kubectl >/dev/null \
    || { echo "deploy: could not install kubectl (apt-get install kubectl)" >&2; exit 1; }
fi
kubectl kustomize k8s/base >/dev/null 2>&1 || { echo "deploy: 'kubectl kustomize k8s/base' does not work" >&2; kubectl kustomize k8s/base >&2; exit 1; }

# ---- every overlay -----------------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
validate() { # NAME KUSTOMIZATION_DIR: render, validate, one line
  local name=$1 dir=$2
  if ! kubectl kustomize "$dir" >"$tmp/$name.yaml" 2>"$tmp/$name.err"; then
    echo "deploy: $name: FAILED to render ($dir)"; sed 's/^/  /' "$tmp/$name.err"; status=1; return
  fi
  if node "$here/validate.mjs" --label "$name" "$tmp/$name.yaml" >"$tmp/$name.out" 2>&1; then
    echo "deploy: $name: ok, $(head -n 1 "$tmp/$name.out" | sed 's/^.*valid: //') valid (replicas: $(awk '$1=="Deployment"{printf "%s%s=%s", sep, $2, $4; sep=" "}' "$tmp/$name.out"))"
  else
    echo "deploy: $name: INVALID"; sed 's/^/  /' "$tmp/$name.out"; status=1
  fi
}
for dir in k8s/overlays/*/; do
  validate "$(basename "$dir")" "$dir"
done
# The optional in-cluster Redis component, on top of dev (kustomize wants relative paths).
rm -rf "$tmp/k8s" && cp -r k8s "$tmp/k8s" && mkdir -p "$tmp/k8s/overlays/dev+redis"
printf '%s\n' 'resources: [../dev]' 'components: [../../components/redis]' >"$tmp/k8s/overlays/dev+redis/kustomization.yaml"
validate dev+redis "$tmp/k8s/overlays/dev+redis"

# ---- negative self-checks: broken copies must be rejected, for the right reason ----------
broken() { # NAME RULE SED_SCRIPT FILE: break a copy of k8s/ and expect "[RULE]" from the validator
  local name=$1 rule=$2 script=$3 file=$4
  rm -rf "$tmp/broken" && cp -r k8s "$tmp/broken"
  sed -i "$script" "$tmp/broken/$file"
  if cmp -s "k8s/$file" "$tmp/broken/$file"; then
    echo "deploy: negative check $name: the sed script changed nothing in $file"; status=1; return
  fi
  if ! kubectl kustomize "$tmp/broken/overlays/production" >"$tmp/broken.yaml" 2>&1; then
    echo "deploy: negative check $name: the broken copy did not render"; status=1; return
  fi
  if node "$here/validate.mjs" "$tmp/broken.yaml" >"$tmp/broken.out" 2>&1; then
    echo "deploy: negative check $name: FAILED, the validator accepted a broken render"; status=1
  elif ! grep -q "\[$rule\]" "$tmp/broken.out"; then
    echo "deploy: negative check $name: FAILED, rejected but without a [$rule] error:"; sed 's/^/  /' "$tmp/broken.out"; status=1
  else
    echo "deploy: negative check $name: rejected as expected: $(grep -m 1 "\[$rule\]" "$tmp/broken.out" | sed 's/^ *//')"
  fi
}
broken no-readiness-probe probes '/readinessProbe:/,/failureThreshold:/d' base/silo-cpu.yaml
broken literal-connection-string secrets \
  '/name: PRH_Store__BlobConnectionString/,/optional: true/c\            - name: PRH_Store__BlobConnectionString\n              value: "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k"' base/silo-gpu.yaml
broken schema-type schema 's/containerPort: 11111/containerPort: "11111"/' base/silo-cpu.yaml
broken grace-period shutdown 's/terminationGracePeriodSeconds: 90/terminationGracePeriodSeconds: 30/' base/silo-gpu.yaml
broken cluster-id-not-from-labels kubernetes-hosting '/name: ORLEANS_CLUSTER_ID/,/fieldPath:/d' base/silo-cpu.yaml
broken pods-not-deletable rbac 's/"patch", "delete"/"patch"/' base/rbac.yaml
broken client-other-cluster client-cluster '/name: prh-sweep-example/,/value:/s/value: prh-production/value: elsewhere/' overlays/production/kustomization.yaml

exit $status
