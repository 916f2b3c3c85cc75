#!/usr/bin/env bash
# `pinhole proxy AGENT [LISTEN]` (issue 7): a SOCKS5 server at the client node whose connections
# exit at the agent. Namespaces c (client node) and a (agent), a LAN host behind the agent (l).
# curl through the proxy:
#   - --socks5 to the agent's overlay address and to the LAN host (IPv4 and IPv6 literals);
#   - --socks5-hostname with a service name (a name without a dot is one of the agent's services);
#   - a second proxy demanding a user name and password: the right ones pass, a wrong password
#     is refused by the proxy (curl says so), no credentials are refused too;
#   - a service with `proxy_protocol: v2` (nginx with `listen ... proxy_protocol`, answering
#     with $proxy_protocol_addr) sees the client node's overlay address, not the agent's;
#   - refusals carry SOCKS5 reply codes from the agent's true outcome (the reason in its RST):
#     a port its access list does not allow (2), a LAN port nothing listens on (5), a service
#     the agent does not publish (4), a name with a dot the agent cannot resolve (4: names
#     resolve at the agent, tests/integration/netns/client_names.sh).
set -euo pipefail
PH_NAME=client_proxy
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
command -v curl >/dev/null || ph_skip "needs curl (scripts/bootstrap installs it)"
ph_require_commands proxy

readonly c4=192.0.2.21 a4=192.0.2.22 lan_agent=203.0.113.1 lan_host=203.0.113.10

ph_lan_topology "$lan_agent" "$lan_host"
ph_key c
ph_key a
a6=$(ph_overlay6 a)
c6=$(ph_overlay6 c)

ph_http_server a web 127.0.0.1 8080
ph_http_server a secret 127.0.0.1 8081
ph_http_server l lan "$lan_host" 80
# nginx as a service that reads the PROXY v2 header and says whom it names.
mkdir -p "$ph_dir/nginx"
cat >"$ph_dir/nginx/nginx.conf" <<NGINX
daemon off;
pid $ph_dir/nginx/nginx.pid;
error_log $ph_dir/nginx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $ph_dir/nginx; proxy_temp_path $ph_dir/nginx; fastcgi_temp_path $ph_dir/nginx;
  uwsgi_temp_path $ph_dir/nginx; scgi_temp_path $ph_dir/nginx;
  server {
    listen 127.0.0.1:8090 proxy_protocol;
    location / { return 200 "client \$proxy_protocol_addr port \$proxy_protocol_port server \$proxy_protocol_server_addr:\$proxy_protocol_server_port\n"; }
  }
}
NGINX
ip netns exec "$(ph_ns a)" nginx -c "$ph_dir/nginx/nginx.conf" -e "$ph_dir/nginx/error.log" >/dev/null 2>&1 &
ph_track_pid $! "nginx"
ph_wait 10 "nginx (proxy_protocol) on 127.0.0.1:8090" ph_tcp_bound a 8090
ph_agent_yaml "$ph_dir/agent.yaml" --key a --port 51821 --address "$a4/32" \
  --service web=127.0.0.1:8080 --service secret=127.0.0.1:8081 --service pp=127.0.0.1:8090 \
  --peer client --pub c --allowed "$c6/128" --allowed "$c4/32" \
  --allow web --allow pp --allow "$lan_host:80-81"
sed -i 's|^  pp: .*|  pp: {target: "127.0.0.1:8090", proxy_protocol: v2}|' "$ph_dir/agent.yaml"
ph_agent_yaml "$ph_dir/client.yaml" --key c --port 51820 --address "$c4/32" \
  --peer agent --pub a --endpoint 198.51.100.2:51821 \
  --allowed "$a6/128" --allowed "$a4/32" --allowed 203.0.113.0/24
ph_agent_start a agent "$ph_dir/agent.yaml"

# proxy_start NAME PORT [ARGS...]: `pinhole proxy ARGS agent 127.0.0.1:PORT` in c (log
# proxy-NAME.log) until it listens.
proxy_start() {
  local name=$1 port=$2 pid
  shift 2
  ip netns exec "$(ph_ns c)" env PINHOLE_CONTROL_DIR="$(ph_control_dir client)" \
    "$ph_pinhole" proxy -c "$ph_dir/client.yaml" "$@" agent "127.0.0.1:$port" >"$ph_dir/proxy-$name.log" 2>&1 &
  pid=$!
  ph_track_pid "$pid" "pinhole proxy $name"
  ph_wait 15 "'pinhole proxy' $name to listen on 127.0.0.1:$port" ph_forward_listening_pid "$pid" "$name" "$port"
}
ph_forward_listening_pid() {
  kill -0 "$1" 2>/dev/null || ph_fail "'pinhole proxy' $2 exited early: $(cat "$ph_dir/proxy-$2.log")"
  ph_tcp_bound c "$3"
}
# through PROXY_URL URL PAGE: curl -x PROXY_URL fetches exactly PAGE.
through() {
  local proxy=$1 url=$2 page=$3 status=0
  ph_exec c curl -gsS --max-time 15 -x "$proxy" -o "$ph_dir/curl.out" "$url" 2>"$ph_dir/curl.err" || status=$?
  [ $status -eq 0 ] || ph_fail "expected curl -x $proxy $url to fetch the page, got status $status: $(cat "$ph_dir/curl.err")"
  ph_same_bytes "$page" "$ph_dir/curl.out" "curl -x $proxy $url"
  ph_log "curl -x $proxy $url: ok"
}
# refused PROXY_URL URL PATTERN: curl fails and its message matches PATTERN (the SOCKS5 reply).
refused() {
  local proxy=$1 url=$2 pattern=$3 status=0
  ph_exec c curl -gsS --max-time 15 -x "$proxy" -o /dev/null "$url" 2>"$ph_dir/curl.err" || status=$?
  [ $status -ne 0 ] || ph_fail "expected curl -x $proxy $url to be refused"
  grep -qiE "$pattern" "$ph_dir/curl.err" ||
    ph_fail "expected curl -x $proxy $url to fail with /$pattern/, got status $status: $(cat "$ph_dir/curl.err")"
  ph_log "curl -x $proxy $url refused: $(head -c 160 "$ph_dir/curl.err")"
}

ph_log "a SOCKS5 proxy on 127.0.0.1:1080 (the client node starts on demand)"
proxy_start open 1080
grep -q "SOCKS5 on 127.0.0.1:1080, exiting at agent" "$ph_dir/proxy-open.log" ||
  ph_fail "expected the proxy to say where it listens: $(cat "$ph_dir/proxy-open.log")"
through socks5://127.0.0.1:1080 "http://[$a6]:8080/" "$(ph_page web)"
through socks5://127.0.0.1:1080 "http://$a4:8080/" "$(ph_page web)"
through socks5://127.0.0.1:1080 "http://$lan_host/" "$(ph_page lan)"
through socks5h://127.0.0.1:1080 "http://web/" "$(ph_page web)"

ph_log "PROXY v2: the service sees the client node's overlay address"
ph_exec c curl -gsS --max-time 15 -x socks5h://127.0.0.1:1080 -o "$ph_dir/pp.out" http://pp/ 2>"$ph_dir/curl.err" ||
  ph_fail "expected curl to reach the PROXY v2 service: $(cat "$ph_dir/curl.err")"
grep -q "^client $c6 port [0-9]* server $a6:8090\$" "$ph_dir/pp.out" ||
  ph_fail "expected nginx to read client $c6 and server $a6:8090 from the PROXY v2 header, it says: $(cat "$ph_dir/pp.out")"
ph_log "nginx read: $(cat "$ph_dir/pp.out")"

ph_log "refusals and their SOCKS5 codes"
# curl ends its message with the reply code, the agent's true outcome (its reset names it):
# (2) not allowed by its access list, (5) connection refused, (4) host unreachable.
refused socks5://127.0.0.1:1080 "http://$a4:8081/" "\\(2\\)"
refused socks5://127.0.0.1:1080 "http://$lan_host:81/" "\\(5\\)"
refused socks5h://127.0.0.1:1080 "http://secret/" "\\(4\\)"
refused socks5h://127.0.0.1:1080 "http://printer.lan/" "\\(4\\)"
grep -q "printer.lan: agent agent cannot resolve it" "$ph_dir/proxy-open.log" ||
  ph_fail "expected the proxy to say why printer.lan was refused: $(cat "$ph_dir/proxy-open.log")"

ph_log "a proxy that demands a user name and password"
(umask 077 && printf 's3cret pass\n' >"$ph_dir/password")
proxy_start auth 1081 --user alice --password-file "$ph_dir/password"
through "socks5h://alice:s3cret%20pass@127.0.0.1:1081" "http://web/" "$(ph_page web)"
refused "socks5h://alice:wrong@127.0.0.1:1081" "http://web/" "authentication|rejected|auth"
refused "socks5h://127.0.0.1:1081" "http://web/" "authentication|auth|method|no acceptable"
chmod 644 "$ph_dir/password"
status=0
ph_exec c "$ph_pinhole" proxy -c "$ph_dir/client.yaml" --user alice --password-file "$ph_dir/password" agent 1082 \
  >"$ph_dir/proxy-open-password.log" 2>&1 || status=$?
[ $status -ne 0 ] && grep -q "chmod 600" "$ph_dir/proxy-open-password.log" ||
  ph_fail "expected a password file others may read to be refused: $(cat "$ph_dir/proxy-open-password.log")"

ph_cli c client down -c "$ph_dir/client.yaml" >/dev/null
echo "ok: $PH_NAME (${SECONDS}s)"
