#include "core/relay/tls_client.h"

#if PINHOLE_BOARD_HAS_TLS

#include <algorithm>

#include "core/crypto/ct.h"
#include "core/util/assert.h"

#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/sha256.h"

namespace pinhole::relay {

const char* describe(TlsFailure failure) noexcept {
    switch (failure) {
        case TlsFailure::none: return "no failure";
        case TlsFailure::setup: return "cannot set up TLS (arena memory or the CA file)";
        case TlsFailure::handshake: return "the TLS handshake failed";
        case TlsFailure::pin_mismatch: return "the gateway's certificate is not the pinned one (cert_sha256)";
        case TlsFailure::untrusted: return "the gateway's certificate is not trusted by ca_file (or names another host)";
    }
    return "?";
}

Status TlsClient::start(port::Tcp& tcp, port::TcpConnectionId connection, std::string_view server_name,
                        const TlsTrust& trust, port::Random& random) noexcept {
    stop();
    tcp_ = &tcp;
    connection_ = connection;
    random_ = &random;
    started_ = true;
    failure_ = TlsFailure::none;
    mbedtls_error_ = 0;
    pending_write_bytes_ = 0;
    mbedtls_ssl_config_init(&config_);
    mbedtls_ssl_init(&ssl_);
    mbedtls_x509_crt_init(&ca_);
    return configure(server_name, trust);
}

Status TlsClient::configure(std::string_view server_name, const TlsTrust& trust) noexcept {
    int error = mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                            MBEDTLS_SSL_PRESET_DEFAULT);
    if (error != 0) return fail(TlsFailure::setup, error);
    mbedtls_ssl_conf_rng(&config_, random_callback, random_);
    trust_kind_ = trust.kind;
    pin_ = trust.pin;
    if (trust.kind == TlsTrust::Kind::ca) {
        error = mbedtls_x509_crt_parse(&ca_, trust.ca_pem.data(), trust.ca_pem.size());
        if (error != 0) return fail(TlsFailure::setup, error);
        has_ca_ = true;
        mbedtls_ssl_conf_ca_chain(&config_, &ca_, nullptr);
        mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_REQUIRED);
    } else {
        // The pin is checked after the handshake, against the leaf the verify callback saw.
        mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_OPTIONAL);
    }
    mbedtls_ssl_conf_verify(&config_, verify_callback, this);
    error = mbedtls_ssl_setup(&ssl_, &config_);
    if (error != 0) return fail(TlsFailure::setup, error);
    std::array<char, 256> name{};
    if (!server_name.empty() && server_name.size() < name.size()) {
        std::copy(server_name.begin(), server_name.end(), name.begin());
        error = mbedtls_ssl_set_hostname(&ssl_, name.data());
        if (error != 0) return fail(TlsFailure::setup, error);
    }
    mbedtls_ssl_set_bio(&ssl_, this, send_callback, receive_callback, nullptr);
    return Status();
}

Status TlsClient::handshake() noexcept {
    PINHOLE_ASSERT(started_);
    const int result = mbedtls_ssl_handshake(&ssl_);
    if (result == MBEDTLS_ERR_SSL_WANT_READ || result == MBEDTLS_ERR_SSL_WANT_WRITE) return Errc::would_block;
    if (result == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) return fail(TlsFailure::untrusted, result);
    if (result != 0) return fail(TlsFailure::handshake, result);
    return check_certificate();
}

Status TlsClient::check_certificate() noexcept {
    if (trust_kind_ == TlsTrust::Kind::ca && mbedtls_ssl_get_verify_result(&ssl_) != 0) {
        return fail(TlsFailure::untrusted, MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    }
    if (trust_kind_ == TlsTrust::Kind::pin && !crypto::constant_time_equal(presented_sha256_, pin_)) {
        return fail(TlsFailure::pin_mismatch, MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    }
    return Status();
}

Result<std::size_t> TlsClient::read(std::span<std::uint8_t> out) noexcept {
    const int got = mbedtls_ssl_read(&ssl_, out.data(), out.size());
    if (got >= 0) return static_cast<std::size_t>(got);
    if (got == MBEDTLS_ERR_SSL_WANT_READ || got == MBEDTLS_ERR_SSL_WANT_WRITE) return Errc::would_block;
    if (got == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return std::size_t{0};
    mbedtls_error_ = got;
    return Errc::io;
}

Result<std::size_t> TlsClient::write(std::span<const std::uint8_t> bytes) noexcept {
    // A record mbedTLS has started to send must be offered again with the same length; the
    // caller's buffer still begins with those bytes, since none of them was reported written.
    std::size_t length = std::min<std::size_t>(bytes.size(), MBEDTLS_SSL_OUT_CONTENT_LEN);
    if (pending_write_bytes_ != 0) length = std::min(length, pending_write_bytes_);
    const int written = mbedtls_ssl_write(&ssl_, bytes.data(), length);
    if (written == MBEDTLS_ERR_SSL_WANT_WRITE || written == MBEDTLS_ERR_SSL_WANT_READ) {
        pending_write_bytes_ = length;
        return Errc::would_block;
    }
    pending_write_bytes_ = 0;
    if (written < 0) {
        mbedtls_error_ = written;
        return Errc::io;
    }
    return static_cast<std::size_t>(written);
}

void TlsClient::stop() noexcept {
    if (!started_) return;
    mbedtls_ssl_free(&ssl_);  // wipes the session keys before giving the memory back
    mbedtls_ssl_config_free(&config_);
    if (has_ca_) mbedtls_x509_crt_free(&ca_);
    has_ca_ = false;
    started_ = false;
}

Status TlsClient::fail(TlsFailure failure, int mbedtls_error) noexcept {
    failure_ = failure;
    mbedtls_error_ = mbedtls_error;
    return failure == TlsFailure::setup ? Errc::no_space : Errc::refused;
}

int TlsClient::send_callback(void* self, const unsigned char* bytes, std::size_t length) {
    auto& client = *static_cast<TlsClient*>(self);
    const Result<std::size_t> written = client.tcp_->write(client.connection_, std::span(bytes, length));
    if (written.ok()) return static_cast<int>(written.value());
    return written.error() == Errc::would_block ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
}

int TlsClient::receive_callback(void* self, unsigned char* out, std::size_t length) {
    auto& client = *static_cast<TlsClient*>(self);
    const Result<std::size_t> got = client.tcp_->read(client.connection_, std::span(out, length));
    if (got.ok()) return static_cast<int>(got.value());  // 0: the server closed
    return got.error() == Errc::would_block ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
}

int TlsClient::random_callback(void* random, unsigned char* out, std::size_t length) {
    return static_cast<port::Random*>(random)->fill(std::span(out, length)).ok() ? 0 : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

// Sees each certificate of the chain; the leaf (depth 0) is the one a pin names.
int TlsClient::verify_callback(void* self, mbedtls_x509_crt* certificate, int depth, std::uint32_t* flags) {
    auto& client = *static_cast<TlsClient*>(self);
    if (depth != 0) return 0;
    if (mbedtls_sha256_ret(certificate->raw.p, certificate->raw.len, client.presented_sha256_.data(), 0) != 0) {
        client.presented_sha256_ = {};
    }
    if (client.trust_kind_ != TlsTrust::Kind::ca) *flags = 0;  // pin (checked after) or nothing to check
    return 0;
}

}  // namespace pinhole::relay

#endif  // PINHOLE_BOARD_HAS_TLS
