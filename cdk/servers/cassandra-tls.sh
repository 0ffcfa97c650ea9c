#!/usr/bin/env bash
# Certificates of one Cassandra cluster, made by the cluster itself (no key material in the template, no
# paid private CA). The same text runs on every EC2 node (embedded in its user data by
# cdk/cassandra-user-data.ts) and on the local stack's TLS mode (scripts/local/stack-control.ts --tls).
#
#   cassandra-tls.sh ca <dir> <cluster-name>
#       a private CA, once: <dir>/ca-bundle.pem (its key, then its certificate; mode 0600) and <dir>/ca.pem
#       (the certificate alone, public). Kept as it is when both exist.
#   cassandra-tls.sh node <ca-bundle.pem> <ipv4-address> <dir>
#       this node's key and a certificate for its address, signed by the CA: <dir>/keystore.pem (key, then
#       certificate chain; mode 0600) and <dir>/truststore.pem (the CA certificate), the PEM files Cassandra's
#       PEMBasedSslContextFactory reads. The key is unencrypted PKCS#8 in a root/cassandra-only file, so no
#       keystore password exists to leak; nothing secret is ever an argument of a command.
#
# Keys are EC P-256 (fast to make at boot; Cassandra's PEM reader and Node's TLS both take them). Node
# certificates name the node's IP address as their subjectAltName (clients reach nodes by address) and allow
# both serverAuth and clientAuth: internode TLS is mutual.
set -euo pipefail

fail() { echo "cassandra-tls: $*" >&2; exit "${code:-1}"; }
usage="usage: cassandra-tls.sh ca <dir> <cluster-name> | node <ca-bundle.pem> <ipv4-address> <dir>"
umask 077
days=3650
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

make_ca() { # dir cluster-name
  local dir=$1 name=$2
  [[ $name =~ ^[A-Za-z0-9._-]{1,64}$ ]] || code=2 fail "cluster-name=$name is not allowed (1-64 of [A-Za-z0-9._-])"
  mkdir -p "$dir"
  if [ -s "$dir/ca-bundle.pem" ] && [ -s "$dir/ca.pem" ]; then
    echo "cassandra-tls: CA kept ($dir/ca.pem)"
    return
  fi
  local work
  work="$(mktemp -d)"
  new_key "$work/ca.key"
  openssl req -x509 -new -key "$work/ca.key" -sha256 -days "$days" -subj "/CN=$name Cassandra CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$work/ca.pem"
  cat "$work/ca.key" "$work/ca.pem" >"$dir/ca-bundle.pem"
  install -m 0644 "$work/ca.pem" "$dir/ca.pem"
  rm -rf "$work"
  echo "cassandra-tls: CA made ($dir/ca.pem)"
}

make_node() { # ca-bundle address dir
  local bundle=$1 address=$2 dir=$3
  [[ $address =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || code=2 fail "address=$address is not allowed (an IPv4 address)"
  [ -r "$bundle" ] || fail "CA bundle $bundle is missing or unreadable"
  if ! grep -q -- "-BEGIN PRIVATE KEY-" "$bundle" || ! grep -q -- "-BEGIN CERTIFICATE-" "$bundle"; then
    fail "CA bundle $bundle must hold the CA's private key and its certificate (cassandra-tls.sh ca makes one)"
  fi
  mkdir -p "$dir"
  local work
  work="$(mktemp -d)"
  # openssl's PEM readers skip the blocks of other kinds: the bundle serves as -CA and as -CAkey.
  openssl x509 -in "$bundle" -out "$work/ca.pem"
  new_key "$work/node.key"
  cat >"$work/ext.cnf" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:$address
EOF
  openssl req -new -key "$work/node.key" -subj "/CN=$address" -out "$work/node.csr"
  openssl x509 -req -in "$work/node.csr" -CA "$work/ca.pem" -CAkey "$bundle" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$days" -sha256 -extfile "$work/ext.cnf" -out "$work/node.pem" 2>/dev/null
  openssl verify -CAfile "$work/ca.pem" "$work/node.pem" >/dev/null || fail "the new certificate does not verify against the CA"
  cat "$work/node.key" "$work/node.pem" "$work/ca.pem" >"$dir/keystore.pem"
  chmod 0600 "$dir/keystore.pem"
  install -m 0644 "$work/ca.pem" "$dir/truststore.pem"
  rm -rf "$work"
  echo "cassandra-tls: certificate for $address made ($dir/keystore.pem)"
}

case "${1:-}" in
  ca) [ $# -eq 3 ] || code=2 fail "$usage"; make_ca "$2" "$3" ;;
  node) [ $# -eq 4 ] || code=2 fail "$usage"; make_node "$2" "$3" "$4" ;;
  *) code=2 fail "$usage" ;;
esac
