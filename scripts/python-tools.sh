#!/usr/bin/env bash
# Installs the Python tools of a list (default scripts/python-tools.txt, the test command's) into the project-local
# venv .tools/py, once, and again only when the list changes. `npm run bench:nab` passes its own list.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/py"
list="${1:-$root/scripts/python-tools.txt}"
stamp="$venv/.installed"
[ $# -eq 0 ] || stamp="$venv/.installed-$(basename "$list")"
if [ -f "$stamp" ] && [ "$stamp" -nt "$list" ]; then exit 0; fi
if ! command -v python3 >/dev/null; then
  echo "error: python3 not found: install Python 3.10+ (Debian: apt-get install python3 python3-venv)" >&2
  exit 1
fi
echo "setup: installing Python tools into .tools/py ($(grep -cv '^#' "$list") packages)" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$list" >&2
touch "$stamp"
