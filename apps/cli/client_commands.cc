// Client commands: `connect`, `forward`, `status`, `down`. Each attaches to the one node running
// with the config's key through its control socket (apps/node/control_server.h), and starts it
// in the background first when none runs (like ssh's ControlMaster=auto): two nodes with one
// key would steal each other's sessions.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sys/stat.h>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "apps/cli/commands.h"
#include "apps/node/control_protocol.h"
#include "apps/node/control_server.h"
#include "config/load.h"
#include "core/crypto/ct.h"
#include "core/keys/keys.h"

namespace pinhole::cli {
namespace {

constexpr int node_start_timeout_ms = 10'000;

struct ClientOptions {
    std::string config_path;
    std::vector<std::string> positional;
};

std::string default_config_path() {
    if (const char* chosen = std::getenv("PINHOLE_CONFIG"); chosen != nullptr && *chosen != '\0') return chosen;
    const char* home = std::getenv("HOME");
    return std::string(home != nullptr ? home : ".") + "/.config/pinhole/node.yaml";
}

// Between `fewest` and `most` positional arguments (just `fewest` when `most` is 0).
std::optional<ClientOptions> parse_options(const char* command, Arguments arguments, std::size_t fewest,
                                           const char* usage, std::size_t most = 0) {
    ClientOptions options{default_config_path(), {}};
    for (std::size_t i = 0; i < arguments.size(); i++) {
        const std::string_view argument(arguments[i]);
        if (argument == "-c" && i + 1 < arguments.size()) {
            options.config_path = arguments[++i];
        } else {
            options.positional.emplace_back(argument);
        }
    }
    if (options.positional.size() < fewest || options.positional.size() > std::max(fewest, most)) {
        complain(command, usage);
        return std::nullopt;
    }
    return options;
}

// The control socket of the node for this config's key.
std::optional<std::string> socket_path_for(const char* command, const std::string& config_path) {
    const auto node = config::load_node_config(config_path);
    if (!node.ok()) {
        std::fprintf(stderr, "%s\n", node.error().to_string().c_str());
        return std::nullopt;
    }
    const config::NodeConfig& config = node.value();
    Result<keys::KeyPair> pair = Errc::not_found;
    if (config.key.has_private_key) {
        pair = keys::key_pair_from_private(config.key.private_key);
    } else if (config.key.data_dir.size() != 0) {
        const std::string public_path = std::string(config.key.data_dir.view()) + "/agent_key.pub";
        FILE* file = std::fopen(public_path.c_str(), "r");
        std::array<char, 64> text{};
        if (file != nullptr && std::fgets(text.data(), text.size(), file) != nullptr) {
            const Result<crypto::X25519Key> key = keys::parse_key(std::string_view(text.data()));
            if (key.ok()) return node::control_socket_path(keys::overlay_address(key.value()));
        }
        if (file != nullptr) std::fclose(file);
        complain(command, ("cannot read the node's public key " + public_path +
                           " (run `pinhole up -c " + config_path + "` once to create it)").c_str());
        return std::nullopt;
    }
    if (!pair.ok()) {
        complain(command, "the config names no usable key (key.private_key or key.data_dir)");
        return std::nullopt;
    }
    return node::control_socket_path(keys::overlay_address(pair.value().public_key));
}

int connect_unix(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) return -1;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) return fd;
    if (fd >= 0) ::close(fd);
    return -1;
}

// Starts `pinhole up -c CONFIG` detached, its output in SOCKET.log.
bool start_node(const char* command, const std::string& config_path, const std::string& socket_path) {
    if (!node::prepare_control_directory(socket_path)) return false;
    const std::string log_path = socket_path + ".log";
    const pid_t child = ::fork();
    if (child < 0) return false;
    if (child == 0) {
        ::setsid();
        const int null_fd = ::open("/dev/null", O_RDONLY);
        const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (null_fd >= 0) ::dup2(null_fd, 0);
        if (log_fd >= 0) {
            ::dup2(log_fd, 1);
            ::dup2(log_fd, 2);
        }
        if (::fork() != 0) ::_exit(0);  // the node is nobody's child: no zombie, no terminal
        const char* argv[] = {"pinhole", "up", "-c", config_path.c_str(), nullptr};
        ::execv("/proc/self/exe", const_cast<char* const*>(argv));
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    std::fprintf(stderr, "pinhole %s: started a node for this key (log: %s)\n", command, log_path.c_str());
    return true;
}

// A connection to the node's control socket; starts the node when none answers.
int attach(const char* command, const std::string& config_path, bool start_if_missing) {
    const std::optional<std::string> path = socket_path_for(command, config_path);
    if (!path) return -1;
    int fd = connect_unix(*path);
    if (fd >= 0 || !start_if_missing) {
        if (fd < 0) complain(command, ("no node runs for this key (no answer at " + *path + ")").c_str());
        return fd;
    }
    if (!start_node(command, config_path, *path)) return -1;
    for (int waited_ms = 0; fd < 0 && waited_ms < node_start_timeout_ms; waited_ms += 50) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        fd = connect_unix(*path);
    }
    if (fd < 0) {
        complain(command, ("the node did not start; see " + *path + ".log").c_str());
    }
    return fd;
}

bool send_all(int fd, const char* data, std::size_t length) {
    while (length > 0) {
        const ssize_t sent = ::send(fd, data, length, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent <= 0) return false;
        data += sent;
        length -= static_cast<std::size_t>(sent);
    }
    return true;
}

volatile sig_atomic_t stop_requested = 0;
void request_stop(int) { stop_requested = 1; }

// One reply line, read byte by byte: nothing after it may be consumed (it is the stream). A
// signal that asks us to stop ends the wait.
std::optional<std::string> read_line(int fd) {
    std::string line;
    while (line.size() < node::control_line_max_bytes) {
        char c = 0;
        const ssize_t got = ::recv(fd, &c, 1, 0);
        if (got < 0 && errno == EINTR && stop_requested == 0) continue;
        if (got <= 0) return std::nullopt;
        if (c == '\n') return line;
        line.push_back(c);
    }
    return std::nullopt;
}

bool send_request(const char* command, int fd, const node::Request& request) {
    std::array<char, node::control_line_max_bytes> line{};
    const Result<std::size_t> formatted = node::format_request(request, line);
    if (!formatted.ok() || !send_all(fd, line.data(), formatted.value())) {
        complain(command, "cannot send the request to the node");
        return false;
    }
    return true;
}

// Reads the node's first reply; prints an error and returns nullopt when it is not `ok`.
std::optional<std::string> expect_ok(const char* command, int fd) {
    const std::optional<std::string> line = read_line(fd);
    const Result<node::Reply> reply = line ? node::parse_reply(*line) : Result<node::Reply>(Errc::closed);
    if (!reply.ok()) {
        complain(command, "the node closed the connection without a reply (see its log)");
        return std::nullopt;
    }
    if (reply.value().code != node::ReplyCode::ok) {
        std::fprintf(stderr, "pinhole %s: %s: %.*s\n", command, node::reply_code_name(reply.value().code),
                     static_cast<int>(reply.value().text.size()), reply.value().text.data());
        return std::nullopt;
    }
    return std::string(reply.value().text);
}

std::optional<node::Target> parse_target_argument(const char* command, const std::string& text) {
    const Result<node::Target> target = node::parse_target(text);
    if (!target.ok()) {
        complain(command, ("'" + text + "' is neither a service name nor HOST:PORT ([IPv6]:PORT for IPv6)").c_str());
        return std::nullopt;
    }
    return target.value();
}

std::optional<config::Name> agent_name(const char* command, const std::string& text) {
    config::Name name;
    if (!name.assign(text).ok()) {
        complain(command, ("'" + text + "' is not a peer name").c_str());
        return std::nullopt;
    }
    return name;
}

}  // namespace

namespace {

// stdin -> node, node -> stdout, until both directions ended (half-close passes through).
int pump_stdio(int fd) {
    std::array<char, 65536> buffer{};
    bool stdin_open = true;
    for (;;) {
        pollfd fds[2] = {{fd, POLLIN, 0}, {0, static_cast<short>(stdin_open ? POLLIN : 0), 0}};
        if (::poll(fds, stdin_open ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return got == 0 ? 0 : 1;  // the far end finished (or reset)
            for (ssize_t done = 0; done < got;) {
                const ssize_t written = ::write(1, buffer.data() + done, static_cast<std::size_t>(got - done));
                if (written < 0 && errno == EINTR) continue;
                if (written <= 0) return 1;  // stdout closed: nobody reads on
                done += written;
            }
        }
        if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            const ssize_t got = ::read(0, buffer.data(), buffer.size());
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                stdin_open = false;
                ::shutdown(fd, SHUT_WR);  // our FIN travels to the service
            } else if (!send_all(fd, buffer.data(), static_cast<std::size_t>(got))) {
                return 1;
            }
        }
    }
}

}  // namespace

namespace {

// Sends a forward's or proxy's request, prints the node's lines until Ctrl-C or the node ends.
int run_listening(const char* command, int fd, const node::Request& request, const std::string& agent) {
    if (!send_request(command, fd, request)) return 1;
    const std::optional<std::string> listening = expect_ok(command, fd);
    if (!listening) return 1;
    std::printf("pinhole %s: %s (through %s); Ctrl-C stops\n", command, listening->c_str(), agent.c_str());
    std::fflush(stdout);
    while (stop_requested == 0) {
        const std::optional<std::string> line = read_line(fd);
        if (!line) break;
        const Result<node::Reply> reply = node::parse_reply(*line);
        if (reply.ok()) {
            std::printf("pinhole %s: %.*s\n", command, static_cast<int>(reply.value().text.size()), reply.value().text.data());
        }
        std::fflush(stdout);
    }
    ::close(fd);  // the node closes the listener with us
    return stop_requested != 0 ? 0 : 1;
}

int attach_listening(const char* command, const std::string& config_path) {
    ::signal(SIGPIPE, SIG_IGN);
    struct sigaction stop {};
    stop.sa_handler = request_stop;  // no SA_RESTART: poll returns and we detach
    ::sigaction(SIGINT, &stop, nullptr);
    ::sigaction(SIGTERM, &stop, nullptr);
    return attach(command, config_path, true);
}

// --user NAME and --password-file FILE (its first line; the file must be 0600) out of
// `arguments`; the rest stays for parse_options.
std::optional<node::ProxyAuth> take_proxy_auth(std::vector<char*>& arguments) {
    node::ProxyAuth auth;
    std::string user;
    std::string password_file;
    std::vector<char*> rest;
    for (std::size_t i = 0; i < arguments.size(); i++) {
        const std::string_view argument(arguments[i]);
        if ((argument == "--user" || argument == "--password-file") && i + 1 < arguments.size()) {
            (argument == "--user" ? user : password_file) = arguments[++i];
        } else {
            rest.push_back(arguments[i]);
        }
    }
    arguments = rest;
    if (user.empty() && password_file.empty()) return auth;
    if (user.empty() || password_file.empty()) {
        complain("proxy", "--user and --password-file go together");
        return std::nullopt;
    }
    struct stat status {};
    std::ifstream file(password_file);
    std::string password;
    if (::stat(password_file.c_str(), &status) != 0 || !std::getline(file, password)) {
        complain("proxy", ("cannot read the password file " + password_file).c_str());
        return std::nullopt;
    }
    if ((status.st_mode & 077) != 0) {
        complain("proxy", ("others may read " + password_file + ": chmod 600 it").c_str());
        return std::nullopt;
    }
    auth.required = true;
    if (!auth.user.assign(user).ok() || !auth.password.assign(password).ok() || password.empty()) {
        complain("proxy", "the user name may have 1..64 bytes and the password 1..96");
        return std::nullopt;
    }
    crypto::zeroize(std::span(reinterpret_cast<std::uint8_t*>(password.data()), password.size()));
    return auth;
}

}  // namespace

int connect(Arguments arguments) {
    const auto options = parse_options("connect", arguments, 2, "usage: pinhole connect [-c FILE] AGENT SERVICE|HOST:PORT");
    if (!options) return 2;
    const auto agent = agent_name("connect", options->positional[0]);
    const auto target = parse_target_argument("connect", options->positional[1]);
    if (!agent || !target) return 2;
    ::signal(SIGPIPE, SIG_IGN);
    const int fd = attach("connect", options->config_path, true);
    if (fd < 0) return 1;
    node::Request request;
    request.command = node::Command::connect;
    request.agent = *agent;
    request.target = *target;
    if (!send_request("connect", fd, request) || !expect_ok("connect", fd)) return 1;
    const int status = pump_stdio(fd);
    ::close(fd);
    return status;
}

int forward(Arguments arguments) {
    std::vector<char*> rest;
    bool udp = false;
    for (char* argument : arguments) {
        if (std::string_view(argument) == "-u") {
            udp = true;
        } else {
            rest.push_back(argument);
        }
    }
    const auto options = parse_options("forward", Arguments(rest), 3,
                                       "usage: pinhole forward [-c FILE] [-u] AGENT [ADDR:]PORT SERVICE|HOST:PORT");
    if (!options) return 2;
    const auto agent = agent_name("forward", options->positional[0]);
    const Result<net::Endpoint> listen = node::parse_listen(options->positional[1]);
    const auto target = parse_target_argument("forward", options->positional[2]);
    if (!listen.ok()) complain("forward", "expected [ADDR:]PORT to listen on, e.g. 8080 or 127.0.0.1:8080");
    if (!agent || !target || !listen.ok()) return 2;
    const int fd = attach_listening("forward", options->config_path);
    if (fd < 0) return 1;
    node::Request request;
    request.command = udp ? node::Command::forward_udp : node::Command::forward;
    request.agent = *agent;
    request.target = *target;
    request.listen = listen.value();
    return run_listening("forward", fd, request, options->positional[0]);
}

int proxy(Arguments arguments) {
    constexpr char usage[] = "usage: pinhole proxy [-c FILE] [--user NAME --password-file FILE] AGENT [[ADDR:]PORT]";
    std::vector<char*> rest(arguments.begin(), arguments.end());
    const std::optional<node::ProxyAuth> auth = take_proxy_auth(rest);
    if (!auth) return 2;
    const auto options = parse_options("proxy", Arguments(rest), 1, usage, 2);
    if (!options) return 2;
    const auto agent = agent_name("proxy", options->positional[0]);
    const Result<net::Endpoint> listen =
        node::parse_listen(options->positional.size() == 2 ? options->positional[1] : "127.0.0.1:1080");
    if (!listen.ok()) complain("proxy", "expected [ADDR:]PORT to listen on, e.g. 1080 or 127.0.0.1:1080");
    if (!agent || !listen.ok()) return 2;
    const int fd = attach_listening("proxy", options->config_path);
    if (fd < 0) return 1;
    node::Request request;
    request.command = node::Command::proxy;
    request.agent = *agent;
    request.listen = listen.value();
    request.auth = *auth;
    return run_listening("proxy", fd, request, options->positional[0]);
}

int status(Arguments arguments) {
    const auto options = parse_options("status", arguments, 0, "usage: pinhole status [-c FILE]");
    if (!options) return 2;
    const int fd = attach("status", options->config_path, false);
    if (fd < 0) return 1;
    node::Request request;
    request.command = node::Command::status;
    if (!send_request("status", fd, request) || !expect_ok("status", fd)) return 1;
    for (std::optional<std::string> line = read_line(fd); line; line = read_line(fd)) {
        const Result<node::Reply> reply = node::parse_reply(*line);
        if (reply.ok()) std::printf("%.*s\n", static_cast<int>(reply.value().text.size()), reply.value().text.data());
    }
    ::close(fd);
    return 0;
}

int down(Arguments arguments) {
    const auto options = parse_options("down", arguments, 0, "usage: pinhole down [-c FILE]");
    if (!options) return 2;
    const int fd = attach("down", options->config_path, false);
    if (fd < 0) return 1;
    node::Request request;
    request.command = node::Command::down;
    const bool stopped = send_request("down", fd, request) && expect_ok("down", fd);
    ::close(fd);
    return stopped ? 0 : 1;
}

}  // namespace pinhole::cli
