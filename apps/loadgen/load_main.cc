// pinhole-load: load for the gateway (issue 9, items 5 and 6). See usage below.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "apps/loadgen/load_engine.h"
#include "apps/loadgen/load_keys.h"

namespace {

using pinhole::load::Options;

// The gateway admits at most 64 new connections per source address per second
// (apps/gateway/gateway_server.cc); the default sources keep each below 48.
constexpr double gateway_admits_per_source = 64;
constexpr double sources_per_rate = 48;

constexpr char usage[] =
    "usage: pinhole-load keys -n N [--pairs K] [--prefix NAME] --keys FILE --authorized-keys FILE\n"
    "       pinhole-load [run] --gateway URL --gateway-key KEY|FILE --keys FILE [options]\n"
    "\n"
    "Load for a pinhole gateway: many authenticated relay channels at once, each a real node\n"
    "identity running the node's own relay code (core/relay: the Noise_IK handshake to the\n"
    "gateway's pinned key, sealed frames), from one epoll loop.\n"
    "\n"
    "keys: makes the identities and the gateway's matching authorized_keys.\n"
    "  -n N                   N idle identities (names PREFIX-00001...), which reach nobody\n"
    "  --pairs K              and K active pairs (PREFIX-p00001-a, PREFIX-p00001-b...), each\n"
    "                         side reaching only the other (reach=)\n"
    "  --prefix NAME          name prefix (default: load)\n"
    "  --keys FILE            written 0600: '<private key> <public key> <name> [pair=<name>]'\n"
    "  --authorized-keys FILE written 0644: '<public key> <name> [reach=<name>]', for the\n"
    "                         gateway's authorized_keys\n"
    "\n"
    "run (the default): opens the channels, keeps them, reports; stops at SIGINT or SIGTERM\n"
    "(or after --duration) with a summary. SIGUSR1 prints a report line.\n"
    "  --gateway URL          tcp://HOST:PORT (plain TCP), tls://HOST:PORT (TLS 1.2, OpenSSL),\n"
    "                         ws://HOST:PORT[/PATH] or wss://HOST:PORT[/PATH] (WebSocket, the\n"
    "                         node's own core/relay/websocket code; PATH /pinhole by default)\n"
    "  --gateway-key KEY      the gateway's public key (base64), or a file holding it\n"
    "                         (DIR/agent_key.pub of `pinhole gateway init -d DIR`)\n"
    "  --cert-sha256 HEX      tls, wss: the certificate pin `gateway init` printed (default: the\n"
    "                         certificate is not checked; the pinned key still is)\n"
    "  --keys FILE            the identities (from `pinhole-load keys`)\n"
    "  -n, --idle N           idle channels to open (default: every idle identity in the file)\n"
    "  --pairs K              active pairs to run (default: every pair in the file)\n"
    "  --source LIST          source addresses, comma-separated, each an address or an IPv4\n"
    "                         range A-B (127.0.0.2-127.0.0.9); channel i binds to source\n"
    "                         i mod count. Default for a 127.x gateway: 127.0.0.2 and up, at\n"
    "                         least 8 and one per 48 connections/s of --rate (the gateway admits\n"
    "                         64 new connections per source address per second); else the\n"
    "                         kernel's choice. Ports: one source gives about as many channels\n"
    "                         to one gateway port as net.ipv4.ip_local_port_range holds\n"
    "                         (28,232 by default), so 10,000 channels need one source for\n"
    "                         ports; the admission rate is what needs several\n"
    "  --rate R               new connections per second (default 500)\n"
    "  --in-flight N          at most N connections between connect() and the end of their\n"
    "                         handshake (default 256)\n"
    "  --handshake-timeout S  a channel not up after S seconds failed (default 10)\n"
    "  --retries N            new attempts for a failed channel, 1 s later (default 0)\n"
    "  --ping-interval S      idle channels ping every S seconds, the first at a random point\n"
    "                         of the interval (default 20; the gateway cuts a channel after\n"
    "                         30 s without a message); a channel that hears nothing for three\n"
    "                         intervals plus 5 s counts as failed\n"
    "  --datagram-bytes B     the dummy datagram active pairs send (default 1400, at most 1600)\n"
    "  --pair-rate R          datagrams per second each side of a pair sends (default 0: as\n"
    "                         fast as the gateway takes them: TCP's backpressure)\n"
    "  --duration S           stop S seconds after establishment ends (default 0: at a signal)\n"
    "  --report S             a report line every S seconds (default 5; 0: none)\n"
    "\n"
    "Output: 'established: X of Y channels up in T s (connect to up: p50, p99, max); failures:\n"
    "by reason', then 'all Y channels up' when so; report lines; at the end a summary and one\n"
    "'result key=value...' line for scripts: establish_s (first connect to last channel up),\n"
    "window_s (establishment's end to the end), rx_dps and rx_MBps (datagrams, and MB = 10^6\n"
    "bytes of datagram payload, received per second by the pairs in that window), tx_dps (sent:\n"
    "what the kernel took, so it includes what still sits in socket buffers at the end).\n"
    "Exit status 0 when every channel is up at the end, 1 otherwise, 2 for a usage error.\n"
    "The process needs a file descriptor per channel: it raises its soft limit (ulimit -n) to\n"
    "the hard one if needed.\n";

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "pinhole-load: %s\n", message.c_str());
    std::exit(2);
}

bool parse_number(std::string_view text, double& out) {
    if (text.empty()) return false;
    const std::string copy(text);
    char* end = nullptr;
    errno = 0;
    out = std::strtod(copy.c_str(), &end);
    return errno == 0 && end == copy.c_str() + copy.size() && std::isfinite(out) && out >= 0;
}

double number_option(std::string_view name, std::string_view text) {
    double value = 0;
    if (!parse_number(text, value)) {
        die("expected a non-negative number after " + std::string(name) + ", got '" + std::string(text) + "'");
    }
    return value;
}

std::size_t count_option(std::string_view name, std::string_view text) {
    const double value = number_option(name, text);
    if (value != std::floor(value) || value > 10'000'000) die("expected a whole number after " + std::string(name));
    return static_cast<std::size_t>(value);
}

bool parse_address(const std::string& text, sockaddr_storage& out, socklen_t& length) {
    out = {};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
    if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        length = sizeof(sockaddr_in);
        return true;
    }
    if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        length = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

// tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT[/PATH] or wss://HOST:PORT[/PATH]; HOST a
// name, an IPv4 address or [IPv6].
void parse_gateway(const std::string& url, Options& options) {
    std::string rest;
    if (url.rfind("tcp://", 0) == 0) {
        rest = url.substr(6);
    } else if (url.rfind("tls://", 0) == 0) {
        rest = url.substr(6);
        options.tls = true;
    } else if (url.rfind("ws://", 0) == 0) {
        rest = url.substr(5);
        options.websocket = true;
    } else if (url.rfind("wss://", 0) == 0) {
        rest = url.substr(6);
        options.websocket = true;
        options.tls = true;
    } else {
        die("expected --gateway tcp://, tls://, ws:// or wss://HOST:PORT, got '" + url + "'");
    }
    if (const std::size_t slash = rest.find('/'); slash != std::string::npos) {
        if (!options.websocket) die("only ws:// and wss:// URLs have a path: " + url);
        options.websocket_path = rest.substr(slash);
        rest = rest.substr(0, slash);
    }
    options.websocket_host = rest;
    std::string host;
    std::string port;
    if (!rest.empty() && rest[0] == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') die("bad gateway URL " + url);
        host = rest.substr(1, close - 1);
        port = rest.substr(close + 2);
    } else {
        const std::size_t colon = rest.rfind(':');
        if (colon == std::string::npos) die("the gateway URL needs a port: " + url);
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int error = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
    if (error != 0 || found == nullptr) die("cannot resolve " + host + ":" + port + ": " + gai_strerror(error));
    std::memcpy(&options.gateway, found->ai_addr, found->ai_addrlen);
    options.gateway_length = found->ai_addrlen;
    freeaddrinfo(found);
    options.gateway_text = host + ":" + port;
}

void parse_sources(const std::string& list, Options& options) {
    std::stringstream items(list);
    std::string item;
    while (std::getline(items, item, ',')) {
        if (item.empty()) continue;
        const std::size_t dash = item.find('-');
        if (dash != std::string::npos) {
            in_addr first{};
            in_addr last{};
            if (inet_pton(AF_INET, item.substr(0, dash).c_str(), &first) != 1 ||
                inet_pton(AF_INET, item.substr(dash + 1).c_str(), &last) != 1 || ntohl(last.s_addr) < ntohl(first.s_addr) ||
                ntohl(last.s_addr) - ntohl(first.s_addr) > 65535) {
                die("expected an IPv4 range A-B (at most 65536 addresses) in --source, got '" + item + "'");
            }
            for (std::uint32_t address = ntohl(first.s_addr); address <= ntohl(last.s_addr); address++) {
                pinhole::load::SourceAddress source;
                auto* v4 = reinterpret_cast<sockaddr_in*>(&source.address);
                v4->sin_family = AF_INET;
                v4->sin_addr.s_addr = htonl(address);
                source.length = sizeof(sockaddr_in);
                char text[INET_ADDRSTRLEN] = {};
                inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
                source.text = text;
                options.sources.push_back(source);
                if (address == 0xffffffffu) break;
            }
            continue;
        }
        pinhole::load::SourceAddress source;
        if (!parse_address(item, source.address, source.length)) die("expected an address in --source, got '" + item + "'");
        source.text = item;
        options.sources.push_back(source);
    }
    for (const auto& source : options.sources) {
        if (source.address.ss_family != options.gateway.ss_family) {
            die("the source " + source.text + " is not of the gateway address's family");
        }
    }
}

pinhole::crypto::X25519Key gateway_key(const std::string& text) {
    auto parsed = pinhole::keys::parse_key(text);
    if (parsed.ok()) return parsed.value();
    std::ifstream file(text);
    std::string line;
    if (file && std::getline(file, line)) {
        parsed = pinhole::keys::parse_key(line);
        if (parsed.ok()) return parsed.value();
        die("the file " + text + " does not hold a public key in base64");
    }
    die("expected the gateway's public key (base64) or a file holding it after --gateway-key, got '" + text + "'");
}

bool parse_hex(const std::string& text, std::array<std::uint8_t, 32>& out) {
    if (text.size() != 64) return false;
    for (std::size_t i = 0; i < 32; i++) {
        unsigned value = 0;
        if (std::sscanf(text.c_str() + 2 * i, "%2x", &value) != 1) return false;
        out[i] = static_cast<std::uint8_t>(value);
    }
    return true;
}

// The local port range, for the capacity message.
std::size_t ephemeral_ports() {
    std::ifstream file("/proc/sys/net/ipv4/ip_local_port_range");
    std::size_t low = 0;
    std::size_t high = 0;
    if (!(file >> low >> high) || high < low) return 0;
    return high - low + 1;
}

int keys_command(const std::vector<std::string>& arguments) {
    std::size_t count = 0;
    std::size_t pairs = 0;
    bool has_count = false;
    std::string prefix = "load";
    std::string keys_path;
    std::string authorized_path;
    for (std::size_t i = 0; i < arguments.size(); i++) {
        const std::string& option = arguments[i];
        if (option == "--help" || option == "-h") {
            std::fputs(usage, stdout);
            return 0;
        }
        if (i + 1 >= arguments.size()) die("expected a value after " + option);
        const std::string& value = arguments[++i];
        if (option == "-n") {
            count = count_option(option, value);
            has_count = true;
        } else if (option == "--pairs") {
            pairs = count_option(option, value);
        } else if (option == "--prefix") {
            prefix = value;
        } else if (option == "--keys") {
            keys_path = value;
        } else if (option == "--authorized-keys") {
            authorized_path = value;
        } else {
            die("unknown option " + option + " for keys (see pinhole-load --help)");
        }
    }
    if (!has_count || keys_path.empty() || authorized_path.empty()) {
        die("usage: pinhole-load keys -n N [--pairs K] [--prefix NAME] --keys FILE --authorized-keys FILE");
    }
    const bool prefix_ok = !prefix.empty() && prefix.size() <= 18 && prefix.front() >= 'a' && prefix.front() <= 'z' &&
                           prefix.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
    if (!prefix_ok) die("--prefix: lower-case letters, digits and '-', starting with a letter, at most 18 characters");
    const std::string failed = pinhole::load::write_key_files(count, pairs, prefix, keys_path, authorized_path);
    if (!failed.empty()) {
        std::fprintf(stderr, "pinhole-load keys: %s\n", failed.c_str());
        return 1;
    }
    std::printf("pinhole-load: %zu idle identities and %zu active pairs in %s; authorized_keys in %s\n", count, pairs,
                keys_path.c_str(), authorized_path.c_str());
    return 0;
}

int run_command(const std::vector<std::string>& arguments) {
    Options options;
    std::string keys_path;
    std::string sources;
    bool has_gateway = false;
    bool has_key = false;
    bool has_idle = false;
    bool has_pairs = false;
    std::string cert_pin;
    for (std::size_t i = 0; i < arguments.size(); i++) {
        const std::string& option = arguments[i];
        if (option == "--help" || option == "-h") {
            std::fputs(usage, stdout);
            return 0;
        }
        if (i + 1 >= arguments.size()) die("expected a value after " + option);
        const std::string& value = arguments[++i];
        if (option == "--gateway") {
            parse_gateway(value, options);
            has_gateway = true;
        } else if (option == "--gateway-key") {
            options.gateway_key = gateway_key(value);
            has_key = true;
        } else if (option == "--cert-sha256") {
            cert_pin = value;
        } else if (option == "--keys") {
            keys_path = value;
        } else if (option == "-n" || option == "--idle") {
            options.idle = count_option(option, value);
            has_idle = true;
        } else if (option == "--pairs") {
            options.pairs = count_option(option, value);
            has_pairs = true;
        } else if (option == "--source") {
            sources += (sources.empty() ? "" : ",") + value;
        } else if (option == "--rate") {
            options.handshake_rate = number_option(option, value);
            if (options.handshake_rate < 1) die("--rate must be at least 1");
        } else if (option == "--in-flight") {
            options.max_in_flight = std::max<std::size_t>(1, count_option(option, value));
        } else if (option == "--handshake-timeout") {
            options.handshake_timeout_ms = static_cast<std::uint32_t>(std::min(3600.0, number_option(option, value)) * 1000);
        } else if (option == "--retries") {
            options.retries = static_cast<std::uint32_t>(std::min<std::size_t>(100, count_option(option, value)));
        } else if (option == "--ping-interval") {
            const double seconds = number_option(option, value);
            if (seconds < 0.1 || seconds > 3600) die("--ping-interval: 0.1 to 3600 seconds");
            options.ping_interval_ms = static_cast<std::uint32_t>(seconds * 1000);
        } else if (option == "--datagram-bytes") {
            options.datagram_bytes = count_option(option, value);
            if (options.datagram_bytes < 1 || options.datagram_bytes > pinhole::relay::max_relay_datagram_bytes) {
                die("--datagram-bytes: 1 to 1600");
            }
        } else if (option == "--pair-rate") {
            options.pair_rate = number_option(option, value);
        } else if (option == "--duration") {
            options.duration_s = number_option(option, value);
        } else if (option == "--report") {
            options.report_interval_s = number_option(option, value);
        } else {
            die("unknown option " + option + " (see pinhole-load --help)");
        }
    }
    if (!has_gateway || !has_key || keys_path.empty()) {
        die("--gateway, --gateway-key and --keys are needed (see pinhole-load --help)");
    }
    if (!cert_pin.empty()) {
        if (!options.tls) die("--cert-sha256 is for a tls:// or wss:// gateway");
        if (!parse_hex(cert_pin, options.cert_sha256)) die("--cert-sha256: expected 64 hexadecimal digits");
        options.has_cert_sha256 = true;
    }
    if (!sources.empty()) {
        parse_sources(sources, options);
    } else if (options.gateway.ss_family == AF_INET &&
               (ntohl(reinterpret_cast<const sockaddr_in*>(&options.gateway)->sin_addr.s_addr) >> 24) == 127) {
        // Loopback aliases: at least 8, and enough to stay under the gateway's admission limit.
        const auto count = static_cast<unsigned>(std::clamp(std::ceil(options.handshake_rate / sources_per_rate), 8.0, 250.0));
        parse_sources("127.0.0.2-127.0.0." + std::to_string(1 + count), options);
    }
    if (const std::size_t count = std::max<std::size_t>(1, options.sources.size());
        options.handshake_rate / static_cast<double>(count) > gateway_admits_per_source) {
        std::fprintf(stderr, "pinhole-load: warning: %.0f new connections/s from %zu source address(es): the gateway "
                             "admits %.0f per source address per second; add sources (--source)\n",
                     options.handshake_rate, count, gateway_admits_per_source);
    }

    std::vector<pinhole::load::LoadKey> keys;
    if (const std::string failed = pinhole::load::read_key_file(keys_path, keys); !failed.empty()) {
        std::fprintf(stderr, "pinhole-load: %s\n", failed.c_str());
        return 2;
    }
    // Channels: the pairs first (both sides of each), then the idle ones.
    std::vector<std::uint32_t> pair_channels;
    std::vector<std::uint32_t> idle_channels;
    for (std::uint32_t i = 0; i < keys.size(); i++) {
        if (keys[i].partner < 0) {
            idle_channels.push_back(i);
        } else if (static_cast<std::uint32_t>(keys[i].partner) > i) {
            pair_channels.push_back(i);
            pair_channels.push_back(static_cast<std::uint32_t>(keys[i].partner));
        }
    }
    if (!has_idle) options.idle = idle_channels.size();
    if (!has_pairs) options.pairs = pair_channels.size() / 2;
    if (options.idle > idle_channels.size()) {
        die("asked for " + std::to_string(options.idle) + " idle channels, " + keys_path + " has " +
            std::to_string(idle_channels.size()) + " idle identities");
    }
    if (options.pairs > pair_channels.size() / 2) {
        die("asked for " + std::to_string(options.pairs) + " pairs, " + keys_path + " has " +
            std::to_string(pair_channels.size() / 2));
    }
    std::vector<std::uint32_t> channels(pair_channels.begin(),
                                        pair_channels.begin() + static_cast<std::ptrdiff_t>(2 * options.pairs));
    channels.insert(channels.end(), idle_channels.begin(), idle_channels.begin() + static_cast<std::ptrdiff_t>(options.idle));
    if (channels.empty()) die("nothing to open: no idle channels and no pairs");

    // One descriptor per channel, and a few more.
    rlimit limit{};
    const rlim_t needed = channels.size() + 64;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < needed) {
        limit.rlim_cur = std::min(limit.rlim_max, needed);
        (void)setrlimit(RLIMIT_NOFILE, &limit);
        if (limit.rlim_cur < needed) {
            std::fprintf(stderr, "pinhole-load: warning: the file descriptor limit is %llu, below the %zu channels: "
                                 "raise it (ulimit -n)\n", static_cast<unsigned long long>(limit.rlim_cur), channels.size());
        }
    }
    const std::size_t ports = ephemeral_ports();
    const std::size_t source_count = std::max<std::size_t>(1, options.sources.size());
    if (ports > 0 && channels.size() > ports * source_count) {
        std::fprintf(stderr, "pinhole-load: warning: %zu channels to one gateway port from %zu source addresses, but "
                             "ip_local_port_range holds %zu ports per source: add source addresses (--source)\n",
                     channels.size(), source_count, ports);
    }
    if (!options.sources.empty()) {
        std::printf("pinhole-load: source addresses %s .. %s (%zu; %zu ephemeral ports each)\n",
                    options.sources.front().text.c_str(), options.sources.back().text.c_str(), options.sources.size(), ports);
    }
    pinhole::load::Engine engine(std::move(options), std::move(keys), std::move(channels));
    return engine.run();
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::vector<std::string> arguments(argv + 1, argv + argc);
    if (arguments.empty()) {
        std::fputs(usage, stderr);
        return 2;
    }
    if (arguments[0] == "--help" || arguments[0] == "-h" || arguments[0] == "help") {
        std::fputs(usage, stdout);
        return 0;
    }
    if (arguments[0] == "keys") return keys_command({arguments.begin() + 1, arguments.end()});
    if (arguments[0] == "run") return run_command({arguments.begin() + 1, arguments.end()});
    return run_command(arguments);
}
