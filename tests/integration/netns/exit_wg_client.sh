#!/usr/bin/env bash
# The agent's exit (DESIGN §1, "Proxy, not VPN") seen from a stock WireGuard peer: wireguard-go
# (namespace w, the kernel's TCP, curl) <-> pinhole agent (namespace p), IPv4 underlay, and a
# LAN behind the agent (namespace l, 203.0.113.0/24: p is .1, a web server on .10 ports 80 and
# 81; .99 has a static neighbour entry in p for a MAC nobody has, so its SYNs vanish).
# The agent's config: services {web: 127.0.0.1:8080} (a web server in p) and for the wg peer
# allow [web, "203.0.113.0/24:80"]; wireguard-go routes 203.0.113.0/24 through the agent.
#   - allowed: the web service on the agent's overlay addresses (IPv6 and IPv4), and a LAN host;
#   - refused (fast: a reset in < 2 s, not a timeout; the agent logs `exit: refused ... reason`):
#     a port of the agent with no service, a LAN port no rule allows (something listens there);
#   - not answering: an allowed LAN address that drops everything: a reset within 15 s;
#   - the tunnel still serves afterwards; SIGUSR1's status lines are shown.
set -euo pipefail
PH_NAME=exit_wg_client
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ph_init "$@"
command -v curl >/dev/null || ph_skip "needs curl (scripts/bootstrap installs it)"

readonly lan_agent=203.0.113.1 lan_host=203.0.113.10 lan_silent=203.0.113.99

ph_scenario 4
ph_netns_add l
ph_veth p l
ph_addr p to-l "$lan_agent/24"
ph_addr l to-p "$lan_host/24"
ip -n "$(ph_ns p)" neigh add "$lan_silent" lladdr 02:00:00:00:00:99 dev to-l nud permanent
ph_http_server p agent 127.0.0.1 8080
ph_http_server l lan "$lan_host" 80
ph_http_server l lan81 "$lan_host" 81
ph_wait 5 "the LAN web server to answer from the agent's namespace" \
  ph_exec p curl -sS --max-time 2 -o /dev/null "http://$lan_host/"

ph_wg_peer --endpoint --allowed 203.0.113.0/24
ip -n "$(ph_ns w)" route add 203.0.113.0/24 dev "$PH_W_IF"
ph_agent_yaml "$ph_dir/node.yaml" --key p --address "$PH_P_V4/32" --service web=127.0.0.1:8080 \
  --peer wg --pub w --allowed "$PH_W_V6/128" --allowed "$PH_W_V4/32" \
  --allow web --allow "203.0.113.0/24:80"
ph_agent_start p exit "$ph_dir/node.yaml"
ph_expect_ping w "$PH_P_V6"

ph_log "allowed: the web service on the agent's overlay addresses, a LAN host on an allowed port"
ph_expect_page w "http://[$PH_P_V6]:8080/" "$(ph_page agent)"
ph_expect_page w "http://$PH_P_V4:8080/" "$(ph_page agent)"
ph_expect_page w "http://$lan_host/" "$(ph_page lan)"

ph_log "refused: a port of the agent no service has"
ph_expect_refused w "http://[$PH_P_V6]:8081/" 2 "no service on port 8081"
ph_expect_log_line exit "the refusal of port 8081" 'exit: refused' ':8081' 'no service has that port'

ph_log "refused: a LAN port no rule allows (a web server listens there)"
ph_expect_refused w "http://$lan_host:81/" 2 "LAN port 81 not allowed"
ph_expect_log_line exit "the refusal of $lan_host:81" 'exit: refused' "$lan_host:81" 'no allow rule covers it'

ph_log "not answering: an allowed LAN address that drops every packet"
ph_expect_refused w "http://$lan_silent/" 15 "a silent destination"
ph_log "the agent's log about $lan_silent: $(ph_agent_log exit | grep -F "$lan_silent" | tail -n 2 | tr '\n' ' ')"

ph_log "the tunnel still serves after the refusals"
ph_expect_page w "http://[$PH_P_V6]:8080/" "$(ph_page agent)"
ph_expect_page w "http://$lan_host/" "$(ph_page lan)"

kill -USR1 "$PH_AGENT_PID_exit"
ph_wait 5 "status lines after SIGUSR1" sh -c "grep -q 'status:' '$ph_dir/agent-exit.log'"
ph_log "status (SIGUSR1):"
grep 'status:' "$ph_dir/agent-exit.log" | sed 's/^/    /'
ph_expect_log_line exit "exit counters in its status lines" 'status:' '[Ee]xit|refused'
ph_agent_stop exit
echo "ok: $PH_NAME (${SECONDS}s)"
