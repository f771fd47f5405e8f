#!/usr/bin/env bash
# Builds the image the docker-compose cluster runs: the repo's multi-stage
# Dockerfile on top of node:20-bookworm-slim (npm ci in both stages, hence
# --network=host: this machine's Docker engine runs without a bridge). No
# registry serves base images here, so when node:20-bookworm-slim is missing
# it is assembled from this machine's own node and npm, node's shared
# libraries and Debian's static busybox, and tagged with the public name;
# where the public image exists, the same Dockerfile uses it. A base image
# this script assembled is rebuilt when the script has changed since.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
base=node:20-bookworm-slim

recipe=$(sha256sum "$0" | cut -c1-16)
old=
if docker image inspect "$base" >/dev/null 2>&1; then
  env=$(docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$base")
  built=$(docker image inspect -f '{{with .Config.Labels}}{{index . "mesos-ts.recipe"}}{{end}}' "$base")
  # The public image (it sets NODE_VERSION) is used as is; one assembled here, only if this script made it.
  if grep -q '^NODE_VERSION=' <<<"$env" || [ "$built" = "$recipe" ]; then base_ok=1; else base_ok=; old=$(docker image inspect -f '{{.Id}}' "$base"); fi
else
  base_ok=
fi

if [ -z "$base_ok" ]; then
  npm_dir=$(npm root -g)/npm
  say "building base image $base locally from $(command -v node) and $npm_dir (no registry)"
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
  # npm as the public image lays it out; its scripts start with #!/usr/bin/env node.
  mkdir -p "$root/usr/local/lib/node_modules" "$root/usr/bin"
  cp -r "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  cp "$(command -v busybox)" "$root/bin/busybox"
  for applet in sh ls cat env sleep rm; do ln -s busybox "$root/bin/$applet"; done
  ln -s /bin/busybox "$root/usr/bin/env"
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  # This machine's certificate authorities, trusted by node (and so npm) as they are here.
  mkdir -p "$root/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/" 2>/dev/null || true
  tar -C "$root" -c . | docker import --change 'ENV PATH=/usr/local/bin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' --change "LABEL mesos-ts.recipe=$recipe" \
    --change 'CMD ["node"]' - "$base" >/dev/null
  [ -z "$old" ] || docker rmi "$old" >/dev/null 2>&1 || true   # the replaced base, unless an image still uses it
fi

# HAProxy for `mesos-ts lb` in the image, as marathon-lb ships it: this
# machine's Debian package (scripts/setup.sh installs it), its binary and the
# shared libraries ldd reports, staged in .image/haproxy for the Dockerfile;
# the build reaches no Debian mirror. libc, libm and the loader are the base
# image's own (bookworm's, as here).
command -v haproxy >/dev/null || { echo "[setup] haproxy is missing: bash scripts/setup.sh installs Debian's package" >&2; exit 1; }
stage=.image/haproxy
rm -rf "$stage"
mkdir -p "$stage/lib"
haproxy_bin=$(readlink -f "$(command -v haproxy)")
cp "$haproxy_bin" "$stage/haproxy"
for lib in $(ldd "$haproxy_bin" | grep -o '/[^ ]*'); do
  case $(basename "$lib") in libc.so.*|libm.so.*|ld-linux*) ;; *) cp -L "$lib" "$stage/lib/" ;; esac
done

say "building mesos-ts/mesos-ts:local from the Dockerfile"
docker build -q --network=host -t mesos-ts/mesos-ts:local . >/dev/null
say "built mesos-ts/mesos-ts:local"
