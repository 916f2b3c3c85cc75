#!/usr/bin/env bash
# The tls:// relay transport (issue 8): `pinhole gateway init` makes a self-signed ECDSA P-256
# certificate and prints its SHA-256; the gateway serves TLS and plain TCP on one port. An agent
# pins the certificate (cert_sha256), a client trusts it as a CA (ca_file); a page and 4 MiB
# echoed both ways go through the relay over TLS. A wrong pin is refused by the node, naming the
# certificate it was shown; a TLS node at a gateway without `tls:` is refused by the gateway.
set -euo pipefail
PH_NAME=relay_tls
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"

ph_relay_topology
ph_key a
ph_key c

ph_log "gateway init: key and self-signed certificate"
ph_exec g "$ph_pinhole" gateway init -d "$ph_dir/gw" >"$ph_dir/gateway-init.log"
gateway_key=$(sed -n 's/^public key: //p' "$ph_dir/gateway-init.log")
pin=$(sed -n 's/^certificate sha256: //p' "$ph_dir/gateway-init.log")
[ -n "$gateway_key" ] && [ ${#pin} -eq 64 ] ||
  ph_fail "expected 'gateway init' to print the key and the certificate's sha256: $(cat "$ph_dir/gateway-init.log")"
[ "$(stat -c %a "$ph_dir/gw/gateway.key")" = 600 ] || ph_fail "expected gateway.key to be mode 0600"
openssl_pin=$(openssl x509 -in "$ph_dir/gw/gateway.crt" -outform DER | sha256sum | cut -d' ' -f1)
[ "$openssl_pin" = "$pin" ] || ph_fail "expected the printed pin $pin to be the certificate's SHA-256 ($openssl_pin)"
openssl x509 -in "$ph_dir/gw/gateway.crt" -noout -text | grep -q "ASN1 OID: prime256v1" ||
  ph_fail "expected an ECDSA P-256 certificate: $(openssl x509 -in "$ph_dir/gw/gateway.crt" -noout -text | head -20)"

printf '%s agent reach=client\n%s client reach=agent\n' "$(ph_pub a)" "$(ph_pub c)" >"$ph_dir/authorized_keys"
gateway_yaml() {  # FILE PORT [TLS]
  printf 'key: {data_dir: "%s"}\nlisten: ["0.0.0.0:%s"]\nauthorized_keys: "%s"\n' "$ph_dir/gw" "$2" "$ph_dir/authorized_keys" >"$1"
  [ -z "${3:-}" ] || printf 'tls: {cert: "%s/gw/gateway.crt", key: "%s/gw/gateway.key"}\n' "$ph_dir" "$ph_dir" >>"$1"
}
gateway_yaml "$ph_dir/gateway.yaml" 8443 tls
gateway_yaml "$ph_dir/gateway-plain.yaml" 8444
for config in gateway gateway-plain; do
  ip netns exec "$(ph_ns g)" "$ph_pinhole" gateway -c "$ph_dir/$config.yaml" >"$ph_dir/$config.log" 2>&1 &
  ph_track_pid $! "pinhole $config"
done
ph_wait 5 "the gateway to listen on TCP 8443" ph_tcp_bound g 8443
ph_wait 5 "the plain gateway to listen on TCP 8444" ph_tcp_bound g 8444
grep -q "certificate sha256 $pin" "$ph_dir/gateway.log" || ph_fail "expected the gateway to log its certificate's sha256"

node_yaml() {  # FILE KEY GATEWAY_URL TLS_LINE PEER_NAME PEER_KEY [EXTRA...]
  local file=$1 key=$2 url=$3 tls=$4 peer=$5 peer_key=$6
  shift 6
  (
    umask 077
    printf 'key: {private_key: "%s"}\nlisten_port: 0\n' "$(cat "$ph_dir/$key.key")"
    printf 'gateway: {url: "%s", public_key: "%s"%s}\n' "$url" "$gateway_key" "$tls"
    for line in "$@"; do printf '%s\n' "$line"; done
    printf 'peers:\n  - name: %s\n    public_key: "%s"\n' "$peer" "$(ph_pub "$peer_key")"
  ) >"$file"
}

ph_http_server a web 127.0.0.1 8080
ip netns exec "$(ph_ns a)" socat TCP4-LISTEN:7007,bind=127.0.0.1,fork,reuseaddr EXEC:cat 2>/dev/null &
ph_track_pid $! "socat echo"
node_yaml "$ph_dir/agent.yaml" a tls://198.51.100.1:8443 ", cert_sha256: \"$pin\"" client c \
  'services: {web: "127.0.0.1:8080", echo: "127.0.0.1:7007"}'
printf '    allow: [web, echo]\n' >>"$ph_dir/agent.yaml"
node_yaml "$ph_dir/client.yaml" c tls://203.0.113.1:8443 ", ca_file: \"$ph_dir/gw/gateway.crt\"" agent a

ph_log "agent (certificate pinned) and client (certificate as CA) over TLS"
ph_node_up a agent "$ph_dir/agent.yaml"
ph_wait 10 "the agent's channel at the gateway" grep -q "node agent .* up from" "$ph_dir/gateway.log"
# The gateway logs "up" before its answer reaches the node: wait for the node's own line.
ph_wait 10 "the agent to log its channel up over pinned TLS" \
  grep -q "channel to the gateway up (tls, certificate pinned)" "$ph_dir/up-agent.log"
ph_forward_start c client web "$ph_dir/client.yaml" agent 18080 web
ph_expect_page c http://127.0.0.1:18080/ "$(ph_page web)"
# The node `forward` started logs beside its control socket.
ph_wait 10 "the client to log its channel up over CA-checked TLS" \
  sh -c "cat '$(ph_control_dir client)'/*.log | grep -q 'channel to the gateway up (tls, certificate checked against ca_file)'"
ph_forward_stop c web 18080

ph_log "4 MiB echoed through the TLS relay"
stream=$(ph_random_file stream 4194304)
ph_cli c client connect -c "$ph_dir/client.yaml" agent echo <"$stream" >"$ph_dir/stream.back" 2>"$ph_dir/connect.err" &
connect_pid=$!
ph_wait 60 "the 4 MiB to come back" ph_file_at_least "$ph_dir/stream.back" 4194304
kill "$connect_pid" 2>/dev/null || true
wait "$connect_pid" 2>/dev/null || true
ph_same_bytes "$stream" "$ph_dir/stream.back" "4 MiB echoed through the TLS relay"

ph_log "a wrong pin: the node refuses the certificate and says which one it saw"
wrong_pin=$(printf '%064d' 0)
node_yaml "$ph_dir/wrong-pin.yaml" c tls://203.0.113.1:8443 ", cert_sha256: \"$wrong_pin\"" agent a
ph_cli c client down -c "$ph_dir/client.yaml" >/dev/null
ph_node_up c wrong_pin "$ph_dir/wrong-pin.yaml"
ph_wait 10 "the node to refuse the certificate" \
  grep -q "not the pinned one (cert_sha256): it presented sha256 $pin" "$ph_dir/up-wrong_pin.log"
ph_cli c wrong_pin down -c "$ph_dir/wrong-pin.yaml" >/dev/null

ph_log "a TLS node at a gateway without tls: is refused by the gateway"
node_yaml "$ph_dir/plain.yaml" c tls://203.0.113.1:8444 "" agent a
ph_node_up c plain "$ph_dir/plain.yaml"
ph_wait 10 "the plain gateway to refuse the TLS client" \
  grep -q "a TLS client, but this gateway has no tls: in its configuration" "$ph_dir/gateway-plain.log"
grep -q "certificate is not checked" "$ph_dir/up-plain.log" ||
  ph_fail "expected a node with tls:// and neither pin nor CA to say so: $(cat "$ph_dir/up-plain.log")"
ph_cli c plain down -c "$ph_dir/plain.yaml" >/dev/null
ph_cli a agent down -c "$ph_dir/agent.yaml" >/dev/null
echo "ok: $PH_NAME (${SECONDS}s)"
