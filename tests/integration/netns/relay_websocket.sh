#!/usr/bin/env bash
# The ws:// and wss:// relay transports behind nginx (issue 9, items 1 and 2). nginx (Debian's,
# its own configuration in the work directory) terminates TLS with a throwaway certificate and
# passes the WebSocket upgrade on /pinhole to the gateway's plain port; the gateway serves plain
# Noise, TLS and WebSocket on that one port. An agent connects wss:// to nginx (ca_file: nginx's
# certificate), a client ws:// straight to the gateway (the URL names no path: /pinhole); a page
# and 1 MiB echoed go through the relay between them. A node pinning another gateway key through
# nginx is refused: the Noise session still authenticates the gateway end to end, whatever the
# front's certificate. Plain HTTP to the upgrade path is answered 426, another path 404.
set -euo pipefail
PH_NAME=relay_websocket
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
command -v nginx >/dev/null || ph_skip "needs nginx (scripts/bootstrap installs nginx-light)"
command -v openssl >/dev/null || ph_skip "needs openssl"
command -v curl >/dev/null || ph_skip "needs curl"

ph_relay_topology
ph_key a
ph_key c
ph_key w

ph_log "gateway on plain TCP 8443 (Noise, TLS and WebSocket on one port)"
ph_gateway_init g
printf '%s agent reach=client\n%s client reach=agent\n%s wrongkey reach=agent\n' \
  "$(ph_pub a)" "$(ph_pub c)" "$(ph_pub w)" >"$ph_dir/authorized_keys"
ph_gateway_start g 8443 "$ph_dir/authorized_keys"

ph_log "nginx on 198.51.100.1:443: TLS with a throwaway certificate, /pinhole passed on to the gateway"
mkdir -p "$ph_dir/nginx"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=gw.pinhole.test" -addext "subjectAltName=DNS:gw.pinhole.test,IP:198.51.100.1" \
  -keyout "$ph_dir/nginx/front.key" -out "$ph_dir/nginx/front.crt" >"$ph_dir/openssl.log" 2>&1 ||
  ph_fail "expected openssl to make a certificate: $(cat "$ph_dir/openssl.log")"
front_pin=$(openssl x509 -in "$ph_dir/nginx/front.crt" -outform DER | sha256sum | cut -d' ' -f1)
cat >"$ph_dir/nginx/nginx.conf" <<NGINX
daemon off;
pid $ph_dir/nginx/nginx.pid;
error_log $ph_dir/nginx/error.log info;
events { worker_connections 64; }
http {
  access_log $ph_dir/nginx/access.log;
  client_body_temp_path $ph_dir/nginx; proxy_temp_path $ph_dir/nginx; fastcgi_temp_path $ph_dir/nginx;
  uwsgi_temp_path $ph_dir/nginx; scgi_temp_path $ph_dir/nginx;
  server {
    listen 198.51.100.1:443 ssl;
    ssl_certificate $ph_dir/nginx/front.crt;
    ssl_certificate_key $ph_dir/nginx/front.key;
    location /pinhole {
      proxy_pass http://127.0.0.1:8443;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 1h;
    }
    location / { return 404 "nothing here\n"; }
  }
}
NGINX
ip netns exec "$(ph_ns g)" nginx -c "$ph_dir/nginx/nginx.conf" -e "$ph_dir/nginx/error.log" >"$ph_dir/nginx.log" 2>&1 &
ph_track_pid $! "nginx"
ph_wait 10 "nginx on 198.51.100.1:443" ph_tcp_bound g 443

node_yaml() {  # FILE KEY GATEWAY_URL GATEWAY_KEY TLS_LINE PEER_NAME PEER_KEY [EXTRA...]
  local file=$1 key=$2 url=$3 gateway_key=$4 tls=$5 peer=$6 peer_key=$7
  shift 7
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
node_yaml "$ph_dir/agent.yaml" a wss://198.51.100.1/pinhole "$PH_GATEWAY_KEY" ", ca_file: \"$ph_dir/nginx/front.crt\"" \
  client c 'services: {web: "127.0.0.1:8080", echo: "127.0.0.1:7007"}'
printf '    allow: [web, echo]\n' >>"$ph_dir/agent.yaml"
node_yaml "$ph_dir/client.yaml" c ws://203.0.113.1:8443 "$PH_GATEWAY_KEY" "" agent a

ph_log "agent over wss:// through nginx, client over ws:// straight to the gateway"
ph_node_up a agent "$ph_dir/agent.yaml"
ph_wait 10 "the agent's channel at the gateway, through nginx" grep -q "node agent .* up from 127.0.0.1" "$ph_dir/gateway.log"
ph_wait 5 "the agent to log its channel up over wss with nginx's certificate checked" \
  grep -q "channel to the gateway up (wss, certificate checked against ca_file)" "$ph_dir/up-agent.log"
ph_forward_start c client web "$ph_dir/client.yaml" agent 18080 web
ph_expect_page c http://127.0.0.1:18080/ "$(ph_page web)"
# The node `forward` started logs into its control directory.
ph_wait 5 "the client to log its channel up over ws" grep -q "channel to the gateway up (ws)" "$(ph_control_dir client)"/*.log
ph_wait 5 "the gateway to log the client's channel from its own address" \
  grep -q "node client .* up from 203.0.113.2" "$ph_dir/gateway.log"
ph_forward_stop c web 18080

ph_log "1 MiB echoed through the relay (wss via nginx on one side, ws on the other)"
stream=$(ph_random_file stream 1048576)
ph_cli c client connect -c "$ph_dir/client.yaml" agent echo <"$stream" >"$ph_dir/stream.back" 2>"$ph_dir/connect.err" &
connect_pid=$!
ph_wait 60 "the 1 MiB to come back" ph_file_at_least "$ph_dir/stream.back" 1048576
kill "$connect_pid" 2>/dev/null || true
wait "$connect_pid" 2>/dev/null || true
ph_same_bytes "$stream" "$ph_dir/stream.back" "1 MiB echoed through the WebSocket relay"
ph_log "$(ph_gateway_status)"

ph_log "a node pinning another gateway key, through nginx (its certificate pinned): refused end to end"
node_yaml "$ph_dir/wrongkey.yaml" w wss://198.51.100.1:443/pinhole "$(ph_pub c)" ", cert_sha256: \"$front_pin\"" agent a
ph_node_up a wrongkey "$ph_dir/wrongkey.yaml"
ph_wait 10 "the gateway to refuse the handshake for another key" \
  grep -q "refused 127.0.0.1:.*handshake failed (the node pinned another gateway key?)" "$ph_dir/gateway.log"
ph_wait 10 "the node to say the gateway closed its handshake" \
  grep -q "the gateway closed the channel during the handshake" "$ph_dir/up-wrongkey.log"
grep -q "channel to the gateway up" "$ph_dir/up-wrongkey.log" &&
  ph_fail "expected no channel for a node pinning another gateway key: $(cat "$ph_dir/up-wrongkey.log")"
ph_cli a wrongkey down -c "$ph_dir/wrongkey.yaml" >/dev/null

ph_log "plain HTTP: 426 on the upgrade path (through nginx), 404 elsewhere (straight)"
status=$(ph_exec a curl -sS --cacert "$ph_dir/nginx/front.crt" -o "$ph_dir/426.out" -w '%{http_code}' https://198.51.100.1/pinhole)
[ "$status" = 426 ] || ph_fail "expected 426 for a GET without Upgrade through nginx, got $status: $(cat "$ph_dir/426.out")"
grep -q "Upgrade: websocket" "$ph_dir/426.out" ||
  ph_fail "expected the 426's body to name the missing header: $(cat "$ph_dir/426.out")"
status=$(ph_exec c curl -sS -o "$ph_dir/404.out" -w '%{http_code}' -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
  -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' http://203.0.113.1:8443/other)
[ "$status" = 404 ] || ph_fail "expected 404 for an upgrade to /other, got $status: $(cat "$ph_dir/404.out")"
grep -q "WebSocket upgrade answered 404" "$ph_dir/gateway.log" ||
  ph_fail "expected the gateway to log the 404: $(cat "$ph_dir/gateway.log")"

ph_log "hostile WebSocket clients at the gateway: a ping, an unmasked frame, a 5 KiB head, a slowloris"
cat >"$ph_dir/ws_client.py" <<'PY'
# A raw WebSocket client against the gateway: HOST PORT. Exits non-zero naming what went wrong.
import base64, hashlib, os, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

def fail(why):
    sys.exit("ws_client: " + why)

def until_closed(s, limit):
    data, deadline = b"", time.monotonic() + limit
    while time.monotonic() < deadline:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            break
        if not chunk:
            return data, True
        data += chunk
    return data, False

def masked(first, payload):
    mask = os.urandom(4)
    return bytes([first, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

def upgraded():
    s = socket.create_connection((host, port), timeout=10)
    key = base64.b64encode(os.urandom(16))
    s.sendall(b"GET /pinhole HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            fail("the gateway closed before its 101: %r" % head)
        head += chunk
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    if not head.startswith(b"HTTP/1.1 101 ") or b"Sec-WebSocket-Accept: " + accept + b"\r\n" not in head:
        fail("expected a 101 with our accept: %r" % head)
    return s

s = upgraded()
s.sendall(masked(0x89, b"hello"))
pong = b""
while len(pong) < 7:
    pong += s.recv(7 - len(pong))
if pong != b"\x8a\x05hello":
    fail("expected a pong with the ping's payload, got %r" % pong)
s.sendall(bytes([0x82, 0x01, 0x00]))  # unmasked: a client's frames must be masked
data, closed = until_closed(s, 5)
if not closed or not data.startswith(b"\x88\x02\x03\xea"):
    fail("expected a close frame with 1002 and the end of the connection after an unmasked frame, got %r" % data)
print("ping answered; an unmasked frame closed with 1002")

s = socket.create_connection((host, port), timeout=10)
s.sendall(b"GET /pinhole HTTP/1.1\r\nX-Padding: " + b"a" * 5000 + b"\r\n\r\n")
data, closed = until_closed(s, 5)
if not closed or not data.startswith(b"HTTP/1.1 400 "):
    fail("expected 400 for a 5 KiB head, got %r" % data[:200])
print("a 5 KiB head: " + data.split(b"\r\n")[0].decode())

s = socket.create_connection((host, port), timeout=10)
start, closed = time.monotonic(), False
for byte in b"GET /pinhole HTTP/1.1\r\nHost: gw\r\nX-Slow: " + b"z" * 100:
    try:
        s.sendall(bytes([byte]))
        s.settimeout(0.25)
        if s.recv(1) == b"":
            closed = True
            break
    except socket.timeout:
        continue
    except OSError:
        closed = True
        break
took = time.monotonic() - start
if not closed or took > 7.5:
    fail("expected a slowloris (a byte every 0.25 s) cut within the 5-s handshake deadline, took %.1f s" % took)
print("a slowloris cut after %.1f s" % took)
PY
ph_exec c "$(ph_python)" "$ph_dir/ws_client.py" 203.0.113.1 8443 >"$ph_dir/ws_client.out" 2>&1 ||
  ph_fail "expected the raw WebSocket client's checks to pass: $(cat "$ph_dir/ws_client.out")"
while read -r line; do ph_log "$line"; done <"$ph_dir/ws_client.out"
for expected in "WebSocket: an unmasked WebSocket frame from a client" "WebSocket upgrade answered 400: an HTTP head longer than 4 KiB" \
  "refused 203.0.113.2:.*no handshake within 5 s"; do
  grep -q "$expected" "$ph_dir/gateway.log" || ph_fail "expected the gateway to log '$expected': $(cat "$ph_dir/gateway.log")"
done
refusals=$(ph_gateway_count "WebSocket refusals")
[ "$refusals" -ge 4 ] || ph_fail "expected at least 4 WebSocket refusals counted (426, 404, unmasked, 400), got $refusals"

ph_log "the channels still relay: a page again"
ph_forward_start c client web2 "$ph_dir/client.yaml" agent 18081 web
ph_expect_page c http://127.0.0.1:18081/ "$(ph_page web)"
ph_forward_stop c web2 18081
ph_cli c client down -c "$ph_dir/client.yaml" >/dev/null || true
ph_cli a agent down -c "$ph_dir/agent.yaml" >/dev/null
# nginx logs a WebSocket request when its connection ends.
ph_wait 5 "nginx to log the agent's upgrade answered 101" grep -q '"GET /pinhole HTTP/1.1" 101 ' "$ph_dir/nginx/access.log"
echo "ok: $PH_NAME (${SECONDS}s)"
