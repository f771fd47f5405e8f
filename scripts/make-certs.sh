#!/usr/bin/env bash
# Makes a local certificate authority and certificates signed by it, for TLS
# between mesos-ts processes (docs/ssl.md): the demo, compose and the tests.
#
#   scripts/make-certs.sh [DIR]     default DIR: .certs (git ignores it)
#
# Writes into DIR (made if missing; files already there are kept, so running
# it again changes nothing):
#   ca.pem, ca.key           the CA (ca.key signs; keep it out of containers)
#   server.pem, server.key   the certificate masters and agents serve with
#   client.pem, client.key   a client certificate (schedulers, the CLI, mTLS)
# Every certificate names 127.0.0.1 and localhost (subjectAltName); add more
# with MESOS_TS_CERT_SAN="IP:10.0.0.5,DNS:master.example" in the environment.
set -euo pipefail

dir="${1:-.certs}"
san="IP:127.0.0.1,DNS:localhost${MESOS_TS_CERT_SAN:+,$MESOS_TS_CERT_SAN}"
days=825

command -v openssl >/dev/null || { echo "make-certs: openssl not found (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
umask 077

if [[ ! -s "$dir/ca.pem" || ! -s "$dir/ca.key" ]]; then
  echo "make-certs: making a CA in $dir/ca.pem"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" -subj "/CN=mesos-ts local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
else
  echo "make-certs: keeping the CA in $dir/ca.pem"
fi

# make NAME USAGE: a key and a certificate signed by the CA.
make() {
  local name="$1" usage="$2"
  if [[ -s "$dir/$name.pem" && -s "$dir/$name.key" ]]; then
    echo "make-certs: keeping $dir/$name.pem"
    return
  fi
  echo "make-certs: making $dir/$name.pem ($usage; $san)"
  local ext
  ext="$(mktemp)"
  printf 'subjectAltName=%s\nextendedKeyUsage=%s\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n' "$san" "$usage" >"$ext"
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=mesos-ts $name" -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days "$days" -sha256 \
    -extfile "$ext" -out "$dir/$name.pem" 2>/dev/null
  rm -f "$ext" "$dir/$name.csr"
}

# Masters and agents also act as clients (the agent's link, the web UI's proxy to agents): both usages.
make server serverAuth,clientAuth
make client clientAuth
rm -f "$dir/ca.srl"
# Certificates are public; keys stay readable by their owner only.
chmod 644 "$dir"/*.pem
echo "make-certs: done; e.g. LIBPROCESS_SSL_ENABLED=true LIBPROCESS_SSL_CERT_FILE=$dir/server.pem LIBPROCESS_SSL_KEY_FILE=$dir/server.key LIBPROCESS_SSL_CA_FILE=$dir/ca.pem"
