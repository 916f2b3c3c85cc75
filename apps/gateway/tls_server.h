// The gateway's TLS (mbedTLS, TLS 1.2): its certificate (`gateway init` makes a self-signed
// ECDSA P-256 one; any PEM certificate and key do) and one server session per tls:// channel on
// a non-blocking socket. TLS only carries the relay channel: the Noise_IK session inside
// authenticates both ends whatever the certificate (DESIGN §2).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

namespace pinhole::gateway {

// mbedTLS may use the C library's heap in the gateway (a Linux server, not a board).
void use_heap_for_mbedtls();

// SHA-256 of a certificate's DER: what nodes pin as gateway.cert_sha256.
std::string certificate_sha256_hex(const mbedtls_x509_crt& certificate);

// Makes `directory`/gateway.key (0600) and gateway.crt (self-signed, CN "pinhole gateway", ten
// years) unless both exist. Empty on success, else what went wrong.
std::string make_self_signed_certificate(const std::string& directory);

class TlsServerConfig {
public:
    // Loads a PEM certificate (chain) and its private key; empty on success, else the reason
    // naming the file.
    std::string load(const std::string& certificate_path, const std::string& key_path);
    ~TlsServerConfig();
    [[nodiscard]] const mbedtls_ssl_config& config() const { return config_; }
    [[nodiscard]] std::string certificate_sha256() const { return certificate_sha256_hex(certificate_); }

private:
    bool loaded_ = false;
    mbedtls_x509_crt certificate_{};
    mbedtls_pk_context key_{};
    mbedtls_ssl_config config_{};
};

// One channel's TLS. Results: > 0 bytes, 0 the node closed, transport_would_block, or
// transport_failed (failure() says why).
inline constexpr long transport_would_block = -1;
inline constexpr long transport_failed = -2;

class TlsServerSession {
public:
    TlsServerSession() = default;
    TlsServerSession(const TlsServerSession&) = delete;
    TlsServerSession& operator=(const TlsServerSession&) = delete;
    ~TlsServerSession();

    [[nodiscard]] bool start(const TlsServerConfig& config, int fd);
    [[nodiscard]] long read(std::span<std::uint8_t> out);
    [[nodiscard]] long write(std::span<const std::uint8_t> bytes);
    [[nodiscard]] std::string failure() const;

private:
    [[nodiscard]] long finish_handshake();
    static int send_callback(void* self, const unsigned char* bytes, std::size_t length);
    static int receive_callback(void* self, unsigned char* out, std::size_t length);

    int fd_ = -1;
    bool started_ = false;
    bool handshake_done_ = false;
    std::size_t pending_write_bytes_ = 0;  // a WANT_WRITE must be retried with the same bytes
    int error_ = 0;
    mbedtls_ssl_context ssl_{};
};

}  // namespace pinhole::gateway
