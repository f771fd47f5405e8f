#!/usr/bin/env bash
# Builds the task image mesos-ts/busybox:latest as an OCI image layout for the
# mesos containerizer, without Docker or any registry: the same root filesystem
# as build-images.sh (Debian's static busybox, its applet links, root and
# nobody), packed with umoci into <registry>/mesos-ts/busybox:latest, where the
# agent's --docker_registry (default /var/lib/mesos-ts/images) finds it.
# Skipped when the layout already exists.
set -euo pipefail
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
registry=${MESOS_TS_DOCKER_REGISTRY:-/var/lib/mesos-ts/images}
layout="$registry/mesos-ts/busybox:latest"

if [ -f "$layout/oci-layout" ]; then exit 0; fi
say "building the OCI task image $layout from busybox-static (umoci, no Docker, no registry)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"
bash "$(dirname "$0")/busybox-rootfs.sh" "$root"
umoci init --layout "$work/layout"
umoci new --image "$work/layout:latest"
umoci insert --image "$work/layout:latest" "$root" /
umoci config --image "$work/layout:latest" --config.env PATH=/bin:/sbin:/usr/bin:/usr/sbin --config.cmd /bin/sh
umoci gc --layout "$work/layout"
mkdir -p "$(dirname "$layout")"
rm -rf "$layout.tmp" && cp -a "$work/layout" "$layout.tmp" && mv "$layout.tmp" "$layout"
say "built $layout"
