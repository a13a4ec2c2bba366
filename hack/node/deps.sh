#!/usr/bin/env bash
# Makes sure the node tier's Debian packages are installed: runc, the CNI plugins,
# iptables and conntrack (kube-proxy), podman (image builds), busybox-static (the
# base image's shell) and socat (the pods' path to the API server). Installs the
# missing ones with apt-get, as root; it never starts a system service.
set -euo pipefail
declare -A need=(
  [runc]=/usr/sbin/runc
  [containernetworking-plugins]=/usr/lib/cni/bridge
  [iptables]=/usr/sbin/iptables
  [conntrack]=/usr/sbin/conntrack
  [podman]=/usr/bin/podman
  [busybox-static]=/bin/busybox
  [socat]=/usr/bin/socat
)
missing=()
for pkg in "${!need[@]}"; do [ -x "${need[$pkg]}" ] || missing+=("$pkg"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[node] missing: ${missing[*]}; this is not a Debian-like system (no apt-get), install them by hand" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "[node] missing: ${missing[*]}; install them as root: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "[node] installing the Debian packages ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A policy-rc.d that refuses every action keeps the packages' services from starting.
policy=/usr/sbin/policy-rc.d made_policy=
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1; fi
trap '[ -z "$made_policy" ] || rm -f "$policy"' EXIT
apt-get update >&2
apt-get install -y --no-install-recommends "${missing[@]}" >&2
for pkg in "${missing[@]}"; do
  [ -x "${need[$pkg]}" ] || { echo "[node] $pkg installed, but ${need[$pkg]} is still missing" >&2; exit 1; }
done
