#!/usr/bin/env bash
# `pinhole init -d DIR` writes the key files with the right modes, prints an invite that
# `pinhole import-invite` reads back, keeps an existing key, and refuses one others can read.
set -euo pipefail
pinhole=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$pinhole" init -d "$dir/agent" --gateway tcp://gw.example.net:8443 \
        --gateway-key "$(wg genkey | wg pubkey)")
echo "$out"
[ "$(stat -c %a "$dir/agent/agent_key")" = 600 ] || fail "agent_key is not 0600"
[ "$(stat -c %a "$dir/agent/agent_key.pub")" = 644 ] || fail "agent_key.pub is not 0644"
public=$(wg pubkey <"$dir/agent/agent_key")
[ "$(cat "$dir/agent/agent_key.pub")" = "$public" ] || fail "agent_key.pub does not match agent_key"
invite=$(grep '^pinhole-invite/1 ' <<<"$out")
grep -q "key=$public" <<<"$invite" || fail "the invite does not carry the public key"
grep -q ' address=fd7a:7069:6e68:' <<<"$invite" || fail "the invite has no overlay address"

# The invite becomes client configuration.
snippet=$("$pinhole" import-invite --name device "$invite")
grep -q "public_key: \"$public\"" <<<"$snippet" || fail "import-invite lost the key"
grep -q 'url: tcp://gw.example.net:8443' <<<"$snippet" || fail "import-invite lost the gateway"

# A mangled invite is refused.
mangled=${invite/address=fd7a:7069:6e68:/address=fd7a:7069:6e69:}
if "$pinhole" import-invite --name device "$mangled" 2>/dev/null; then fail "accepted a mangled invite"; fi

# Running init again keeps the key.
"$pinhole" init -d "$dir/agent" >/dev/null
[ "$(wg pubkey <"$dir/agent/agent_key")" = "$public" ] || fail "init replaced an existing key"

# A key others can read is refused, with the fix in the message.
chmod 644 "$dir/agent/agent_key"
if err=$("$pinhole" init -d "$dir/agent" 2>&1); then fail "used a key others can read"; fi
grep -q 'chmod 600' <<<"$err" || fail "no fix in: $err"
echo "ok: init writes keys with the right modes and its invite reads back"
