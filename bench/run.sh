#!/usr/bin/env bash
# signproxy's benchmark in one command. Installs what it needs when missing (Debian's nginx, wrk
# and openssl through apt-get when run as root; the Python packages into .venv), then runs
# bench/run.py. Without nginx or wrk it falls back to Python stand-ins and says so in the table.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in nginx wrk openssl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing ${missing[*]}" >&2
    # policy-rc.d exit 101: the packages' own services are not started.
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      made_policy=1
    fi
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null; } \
      || echo "bench: could not install ${missing[*]}; using the Python fallbacks" >&2
    if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  else
    echo "bench: ${missing[*]} missing and not installable here; using the Python fallbacks" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e '.[bench]'
exec .venv/bin/python bench/run.py "$@"
