#!/usr/bin/env bash
# Builds the task image mesos-ts/busybox:latest without any registry: a root
# filesystem holding Debian's static busybox and its applet links, imported
# with `docker import`. Skipped when the image already exists.
set -euo pipefail
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
image=${MESOS_TS_TASK_IMAGE:-mesos-ts/busybox:latest}

if docker image inspect "$image" >/dev/null 2>&1; then exit 0; fi
say "building the task image $image from busybox-static (docker import, no registry)"
bb=$(command -v busybox)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,tmp,etc,proc,sys,dev,root}
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/false' >> "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' \
  --change 'CMD ["/bin/sh"]' \
  --message 'mesos-ts task image (busybox-static)' - "$image" >/dev/null
say "built $image"
