#!/bin/sh
# /usr/local/bin/haproxy in the mesos-ts image: Debian's haproxy binary with
# the shared libraries it needs beside it (staged by
# scripts/build-node-image.sh). LD_LIBRARY_PATH is inherited when HAProxy's
# master process re-executes itself on a reload (mesos-ts lb's seamless
# reload), so the new master finds them too.
LD_LIBRARY_PATH=/opt/haproxy/lib exec /opt/haproxy/haproxy "$@"
