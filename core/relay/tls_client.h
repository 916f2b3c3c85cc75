// TLS 1.2 (mbedTLS) around one port::Tcp connection: the tls:// transport of the relay channel.
// The Noise_IK session inside already authenticates the gateway by its pinned key; TLS only
// protects and disguises the transport (DESIGN §2). Its certificate is checked one of three ways:
//   pin      the SHA-256 of the gateway's certificate (DER), as `gateway init` prints it;
//   ca       a CA in PEM (gateway.ca_file, read by the app), with the host name checked;
//   none     not checked (logged by the caller): the pinned gateway key is the only check.
//
// mbedTLS takes its memory from the board's arena (mbedtls_memory_buffer_alloc_init, installed by
// the port at start-up): about 40 KiB while connected. Only boards with PINHOLE_BOARD_HAS_TLS.
#pragma once

#include "board_budget.h"

#if PINHOLE_BOARD_HAS_TLS

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/util/result.h"
#include "port/random.h"
#include "port/tcp.h"

#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

namespace pinhole::relay {

inline constexpr std::size_t certificate_sha256_bytes = 32;

struct TlsTrust {
    enum class Kind : std::uint8_t { none, pin, ca };
    Kind kind = Kind::none;
    std::array<std::uint8_t, certificate_sha256_bytes> pin{};
    std::span<const std::uint8_t> ca_pem;  // NUL-terminated PEM, as mbedtls_x509_crt_parse wants
};

// Why a handshake failed, for the log line the user reads.
enum class TlsFailure : std::uint8_t {
    none,
    setup,             // out of arena memory, or the CA did not parse
    handshake,         // protocol error or the connection closed during the handshake
    pin_mismatch,      // the certificate is not the pinned one (see presented_sha256)
    untrusted,         // not signed by the CA, expired, or for another host name
};

[[nodiscard]] const char* describe(TlsFailure failure) noexcept;

class TlsClient {
public:
    TlsClient() noexcept = default;
    TlsClient(const TlsClient&) = delete;
    TlsClient& operator=(const TlsClient&) = delete;
    ~TlsClient() { stop(); }

    // Prepares a session over `connection` (connected already). `server_name` goes into SNI and,
    // with a CA, is the name the certificate must carry; empty for an IP address.
    [[nodiscard]] Status start(port::Tcp& tcp, port::TcpConnectionId connection, std::string_view server_name,
                               const TlsTrust& trust, port::Random& random) noexcept;
    // Advances the handshake: ok when finished and the certificate passed, would_block while it
    // waits for the network, anything else is over (failure() says why).
    [[nodiscard]] Status handshake() noexcept;
    // Plaintext in and out once the handshake is done; read's 0 means the server closed.
    [[nodiscard]] Result<std::size_t> read(std::span<std::uint8_t> out) noexcept;
    [[nodiscard]] Result<std::size_t> write(std::span<const std::uint8_t> bytes) noexcept;
    // Frees the session's arena memory. Safe to call twice.
    void stop() noexcept;

    [[nodiscard]] TlsFailure failure() const noexcept { return failure_; }
    // The last mbedTLS error as the digits its documentation uses: -0x7780 gives {0x77, 0x80}.
    [[nodiscard]] std::array<std::uint8_t, 2> mbedtls_error_code() const noexcept {
        const auto code = static_cast<std::uint16_t>(-mbedtls_error_);
        return {static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code)};
    }
    [[nodiscard]] const std::array<std::uint8_t, certificate_sha256_bytes>& presented_sha256() const noexcept {
        return presented_sha256_;
    }

private:
    static int send_callback(void* self, const unsigned char* bytes, std::size_t length);
    static int receive_callback(void* self, unsigned char* out, std::size_t length);
    static int random_callback(void* random, unsigned char* out, std::size_t length);
    static int verify_callback(void* self, mbedtls_x509_crt* certificate, int depth, std::uint32_t* flags);
    [[nodiscard]] Status configure(std::string_view server_name, const TlsTrust& trust) noexcept;
    [[nodiscard]] Status check_certificate() noexcept;
    [[nodiscard]] Status fail(TlsFailure failure, int mbedtls_error) noexcept;

    port::Tcp* tcp_ = nullptr;
    port::TcpConnectionId connection_ = 0;
    port::Random* random_ = nullptr;
    bool started_ = false;
    bool has_ca_ = false;
    TlsTrust::Kind trust_kind_ = TlsTrust::Kind::none;
    std::array<std::uint8_t, certificate_sha256_bytes> pin_{};
    std::array<std::uint8_t, certificate_sha256_bytes> presented_sha256_{};
    std::size_t pending_write_bytes_ = 0;  // mbedTLS wants a WANT_WRITE retried with the same bytes
    TlsFailure failure_ = TlsFailure::none;
    int mbedtls_error_ = 0;
    mbedtls_ssl_config config_{};
    mbedtls_ssl_context ssl_{};
    mbedtls_x509_crt ca_{};
};

}  // namespace pinhole::relay

#endif  // PINHOLE_BOARD_HAS_TLS
