#!/usr/bin/env bash
# Builds the task image mesos-ts/busybox:latest without any registry: a root
# filesystem holding Debian's static busybox and its applet links, imported
# with `docker import`. Skipped when the image already exists.
set -euo pipefail
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
image=${MESOS_TS_TASK_IMAGE:-mesos-ts/busybox:latest}

if docker image inspect "$image" >/dev/null 2>&1; then exit 0; fi
say "building the task image $image from busybox-static (docker import, no registry)"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
bash "$(dirname "$0")/busybox-rootfs.sh" "$root"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' \
  --change 'CMD ["/bin/sh"]' \
  --message 'mesos-ts task image (busybox-static)' - "$image" >/dev/null
say "built $image"
