#!/usr/bin/env bash
# Brings the docker-compose cluster (docker-compose.yml: ZooKeeper, three
# masters, two agents, the demo framework, the apps framework twice and the
# load balancer) up on this machine in one step:
#   1. scripts/setup.sh: Debian packages, node modules, proto types, the
#      Docker engine and the task image mesos-ts/busybox:latest;
#      and docker-compose (v1, Debian's package) when it is missing;
#   2. the images: zookeeper:3.8 (scripts/build-zookeeper-image.sh, only
#      when missing) and mesos-ts/mesos-ts:local (scripts/build-node-image.sh;
#      Docker's build cache makes it quick when nothing changed);
#   3. `docker-compose up -d`, passing on its arguments.
# COMPOSE_PROJECT_NAME and MESOS_TS_COMPOSE_DIR are honoured (docker-compose.yml).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

bash scripts/setup.sh # Installs docker-compose too when it is missing.
bash scripts/build-zookeeper-image.sh
old=$(docker image inspect -f '{{.Id}}' mesos-ts/mesos-ts:local 2>/dev/null || true)
bash scripts/build-node-image.sh 2> >(grep -v -e 'legacy builder is deprecated' -e 'Install the buildx' -e 'docs.docker.com/go/buildx' -e '^\s*$' >&2)
new=$(docker image inspect -f '{{.Id}}' mesos-ts/mesos-ts:local)
# The image it replaced, unless a container still uses it: each change to the repo would leave ~100 MB behind.
if [ -n "$old" ] && [ "$old" != "$new" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi

say "starting the cluster: docker-compose up -d $*"
docker-compose up -d "$@"
say "up: masters on http://127.0.0.1:5050, :5150, :5250 (the leader answers /state, the others redirect);" \
  "the demo's tasks: docker-compose logs -f demo; stop with: docker-compose down"
say "apps: REST API on http://127.0.0.1:8080 and :8081 (mesos-ts app deploy examples/apps/web.json);" \
  "the balancer serves each app's service port on 127.0.0.1, virtual hosts on :9080, statistics on :9090"
