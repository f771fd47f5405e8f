#!/usr/bin/env bash
# The task image's root filesystem, written into DIR (which must exist):
# Debian's static busybox with its applet links, an empty /tmp for everyone,
# and the users root and nobody. build-images.sh imports it into Docker,
# build-oci-image.sh packs it as an OCI layout: one root filesystem, two images.
set -euo pipefail
root=${1:?usage: busybox-rootfs.sh DIR}
bb=$(command -v busybox)
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,tmp,etc,proc,sys,dev,root}
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/false' >> "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
