#!/usr/bin/env bash
# Builds the node tier's images with Debian's podman and loads them into the
# node's containerd: the pause image, a Node 24 base image, the simulated app and
# msop's own image from the project's Dockerfile (with the base passed as its
# NODE_IMAGE build argument). No image comes from a registry.
# Usage: images.sh [pause|base|sim-app|msop]...   (default: all of them). The base is built once
# per Node version; msop only when its inputs changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/env.sh"
log() { printf '[node-images] %s\n' "$*" >&2; }

node_bin=$root/node_modules/.bin/node
[ -x "$node_bin" ] || { echo "images.sh: $node_bin is missing; run \`make deps\` (the node devDependency provides Node 24)" >&2; exit 1; }
node_version=$("$node_bin" --version); node_version=${node_version#v}
# Checked here, not where the environment is sourced: up.sh installs it (deps.sh) after sourcing, and
# down.sh must clean up on a machine without it.
command -v podman >/dev/null || { echo "images.sh: podman is missing; hack/node/deps.sh installs it (as root), or: apt-get install -y --no-install-recommends podman runc" >&2; exit 1; }

PAUSE_IMAGE=localhost/msop-pause:1
BASE_IMAGE=localhost/msop-node-base:$node_version
SIM_IMAGE=localhost/sim-app:1
# The operator's tag names its inputs, so a changed source is a new image and `helm upgrade` rolls it.
MSOP_REPOSITORY=localhost/msop

# A root filesystem with the pinned node binary and the C libraries it links,
# busybox for the shell that RUN lines need, npm, CA certificates and the
# distroless nonroot user (65532).
build_base() {
  local fs; fs=$(mktemp -d)
  mkdir -p "$fs"/{bin,usr/bin,usr/local/bin,usr/local/lib/node_modules,etc/ssl/certs,tmp,root,home/nonroot}
  chmod 1777 "$fs/tmp"
  cp /bin/busybox "$fs/bin/busybox"
  local applet; for applet in sh ls cat cp mv rm mkdir ln chmod env grep sed tar gzip wget id; do
    ln -s busybox "$fs/bin/$applet"
  done
  ln -s ../../bin/env "$fs/usr/bin/env"
  cp "$(readlink -f "$node_bin")" "$fs/usr/local/bin/node"
  local lib; for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+'); do
    mkdir -p "$fs$(dirname "$lib")" && cp -L "$lib" "$fs$lib"
  done
  local tgz=$NODE_IMAGES/npm-$NPM_VERSION.tgz
  if [ ! -f "$tgz" ]; then
    mkdir -p "$NODE_IMAGES"
    (cd "$NODE_IMAGES" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
  fi
  mkdir -p "$fs/usr/local/lib/node_modules/npm"
  tar -xzf "$tgz" -C "$fs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$fs/usr/local/bin/npm"
  # The machine's CA bundle, which npm is told to use: Node does not read the system's by itself.
  cp /etc/ssl/certs/ca-certificates.crt "$fs/etc/ssl/certs/"
  mkdir -p "$fs/usr/local/etc" && echo 'cafile=/etc/ssl/certs/ca-certificates.crt' > "$fs/usr/local/etc/npmrc"
  printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh\n' > "$fs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$fs/etc/group"
  chown 65532:65532 "$fs/home/nonroot"
  tar -C "$fs" -c . | podman import -q --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'CMD ["node"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$fs"
}

build_pause() {
  local ctx; ctx=$(mktemp -d)
  cp "$NODE_BIN/pause" "$ctx/pause"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' > "$ctx/Containerfile"
  podman build -q -t "$PAUSE_IMAGE" -f "$ctx/Containerfile" "$ctx" >/dev/null
  rm -rf "$ctx"
}

# The e2e tier's simulated app with prom-client, run as a pod (SIM_PORT set).
build_sim_app() {
  local ctx; ctx=$(mktemp -d)
  cp "$root/test/e2e/sim-app.mts" "$ctx/"
  mkdir -p "$ctx/node_modules"
  local dep; for dep in prom-client tdigest bintrees @opentelemetry/api; do
    mkdir -p "$ctx/node_modules/$(dirname "$dep")" && cp -r "$root/node_modules/$dep" "$ctx/node_modules/$dep"
  done
  # Without SIM_PROFILES in the pod's env it is a healthy app: no errors, 2 ms.
  cat > "$ctx/Containerfile" <<FILE
FROM $BASE_IMAGE
WORKDIR /app
COPY . .
USER 65532:65532
ENV SIM_PORT=8080 SIM_TAG=default SIM_PROFILES='{"default":{"errorRate":0,"latencyMs":2}}'
EXPOSE 8080
ENTRYPOINT ["node", "/app/sim-app.mts"]
FILE
  podman build -q -t "$SIM_IMAGE" -f "$ctx/Containerfile" "$ctx" >/dev/null
  rm -rf "$ctx"
}

# The project's own Dockerfile, unchanged; npm inside the build reaches the registry
# through the host network and reuses the host's npm cache.
# Skipped when the image was built from the same inputs (podman does not reuse RUN layers
# built with a volume, so without this every start would pay for npm install and tsc).
build_msop() {
  local inputs
  inputs=$(cd "$root" && { podman image inspect --format '{{.Id}}' "$BASE_IMAGE"; find Dockerfile .dockerignore package.json \
    package-lock.json tsconfig.json tsconfig.build.json src -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-12)
  MSOP_IMAGE=$MSOP_REPOSITORY:dev-$inputs
  echo "$MSOP_IMAGE" > "$NODE_IMAGES/msop.ref"
  podman image exists "$MSOP_IMAGE" && return 0
  mkdir -p "$HOME/.npm"
  podman build -q --network host --build-arg "NODE_IMAGE=$BASE_IMAGE" -v "$HOME/.npm:/root/.npm" \
    -t "$MSOP_IMAGE" -f "$root/Dockerfile" "$root" >/dev/null
}

# Loads an image into the node's containerd (namespace k8s.io, which the CRI plugin uses).
load() {
  local image=$1 tar; tar=$(mktemp --suffix=.tar)
  podman save -q --format docker-archive -o "$tar" "$image"
  "$NODE_BIN/ctr" --address "$CONTAINERD_SOCK" -n k8s.io images import --no-unpack=false "$tar" >/dev/null
  rm -f "$tar"
}

targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(pause base sim-app msop)
for t in "${targets[@]}"; do
  start=$(date +%s)
  case $t in
    pause) build_pause; [ -S "$CONTAINERD_SOCK" ] && load "$PAUSE_IMAGE" ;;
    base) podman image exists "$BASE_IMAGE" || build_base ;;
    sim-app) podman image exists "$BASE_IMAGE" || build_base; build_sim_app; [ -S "$CONTAINERD_SOCK" ] && load "$SIM_IMAGE" ;;
    msop) podman image exists "$BASE_IMAGE" || build_base; build_msop; [ -S "$CONTAINERD_SOCK" ] && load "$MSOP_IMAGE" ;;
    *) echo "images.sh: unknown image $t (pause, base, sim-app, msop)" >&2; exit 1 ;;
  esac
  log "$t ready ($(( $(date +%s) - start ))s)"
done
