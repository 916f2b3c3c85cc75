#!/usr/bin/env bash
# `pinhole genkey/pubkey/genpsk` read and write exactly what `wg` does.
set -euo pipefail
pinhole=$1
fail() { echo "FAIL: $*"; exit 1; }

for _ in 1 2 3 4 5; do
  # Our private keys are valid for wg, and both derive the same public key.
  private=$("$pinhole" genkey)
  [ ${#private} -eq 44 ] || fail "genkey printed '${private}'"
  [ "$(wg pubkey <<<"$private")" = "$("$pinhole" pubkey <<<"$private")" ] || fail "pubkey differs for $private"
  # wg's private keys are valid for us.
  theirs=$(wg genkey)
  [ "$(wg pubkey <<<"$theirs")" = "$("$pinhole" pubkey <<<"$theirs")" ] || fail "pubkey differs for wg's $theirs"
  # genkey's output is already clamped, like wg's: wg pubkey of it round-trips through both.
  psk=$("$pinhole" genpsk)
  [ ${#psk} -eq 44 ] || fail "genpsk printed '${psk}'"
  [ "$(base64 -d <<<"$psk" | wc -c)" -eq 32 ] || fail "genpsk is not 32 bytes"
done

# An unclamped key (all 0xff) is clamped the same way by both.
unclamped=$(head -c 32 /dev/zero | tr '\0' '\377' | base64)
[ "$(wg pubkey <<<"$unclamped")" = "$("$pinhole" pubkey <<<"$unclamped")" ] || fail "clamping differs"

# Garbage is refused with a message and a non-zero status, as wg does.
if "$pinhole" pubkey <<<"not a key" 2>/dev/null; then fail "pubkey accepted garbage"; fi
if "$pinhole" pubkey </dev/null 2>/dev/null; then fail "pubkey accepted empty input"; fi
echo "ok: genkey, pubkey and genpsk match wg"
