#!/usr/bin/env bash
# Builds the image the docker-compose cluster runs: the repo's Dockerfile on
# top of node:20-bookworm-slim. No registry is reachable here, so when that
# base image is missing it is assembled from this machine's own node binary,
# its shared libraries and Debian's static busybox, and tagged with the
# public name; where the public image exists, the same Dockerfile uses it.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
base=node:20-bookworm-slim

if ! docker image inspect "$base" >/dev/null 2>&1; then
  say "building base image $base locally from $(command -v node) (no registry)"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  node_bin=$(readlink -f "$(command -v node)")
  mkdir -p "$root"/{bin,usr/local/bin,tmp,etc,lib64,root}
  chmod 1777 "$root/tmp"
  cp "$node_bin" "$root/usr/local/bin/node"
  for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  cp "$(command -v busybox)" "$root/bin/busybox"
  for applet in sh ls cat env sleep; do ln -s busybox "$root/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/" 2>/dev/null || true
  tar -C "$root" -c . | docker import --change 'ENV PATH=/usr/local/bin:/bin' --change 'CMD ["node"]' - "$base" >/dev/null
fi

say "building mesos-ts/mesos-ts:local from the Dockerfile"
docker build -q -t mesos-ts/mesos-ts:local . >/dev/null
say "built mesos-ts/mesos-ts:local"
