#!/usr/bin/env bash
# wireguard-go (namespace w) <-> pinhole agent (namespace p) over an IPv6 veth (2001:db8::/64):
# from the wg side, ping the node's key-derived IPv6 and configured IPv4 overlay addresses and
# echo 1 MiB through its echo service (port 7) with the kernel's TCP, sha256 compared; first
# with the node as responder (wg initiates), then as initiator (only the node has an endpoint).
set -euo pipefail
PH_NAME=wg_interop_ipv6
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
ph_interop 6
echo "ok: $PH_NAME (${SECONDS}s)"
