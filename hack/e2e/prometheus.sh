#!/usr/bin/env bash
# Makes sure the Prometheus binary from the Debian package is installed, for the
# end-to-end tests (test/e2e). Installs the `prometheus` package when
# /usr/bin/prometheus is missing. It never starts or enables the system service:
# the tests run /usr/bin/prometheus themselves, on loopback, with their own
# config and data directory. Prints the binary's path.
set -euo pipefail
bin=/usr/bin/prometheus
if [ ! -x "$bin" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "[e2e] $bin is missing and this is not a Debian-like system (no apt-get); install Prometheus so that $bin exists" >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "[e2e] $bin is missing; install it as root: sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus" >&2
    exit 1
  fi
  echo "[e2e] installing the Debian prometheus package" >&2
  export DEBIAN_FRONTEND=noninteractive
  # The package's postinst would start the service through invoke-rc.d; a policy-rc.d
  # that refuses every action keeps it (and anything else) from starting.
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
  fi
  cleanup() { if [ -n "$made_policy" ]; then rm -f "$policy"; fi; }
  trap cleanup EXIT
  apt-get update >&2
  apt-get install -y --no-install-recommends prometheus >&2
  if [ ! -x "$bin" ]; then
    echo "[e2e] the prometheus package installed, but $bin is still missing" >&2
    exit 1
  fi
fi
echo "$bin"
