#!/usr/bin/env bash
# The secured docker-compose cluster (docker-compose.yml with
# docker-compose.secure.yml) in one step: certificates (make-certs.sh),
# credentials with fresh random secrets, the ACLs and the ZooKeeper URL with
# its digest credential, all in MESOS_TS_SECURE_DIR (default
# /tmp/mesos-ts-secure, readable by root only), then compose-up.sh with both
# files. Running it again keeps the secrets it made. It prints how the CLI
# reaches the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[secure]\033[0m %s\n' "$*"; }
dir=${MESOS_TS_SECURE_DIR:-/tmp/mesos-ts-secure}
mkdir -p "$dir" && chmod 700 "$dir"

command -v openssl >/dev/null 2>&1 || { echo "[secure] openssl is missing (apt-get install openssl)" >&2; exit 1; }
bash scripts/make-certs.sh "$dir/certs"

secret() { # principal -> its secret, made once
  local f="$dir/.secret-$1"
  [ -f "$f" ] || (umask 077 && openssl rand -hex 24 > "$f")
  cat "$f"
}
# Written again when an older version of this script left them without the apps framework's.
if [ ! -f "$dir/credentials.json" ] || ! grep -q '"apps"' "$dir/credentials.json"; then
  say "writing credentials for the principals demo, agent, ops and apps, and the ZooKeeper digest user mesos, in $dir"
  (
    umask 077
    printf '{"credentials":[{"principal":"demo","secret":"%s"},{"principal":"agent","secret":"%s"},{"principal":"ops","secret":"%s"},{"principal":"apps","secret":"%s"}]}\n' \
      "$(secret demo)" "$(secret agent)" "$(secret ops)" "$(secret apps)" > "$dir/credentials.json"
    printf '{"principal":"agent","secret":"%s"}\n' "$(secret agent)" > "$dir/agent-credential.json"
    printf '{"principal":"demo","secret":"%s"}\n' "$(secret demo)" > "$dir/demo-credential.json"
    printf '{"principal":"ops","secret":"%s"}\n' "$(secret ops)" > "$dir/ops-credential.json"
    printf 'zk://mesos:%s@127.0.0.1:2181/mesos' "$(secret zk)" > "$dir/zk-url"
    # The apps framework: its credential to the masters, its own ZooKeeper path (same digest user), and who may call
    # its REST API (the operator, as Marathon's --http_credentials; mesos-ts lb presents the same).
    printf '{"principal":"apps","secret":"%s"}\n' "$(secret apps)" > "$dir/apps-credential.json"
    printf 'zk://mesos:%s@127.0.0.1:2181/mesos-ts-apps' "$(secret zk)" > "$dir/apps-zk-url"
    printf '{"credentials":[{"principal":"ops","secret":"%s"}]}\n' "$(secret ops)" > "$dir/apps-http-credentials.json"
  )
fi
# The ACLs (docs/authorization.md): first matching rule wins; not permissive.
# The masters decide who registers, runs, tears down, reserves and sees;
# the agents who reads sandboxes and their endpoints.
view='"view_frameworks": [{ "principals": { "values": ["ops", "demo"] }, "users": { "type": "ANY" } }],
  "view_tasks": [{ "principals": { "values": ["ops", "demo"] }, "users": { "type": "ANY" } }],'
cat > "$dir/acls.json" <<JSON
{
  "permissive": false,
  "register_frameworks": [{ "principals": { "values": ["demo", "apps"] }, "roles": { "type": "ANY" } }],
  "run_tasks": [{ "principals": { "values": ["demo", "apps"] }, "users": { "type": "ANY" } }],
  "register_agents": [{ "principals": { "values": ["agent"] }, "agents": { "type": "ANY" } }],
  "teardown_frameworks": [{ "principals": { "values": ["ops"] }, "framework_principals": { "type": "ANY" } }],
  "drain_agents": [{ "principals": { "values": ["ops"] }, "agents": { "type": "ANY" } }],
  "reserve_resources": [{ "principals": { "values": ["ops"] }, "roles": { "type": "ANY" } }],
  "unreserve_resources": [{ "principals": { "values": ["ops"] }, "reserver_principals": { "type": "ANY" } }],
  "update_weights": [{ "principals": { "values": ["ops"] }, "roles": { "type": "ANY" } }],
  "update_quotas": [{ "principals": { "values": ["ops"] }, "roles": { "type": "ANY" } }],
  "view_roles": [{ "principals": { "values": ["ops", "demo"] }, "roles": { "type": "ANY" } }],
  $view
  "get_endpoints": [{ "principals": { "values": ["ops"] }, "paths": { "type": "ANY" } }]
}
JSON
cat > "$dir/agent-acls.json" <<JSON
{
  "permissive": false,
  $view
  "view_executors": [{ "principals": { "values": ["ops", "demo"] }, "users": { "type": "ANY" } }],
  "access_sandboxes": [{ "principals": { "values": ["ops", "demo"] }, "users": { "type": "ANY" } }],
  "get_endpoints": [{ "principals": { "values": ["ops"] }, "paths": { "type": "ANY" } }]
}
JSON
chmod 600 "$dir/acls.json" "$dir/agent-acls.json"

export MESOS_TS_SECURE_DIR=$dir
# docker-compose reads both files from COMPOSE_FILE; later commands need it too.
export COMPOSE_FILE=docker-compose.yml:docker-compose.secure.yml
bash scripts/compose-up.sh "$@"
say "other docker-compose commands: export COMPOSE_FILE=$COMPOSE_FILE MESOS_TS_SECURE_DIR=$dir"
say "the CLI reaches it with mutual TLS and the ops credential:"
say "  export LIBPROCESS_SSL_ENABLED=true LIBPROCESS_SSL_CA_FILE=$dir/certs/ca.pem LIBPROCESS_SSL_CERT_FILE=$dir/certs/client.pem LIBPROCESS_SSL_KEY_FILE=$dir/certs/client.key"
say "  mesos-ts state --master 127.0.0.1:5050 --credential $dir/ops-credential.json"
say "  mesos-ts app list --apps https://127.0.0.1:8080 --credential $dir/ops-credential.json"
