#!/usr/bin/env bash
# Cassandra authentication set-up, once per cluster: admin + detector roles, default superuser off,
# system_auth replicated and repaired. The same text runs on node 0 in EC2 (embedded in its user data by
# cdk/cassandra-user-data.ts) and on the local stack (scripts/local/stack-control.ts --auth). Safe to rerun.
# Settings come from the environment (names in cdk/servers/cassandra-auth-setup.ts); passwords from
# files, handed to cqlsh in 0600 credentials files and CQL files, never on a command line.
set -euo pipefail

fail() { echo "cassandra-auth-setup: $*" >&2; exit "${code:-1}"; }
log() { echo "$(date -Is) cassandra-auth-setup: $*"; }
need() {
  [ -n "${!1:-}" ] || code=2 fail "$1 is not set ($2)"
  [[ ${!1} =~ $3 ]] || code=2 fail "$1=${!1} is not allowed ($2)"
}
need CASSANDRA_AUTH_HOST "host or IPv4 address of this node's CQL port" '^[A-Za-z0-9.-]+$'
need CASSANDRA_AUTH_CQL_PORT "a port number" '^[0-9]{1,5}$'
need CASSANDRA_AUTH_CQLSH "path of the cqlsh executable" '^/'
need CASSANDRA_AUTH_NODETOOL "path of the nodetool executable" '^/'
need CASSANDRA_AUTH_ADMIN_PASSWORD_FILE "file holding the admin role's password" '^/'
need CASSANDRA_AUTH_DETECTOR_PASSWORD_FILE "file holding the detector role's password" '^/'
need CASSANDRA_AUTH_ADMIN_ROLE "a role name of [a-z0-9_]" '^[a-z][a-z0-9_]{0,47}$'
need CASSANDRA_AUTH_DETECTOR_ROLE "a role name of [a-z0-9_]" '^[a-z][a-z0-9_]{0,47}$'
need CASSANDRA_AUTH_DATACENTER "the data centre the snitch reports" '^[A-Za-z0-9_-]+$'
need CASSANDRA_AUTH_REPLICATION_FACTOR "system_auth replicas in that data centre, 1-9" '^[1-9]$'
need CASSANDRA_AUTH_WAIT_SECONDS "seconds to wait for a login, 1-3600" '^[0-9]{1,4}$'
# Optional: the CA certificate of a node that requires TLS (cdk/servers/cassandra-tls.sh); empty: plaintext.
ca_file=${CASSANDRA_AUTH_CA_FILE:-}
[ -z "$ca_file" ] || [ -r "$ca_file" ] || code=2 fail "CASSANDRA_AUTH_CA_FILE=$ca_file is not allowed (a readable CA certificate file, or empty)"

admin=$CASSANDRA_AUTH_ADMIN_ROLE
detector=$CASSANDRA_AUTH_DETECTOR_ROLE
umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

password_of() { # file: its first line, which must be a usable password
  local p=""
  [ -r "$1" ] || fail "password file $1 is missing or unreadable"
  IFS= read -r p <"$1" || true
  [[ $p =~ ^[^[:space:]]{12,}$ ]] || fail "password in $1 must be 12 or more characters without spaces"
  printf '%s' "$p"
}
admin_password="$(password_of "$CASSANDRA_AUTH_ADMIN_PASSWORD_FILE")"
detector_password="$(password_of "$CASSANDRA_AUTH_DETECTOR_PASSWORD_FILE")"
# Random, never used: the default superuser's password is replaced as well as its login disabled.
default_password="$(head -c 30 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
quoted() { printf "'%s'" "${1//\'/\'\'}"; } # a CQL string literal

credentials() { # role password: the cqlsh credentials file of that role
  printf '[plain_text_auth]\nusername = %s\npassword = %s\n' "$1" "$2" >"$work/$1.credentials"
}
credentials cassandra cassandra
credentials "$admin" "$admin_password"

tls=()
[ -z "$ca_file" ] || tls=(--ssl)
export SSL_CERTFILE=$ca_file SSL_VALIDATE=true # cqlsh verifies the node's certificate against the CA
cql() { # role, then cqlsh arguments
  local role=$1
  shift
  "$CASSANDRA_AUTH_CQLSH" "${tls[@]}" --credentials "$work/$role.credentials" --connect-timeout 10 --request-timeout 60 \
    "$@" "$CASSANDRA_AUTH_HOST" "$CASSANDRA_AUTH_CQL_PORT"
}
logs_in() { cql "$1" -e "SELECT release_version FROM system.local" >"$work/login.out" 2>&1; }
deadline=$((SECONDS + CASSANDRA_AUTH_WAIT_SECONDS))
wait_for_login() { # roles to try in order; sets $as to the first that logs in
  while :; do
    for as in "$@"; do logs_in "$as" && return 0; done
    ((SECONDS < deadline)) || fail "no login as $* within ${CASSANDRA_AUTH_WAIT_SECONDS} s at" \
      "$CASSANDRA_AUTH_HOST:$CASSANDRA_AUTH_CQL_PORT; last answer: $(tail -n 2 "$work/login.out")"
    log "waiting for a login as $* (the default superuser appears some seconds after the port opens)"
    sleep 5
  done
}

# admin first: on a rerun the default superuser is already disabled.
wait_for_login "$admin" cassandra
first_login=$as
log "logged in as $first_login"
if [ "$first_login" = cassandra ]; then
  log "creating $admin as the default superuser"
  echo "CREATE ROLE IF NOT EXISTS $admin WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = $(quoted "$admin_password");" \
    >"$work/admin.cql"
  cql cassandra -f "$work/admin.cql"
  wait_for_login "$admin"
fi

log "as $admin: system_auth to $CASSANDRA_AUTH_REPLICATION_FACTOR replicas, role $detector, default superuser off"
# Cassandra refuses a role's second password change within 5 s: set each password only when it is new.
default_off="ALTER ROLE cassandra WITH SUPERUSER = false AND LOGIN = false"
[ "$first_login" = admin ] || default_off+=" AND PASSWORD = $(quoted "$default_password")"
cat >"$work/setup.cql" <<EOF
ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', '$CASSANDRA_AUTH_DATACENTER': $CASSANDRA_AUTH_REPLICATION_FACTOR};
CREATE ROLE IF NOT EXISTS $detector WITH LOGIN = true AND PASSWORD = $(quoted "$detector_password");
GRANT CREATE ON ALL KEYSPACES TO $detector;
$default_off;
EOF
cql "$admin" -f "$work/setup.cql"
credentials "$detector" "$detector_password"
if ! logs_in "$detector"; then # an existing role, with another password (a rotated secret)
  echo "ALTER ROLE $detector WITH LOGIN = true AND PASSWORD = $(quoted "$detector_password");" >"$work/detector.cql"
  cql "$admin" -f "$work/detector.cql"
fi

# The roles exist only where system_auth's replicas were before the change; a full repair copies them to
# the new replicas. A node joining at this moment can make it fail: retry until the same deadline.
until "$CASSANDRA_AUTH_NODETOOL" repair --full system_auth; do
  ((SECONDS < deadline)) || fail "nodetool repair --full system_auth kept failing for ${CASSANDRA_AUTH_WAIT_SECONDS} s"
  log "repair of system_auth failed; retrying in 15 s"
  sleep 15
done
log "authentication set up: $admin and $detector can log in, cassandra cannot"
