#include "core/proxy/socks5_server.h"

#include <algorithm>
#include <cstring>

#include "core/crypto/ct.h"
#include "core/util/time.h"

namespace pinhole::proxy {
namespace {

// How many more bytes the message in `buffered` needs (0: it is whole, or the parser can judge
// it). Reading exactly that much leaves whatever the client sent after its request (an early
// first payload) in the socket, for the stream that takes the connection over.
std::size_t missing_greeting_bytes(std::span<const std::uint8_t> buffered) noexcept {
    if (buffered.size() < 2) return 2 - buffered.size();
    return std::max<std::size_t>(buffered.size(), 2 + buffered[1]) - buffered.size();
}

std::size_t missing_credentials_bytes(std::span<const std::uint8_t> buffered) noexcept {
    if (buffered.size() < 2) return 2 - buffered.size();
    const std::size_t user_end = 2 + buffered[1];
    if (buffered.size() < user_end + 1) return user_end + 1 - buffered.size();
    return std::max<std::size_t>(buffered.size(), user_end + 1 + buffered[user_end]) - buffered.size();
}

std::size_t missing_request_bytes(std::span<const std::uint8_t> buffered) noexcept {
    constexpr std::size_t head_bytes = 5;  // VER CMD RSV ATYP and the address's first byte
    if (buffered.size() < head_bytes) return head_bytes - buffered.size();
    std::size_t total = head_bytes;  // an unknown ATYP: the parser refuses it now
    switch (static_cast<AddressType>(buffered[3])) {
        case AddressType::ipv4: total = 4 + 4 + 2; break;
        case AddressType::ipv6: total = 4 + 16 + 2; break;
        case AddressType::host_name: total = 4 + 1 + buffered[4] + 2; break;
    }
    return std::max(buffered.size(), total) - buffered.size();
}

}  // namespace

Socks5Server::Socks5Server(port::Tcp& tcp, port::Clock& clock, Socks5Events& events,
                           const Socks5Settings& settings) noexcept
    : tcp_(tcp), clock_(clock), events_(events), settings_(settings) {}

Socks5Server::~Socks5Server() {
    for (Negotiation& negotiation : negotiations_) {
        if (negotiation.phase != Phase::free) tcp_.close(negotiation.connection, true);
        crypto::zeroize(negotiation.buffer);  // may hold a password
    }
}

Status Socks5Server::accept(port::TcpConnectionId connection, const net::Endpoint& from) noexcept {
    const auto free = std::find_if(negotiations_.begin(), negotiations_.end(),
                                   [](const Negotiation& n) { return n.phase == Phase::free; });
    if (free == negotiations_.end()) {
        counters_.refused_busy++;
        tcp_.close(connection, true);
        return Errc::no_space;
    }
    free->phase = Phase::greeting;
    free->connection = connection;
    free->from = from;
    free->buffered = 0;
    free->deadline_ms = deadline_after(clock_.monotonic_ms(), settings_.negotiation_timeout_ms);
    tcp_.set_events(connection, *this);
    return Status();
}

Socks5Server::Negotiation* Socks5Server::find(port::TcpConnectionId connection) noexcept {
    for (Negotiation& negotiation : negotiations_) {
        if (negotiation.phase != Phase::free && negotiation.connection == connection) return &negotiation;
    }
    return nullptr;
}

void Socks5Server::on_readable(port::TcpConnectionId connection) noexcept {
    Negotiation* negotiation = find(connection);
    // While the owner works on the request, what the client sends stays in the socket.
    if (negotiation == nullptr || negotiation->phase == Phase::owner_answers) return;
    // Bounded: each round reads at least one byte of a message of at most buffer.size() bytes.
    for (std::size_t round = 0; round <= negotiation->buffer.size() && negotiation->phase != Phase::free; round++) {
        const std::span<const std::uint8_t> buffered(negotiation->buffer.data(), negotiation->buffered);
        std::size_t missing = 0;
        if (negotiation->phase == Phase::greeting) missing = missing_greeting_bytes(buffered);
        if (negotiation->phase == Phase::credentials) missing = missing_credentials_bytes(buffered);
        if (negotiation->phase == Phase::request) missing = missing_request_bytes(buffered);
        if (negotiation->phase == Phase::owner_answers) return;
        if (missing == 0) {
            advance(*negotiation);
            continue;
        }
        const std::size_t room = negotiation->buffer.size() - negotiation->buffered;
        const Result<std::size_t> got = tcp_.read(
            connection, std::span(negotiation->buffer).subspan(negotiation->buffered, std::min(missing, room)));
        if (!got.ok()) return;  // would_block; failures come as on_closed
        if (got.value() == 0) {
            counters_.abandoned++;
            close(*negotiation, false);
            return;
        }
        negotiation->buffered += got.value();
    }
}

// One whole message is buffered: handles it and keeps what follows it.
void Socks5Server::advance(Negotiation& negotiation) noexcept {
    std::size_t consumed = 0;
    switch (negotiation.phase) {
        case Phase::greeting: consumed = handle_greeting(negotiation); break;
        case Phase::credentials: consumed = handle_credentials(negotiation); break;
        case Phase::request: consumed = handle_request(negotiation); break;
        case Phase::free:
        case Phase::owner_answers: return;
    }
    if (negotiation.phase == Phase::free) return;
    std::memmove(negotiation.buffer.data(), negotiation.buffer.data() + consumed, negotiation.buffered - consumed);
    negotiation.buffered -= consumed;
}

std::size_t Socks5Server::handle_greeting(Negotiation& negotiation) noexcept {
    const Result<Parsed<Greeting>> greeting =
        parse_greeting(std::span(negotiation.buffer.data(), negotiation.buffered));
    if (!greeting.ok()) {
        counters_.refused_malformed++;
        close(negotiation, false);
        return 0;
    }
    const bool wants_password = !settings_.user.empty();
    const AuthMethod method =
        pick_method(greeting.value().message, ServerAuth{.no_auth = !wants_password, .user_password = wants_password});
    std::array<std::uint8_t, method_choice_bytes> choice{};
    const Result<std::size_t> encoded = encode_method_choice(method, choice);
    if (!encoded.ok() || !send(negotiation, std::span(choice.data(), encoded.value()))) return 0;
    if (method == AuthMethod::no_acceptable) {
        counters_.refused_method++;
        close(negotiation, false);
        return 0;
    }
    negotiation.phase = method == AuthMethod::user_password ? Phase::credentials : Phase::request;
    return greeting.value().consumed;
}

std::size_t Socks5Server::handle_credentials(Negotiation& negotiation) noexcept {
    const Result<Parsed<Credentials>> credentials =
        parse_user_password(std::span(negotiation.buffer.data(), negotiation.buffered));
    if (!credentials.ok()) {
        counters_.refused_malformed++;
        std::array<std::uint8_t, auth_status_bytes> failure{};  // RFC 1929: a status, then close
        const Result<std::size_t> encoded = encode_auth_status(false, failure);
        if (encoded.ok() && !send(negotiation, std::span(failure.data(), encoded.value()))) return 0;
        close(negotiation, false);
        return 0;
    }
    const auto bytes = [](std::string_view text) {
        return std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    };
    const Credentials& given = credentials.value().message;
    // Both compared whole, in constant time, so the time taken says nothing about either.
    const bool user_ok = crypto::constant_time_equal(bytes(given.user), bytes(settings_.user));
    const bool password_ok = crypto::constant_time_equal(bytes(given.password), bytes(settings_.password));
    const std::size_t consumed = credentials.value().consumed;
    crypto::zeroize(std::span(negotiation.buffer.data(), consumed));
    std::array<std::uint8_t, auth_status_bytes> status{};
    const Result<std::size_t> encoded = encode_auth_status(user_ok && password_ok, status);
    if (!encoded.ok() || !send(negotiation, std::span(status.data(), encoded.value()))) return 0;
    if (!user_ok || !password_ok) {
        counters_.refused_credentials++;
        close(negotiation, false);
        return 0;
    }
    negotiation.phase = Phase::request;
    return consumed;
}

std::size_t Socks5Server::handle_request(Negotiation& negotiation) noexcept {
    const std::span<const std::uint8_t> buffered(negotiation.buffer.data(), negotiation.buffered);
    const Result<Parsed<Request>> request = parse_request(buffered);
    if (!request.ok()) {
        counters_.refused_malformed++;
        refuse_request(negotiation, reply_for_refused_request(buffered));
        return 0;
    }
    const Request& message = request.value().message;
    if (message.command == Command::bind) {
        counters_.refused_command++;
        refuse_request(negotiation, ReplyCode::command_not_supported);
        return 0;
    }
    counters_.requests++;
    negotiation.phase = Phase::owner_answers;
    negotiation.deadline_ms = deadline_after(clock_.monotonic_ms(), settings_.answer_timeout_ms);
    const port::TcpConnectionId connection = negotiation.connection;
    const std::size_t consumed = request.value().consumed;
    if (message.command == Command::connect) {
        events_.on_socks_connect(connection, message.destination);  // may answer at once
        return consumed;
    }
    counters_.udp_associations++;
    // The client may name the port it will send from; its address is the connection's.
    const bool names_port = message.destination.host_name.size() == 0 && message.destination.endpoint.port != 0;
    events_.on_socks_udp_associate(connection, net::Endpoint{negotiation.from.address,
                                                             names_port ? message.destination.endpoint.port
                                                                        : std::uint16_t{0}});
    return consumed;
}

Status Socks5Server::succeed(port::TcpConnectionId connection, const net::Endpoint& bound) noexcept {
    Negotiation* negotiation = find(connection);
    if (negotiation == nullptr || negotiation->phase != Phase::owner_answers) return Errc::invalid_argument;
    std::array<std::uint8_t, max_reply_bytes> reply{};
    const Result<std::size_t> encoded = encode_reply(ReplyCode::succeeded, bound, reply);
    if (!encoded.ok() || !send(*negotiation, std::span(reply.data(), encoded.value()))) return Errc::closed;
    negotiation->phase = Phase::free;  // the owner's now
    return Status();
}

void Socks5Server::refuse(port::TcpConnectionId connection, ReplyCode code) noexcept {
    Negotiation* negotiation = find(connection);
    if (negotiation == nullptr || negotiation->phase != Phase::owner_answers) return;
    counters_.refused_by_owner++;
    refuse_request(*negotiation, code);
}

void Socks5Server::refuse_request(Negotiation& negotiation, ReplyCode code) noexcept {
    std::array<std::uint8_t, max_reply_bytes> reply{};
    const Result<std::size_t> encoded = encode_reply(code, net::Endpoint{}, reply);
    if (encoded.ok() && !send(negotiation, std::span(reply.data(), encoded.value()))) return;
    close(negotiation, false);
}

// A few bytes on a fresh connection: all or nothing. A client that does not read them is gone.
bool Socks5Server::send(Negotiation& negotiation, std::span<const std::uint8_t> bytes) noexcept {
    const Result<std::size_t> written = tcp_.write(negotiation.connection, bytes);
    if (written.ok() && written.value() == bytes.size()) return true;
    counters_.abandoned++;
    close(negotiation, false);  // the caller (or the owner, through succeed's result) knows
    return false;
}

void Socks5Server::close(Negotiation& negotiation, bool tell_owner) noexcept {
    const port::TcpConnectionId connection = negotiation.connection;
    tcp_.close(connection, false);
    crypto::zeroize(negotiation.buffer);
    negotiation.phase = Phase::free;
    negotiation.buffered = 0;
    if (tell_owner) events_.on_socks_abandoned(connection);
}

void Socks5Server::on_closed(port::TcpConnectionId connection, Errc) noexcept {
    Negotiation* negotiation = find(connection);
    if (negotiation == nullptr) return;
    const bool owner_answers = negotiation->phase == Phase::owner_answers;
    crypto::zeroize(negotiation->buffer);
    negotiation->phase = Phase::free;  // the port released the id already
    negotiation->buffered = 0;
    counters_.abandoned++;
    if (owner_answers) events_.on_socks_abandoned(connection);
}

void Socks5Server::tick() noexcept {
    const std::uint32_t now = clock_.monotonic_ms();
    for (Negotiation& negotiation : negotiations_) {
        if (negotiation.phase == Phase::free || !time_after_or_equal(now, negotiation.deadline_ms)) continue;
        counters_.timed_out++;
        // An owner that never answered forgets the request (its dial, say) when told.
        close(negotiation, negotiation.phase == Phase::owner_answers);
    }
}

}  // namespace pinhole::proxy
