#!/usr/bin/env bash
# Brings a fresh Debian 12 machine to the point where mesos-ts can run:
# Debian packages, node modules, generated proto types, a running Docker
# engine and the locally built task image. Idempotent; says what it does.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need_pkgs+=(busybox-static)
# The mesos containerizer: an OCI runtime, and umoci/skopeo for its image store
# (zstd to read zstd-compressed layers before umoci unpacks them).
command -v runc >/dev/null 2>&1 || need_pkgs+=(runc)
command -v umoci >/dev/null 2>&1 || need_pkgs+=(umoci)
command -v skopeo >/dev/null 2>&1 || need_pkgs+=(skopeo)
command -v zstd >/dev/null 2>&1 || need_pkgs+=(zstd)
# ZooKeeper (for the high-availability tests and `--zk`); Java comes with it.
[ -f /usr/share/java/zookeeper.jar ] || need_pkgs+=(zookeeper)
# docker-compose v1, for the compose cluster and its test.
command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)
# HAProxy, the load balancer `mesos-ts lb` drives (and its tests).
command -v haproxy >/dev/null 2>&1 || need_pkgs+=(haproxy)
# libfaketime, so the fault run on hosts can jump a master's or agent's wall clock (LD_PRELOAD).
[ -f "/usr/lib/$(uname -m)-linux-gnu/faketime/libfaketime.so.1" ] || need_pkgs+=(faketime)
# Headless Chromium, for the web UI's test (playwright-core drives /usr/bin/chromium).
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "[setup] missing Debian packages: ${need_pkgs[*]} (run as root or install them)" >&2; exit 1; fi
  say "installing Debian packages: ${need_pkgs[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing node modules (npm ci)"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
fi

say "generating TypeScript types from proto/"
node scripts/gen-proto-types.mjs

bash scripts/ensure-docker.sh
bash scripts/build-images.sh
bash scripts/build-oci-image.sh
