#!/usr/bin/env bash
# Starts a Docker engine if none answers. No systemd here: dockerd runs in the
# background with host networking only (no bridge, no iptables), its pid kept
# in /run/mesos-ts-dockerd.pid and its log in /var/log/mesos-ts-dockerd.log.
set -euo pipefail
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

if docker info >/dev/null 2>&1; then exit 0; fi
say "starting the Docker engine (dockerd --bridge=none --iptables=false --ip-masq=false)"
log=/var/log/mesos-ts-dockerd.log
setsid dockerd --bridge=none --iptables=false --ip-masq=false >"$log" 2>&1 < /dev/null &
echo $! > /run/mesos-ts-dockerd.pid
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then say "Docker engine is up (pid $(cat /run/mesos-ts-dockerd.pid))"; exit 0; fi
  sleep 0.5
done
echo "[setup] dockerd did not come up in 30 s; last lines of $log:" >&2
tail -20 "$log" >&2
exit 1
