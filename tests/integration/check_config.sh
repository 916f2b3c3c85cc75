#!/usr/bin/env bash
# `pinhole check -c FILE` accepts the shipped examples, names file:line:column of an error,
# and refuses a node key file that others can read.
set -euo pipefail
pinhole=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for example in agent client gateway; do
  "$pinhole" check -c "$top/config/examples/$example.yaml" >/dev/null || fail "$example.yaml rejected"
done

printf 'key: {data_dir: state}\nmtu: 9000\n' >"$dir/bad.yaml"
if err=$("$pinhole" check -c "$dir/bad.yaml" 2>&1); then fail "accepted mtu 9000"; fi
grep -q "bad.yaml:2:6: " <<<"$err" || fail "no position in: $err"

printf 'key: {data_dir: state}\nlisen_port: 51820\n' >"$dir/typo.yaml"
if err=$("$pinhole" check -c "$dir/typo.yaml" 2>&1); then fail "accepted an unknown key"; fi
grep -q "listen_port" <<<"$err" || fail "no suggestion in: $err"

"$pinhole" init -d "$dir/state" >/dev/null
printf 'key:\n  data_dir: state\n' >"$dir/node.yaml"
out=$("$pinhole" check -c "$dir/node.yaml") || fail "rejected a good node config"
grep -q "public key:      $(wg pubkey <"$dir/state/agent_key")" <<<"$out" || fail "wrong key in: $out"
chmod 644 "$dir/state/agent_key"
if err=$("$pinhole" check -c "$dir/node.yaml" 2>&1); then fail "accepted a key others can read"; fi
grep -q "chmod 600" <<<"$err" || fail "no fix in: $err"
echo "ok: check validates configs and keys"
