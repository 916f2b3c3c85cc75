#!/usr/bin/env bash
# By hand, not a registered test: runs the netns test scripts with wireguard-go + socat standing
# in for `pinhole agent` (PH_AGENT_IMPL=wg), so the harness itself is known good.
#   sudo tests/integration/netns/sanity_wg_wg.sh build/host/apps/pinhole [TEST...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pinhole=${1:?usage: $0 PINHOLE_BINARY [TEST...]}
shift
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(wg_interop_ipv4 wg_interop_ipv6 wg_interop_psk wg_interop_roaming wg_interop_mtu pinhole_pair)
failed=()
for t in "${tests[@]}"; do
  start=$SECONDS
  status=0
  PH_AGENT_IMPL=wg "$here/$t.sh" "$pinhole" || status=$?
  echo "=== $t: status $status, $((SECONDS - start))s"
  [ $status -eq 0 ] || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then echo "FAIL: ${failed[*]}"; exit 1; fi
echo "ok: all ${#tests[@]} scripts pass against wireguard-go ($SECONDS s)"
