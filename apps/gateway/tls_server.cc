#include "apps/gateway/tls_server.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/platform.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"
#include "port/posix/services.h"

namespace pinhole::gateway {
namespace {

int random_callback(void*, unsigned char* out, std::size_t length) {
    posix::PosixRandom random;
    return random.fill(std::span(out, length)).ok() ? 0 : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

std::string mbedtls_text(int error) {
    std::array<char, 160> text{};
    mbedtls_strerror(error, text.data(), text.size());
    std::array<char, 32> code{};
    std::snprintf(code.data(), code.size(), " (-0x%04x)", static_cast<unsigned>(-error));
    return std::string(text.data()) + code.data();
}

// The whole file with a NUL after it (mbedTLS's PEM parsers want one); false if unreadable.
bool read_pem(const std::string& path, std::string& text) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream contents;
    contents << file.rdbuf();
    if (!file) return false;
    text = contents.str();
    text.push_back('\0');
    return true;
}

bool exists(const std::string& path) {
    struct stat info{};
    return ::stat(path.c_str(), &info) == 0;
}

// Writes `text` to `path` with `mode`, replacing it atomically.
bool write_file(const std::string& path, std::string_view text, mode_t mode) {
    const std::string temporary = path + ".tmp";
    std::FILE* file = std::fopen(temporary.c_str(), "wx");
    if (file == nullptr) return false;
    const bool written = ::fchmod(fileno(file), mode) == 0 && std::fwrite(text.data(), 1, text.size(), file) == text.size();
    if (std::fclose(file) != 0 || !written || std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        return false;
    }
    return true;
}

std::string validity_time(std::time_t at) {
    std::tm utc{};
    gmtime_r(&at, &utc);
    std::array<char, 16> text{};
    std::strftime(text.data(), text.size(), "%Y%m%d%H%M%S", &utc);
    return text.data();
}

// A fresh P-256 key and a self-signed certificate for it, both in PEM.
std::string make_key_and_certificate(std::string& key_pem, std::string& certificate_pem) {
    mbedtls_pk_context key;
    mbedtls_x509write_cert writer;
    mbedtls_mpi serial;
    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&writer);
    mbedtls_mpi_init(&serial);
    std::array<unsigned char, 4096> pem{};
    std::array<unsigned char, 16> serial_bytes{};
    const std::time_t now = std::time(nullptr);
    int error = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (error == 0) error = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), random_callback, nullptr);
    if (error == 0) error = mbedtls_pk_write_key_pem(&key, pem.data(), pem.size());
    if (error == 0) key_pem = reinterpret_cast<const char*>(pem.data());
    if (error == 0) error = random_callback(nullptr, serial_bytes.data(), serial_bytes.size());
    serial_bytes[0] &= 0x7f;  // a positive serial number
    if (error == 0) error = mbedtls_mpi_read_binary(&serial, serial_bytes.data(), serial_bytes.size());
    if (error == 0) {
        mbedtls_x509write_crt_set_version(&writer, MBEDTLS_X509_CRT_VERSION_3);
        mbedtls_x509write_crt_set_md_alg(&writer, MBEDTLS_MD_SHA256);
        mbedtls_x509write_crt_set_subject_key(&writer, &key);
        mbedtls_x509write_crt_set_issuer_key(&writer, &key);
        error = mbedtls_x509write_crt_set_subject_name(&writer, "CN=pinhole gateway");
    }
    if (error == 0) error = mbedtls_x509write_crt_set_issuer_name(&writer, "CN=pinhole gateway");
    if (error == 0) error = mbedtls_x509write_crt_set_serial(&writer, &serial);
    if (error == 0) {
        error = mbedtls_x509write_crt_set_validity(&writer, validity_time(now - 86400).c_str(),
                                                   validity_time(now + 10L * 365 * 86400).c_str());
    }
    if (error == 0) error = mbedtls_x509write_crt_set_basic_constraints(&writer, 0, -1);
    if (error == 0) error = mbedtls_x509write_crt_pem(&writer, pem.data(), pem.size(), random_callback, nullptr);
    if (error == 0) certificate_pem = reinterpret_cast<const char*>(pem.data());
    mbedtls_platform_zeroize(pem.data(), pem.size());
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&writer);
    mbedtls_pk_free(&key);
    return error == 0 ? std::string() : "cannot make the TLS key and certificate: " + mbedtls_text(error);
}

}  // namespace

void use_heap_for_mbedtls() { (void)mbedtls_platform_set_calloc_free(std::calloc, std::free); }

std::string certificate_sha256_hex(const mbedtls_x509_crt& certificate) {
    std::array<unsigned char, 32> digest{};
    if (mbedtls_sha256_ret(certificate.raw.p, certificate.raw.len, digest.data(), 0) != 0) return "?";
    std::string text;
    for (const unsigned char byte : digest) {
        std::array<char, 3> pair{};
        std::snprintf(pair.data(), pair.size(), "%02x", byte);
        text += pair.data();
    }
    return text;
}

std::string make_self_signed_certificate(const std::string& directory) {
    const std::string key_path = directory + "/gateway.key";
    const std::string certificate_path = directory + "/gateway.crt";
    if (exists(key_path) && exists(certificate_path)) return {};
    std::string key_pem;
    std::string certificate_pem;
    if (std::string failed = make_key_and_certificate(key_pem, certificate_pem); !failed.empty()) return failed;
    const bool written = write_file(key_path, key_pem, 0600) && write_file(certificate_path, certificate_pem, 0644);
    mbedtls_platform_zeroize(key_pem.data(), key_pem.size());
    if (!written) return "cannot write " + key_path + " or " + certificate_path + ": " + std::strerror(errno);
    return {};
}

std::string TlsServerConfig::load(const std::string& certificate_path, const std::string& key_path) {
    mbedtls_x509_crt_init(&certificate_);
    mbedtls_pk_init(&key_);
    mbedtls_ssl_config_init(&config_);
    loaded_ = true;
    std::string pem;
    if (!read_pem(certificate_path, pem)) return certificate_path + ": cannot read it: " + std::strerror(errno);
    int error = mbedtls_x509_crt_parse(&certificate_, reinterpret_cast<const unsigned char*>(pem.data()), pem.size());
    if (error != 0) return certificate_path + ": not a PEM certificate: " + mbedtls_text(error);
    if (!read_pem(key_path, pem)) return key_path + ": cannot read it: " + std::strerror(errno);
    error = mbedtls_pk_parse_key(&key_, reinterpret_cast<const unsigned char*>(pem.data()), pem.size(), nullptr, 0);
    mbedtls_platform_zeroize(pem.data(), pem.size());
    if (error != 0) return key_path + ": not a PEM private key: " + mbedtls_text(error);
    if (mbedtls_pk_check_pair(&certificate_.pk, &key_) != 0) {
        return key_path + ": this key does not belong to the certificate in " + certificate_path;
    }
    error = mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
    if (error == 0) error = mbedtls_ssl_conf_own_cert(&config_, &certificate_, &key_);
    if (error != 0) return "cannot set up TLS: " + mbedtls_text(error);
    mbedtls_ssl_conf_rng(&config_, random_callback, nullptr);
    return {};
}

TlsServerConfig::~TlsServerConfig() {
    if (!loaded_) return;
    mbedtls_ssl_config_free(&config_);
    mbedtls_pk_free(&key_);
    mbedtls_x509_crt_free(&certificate_);
}

TlsServerSession::~TlsServerSession() {
    if (started_) mbedtls_ssl_free(&ssl_);
}

bool TlsServerSession::start(const TlsServerConfig& config, int fd) {
    fd_ = fd;
    mbedtls_ssl_init(&ssl_);
    started_ = true;
    error_ = mbedtls_ssl_setup(&ssl_, &config.config());
    mbedtls_ssl_set_bio(&ssl_, this, send_callback, receive_callback, nullptr);
    return error_ == 0;
}

long TlsServerSession::finish_handshake() {
    const int result = mbedtls_ssl_handshake(&ssl_);
    if (result == MBEDTLS_ERR_SSL_WANT_READ || result == MBEDTLS_ERR_SSL_WANT_WRITE) return transport_would_block;
    if (result != 0) {
        error_ = result;
        return transport_failed;
    }
    handshake_done_ = true;
    return 0;
}

long TlsServerSession::read(std::span<std::uint8_t> out) {
    if (!handshake_done_) {
        if (const long done = finish_handshake(); done != 0) return done;
    }
    const int got = mbedtls_ssl_read(&ssl_, out.data(), out.size());
    if (got >= 0) return got;
    if (got == MBEDTLS_ERR_SSL_WANT_READ || got == MBEDTLS_ERR_SSL_WANT_WRITE) return transport_would_block;
    if (got == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return 0;
    error_ = got;
    return transport_failed;
}

long TlsServerSession::write(std::span<const std::uint8_t> bytes) {
    if (!handshake_done_) {
        if (const long done = finish_handshake(); done != 0) return done;
    }
    std::size_t length = std::min<std::size_t>(bytes.size(), MBEDTLS_SSL_OUT_CONTENT_LEN);
    if (pending_write_bytes_ != 0) length = std::min(length, pending_write_bytes_);
    const int written = mbedtls_ssl_write(&ssl_, bytes.data(), length);
    if (written == MBEDTLS_ERR_SSL_WANT_WRITE || written == MBEDTLS_ERR_SSL_WANT_READ) {
        pending_write_bytes_ = length;
        return transport_would_block;
    }
    pending_write_bytes_ = 0;
    if (written < 0) {
        error_ = written;
        return transport_failed;
    }
    return written;
}

std::string TlsServerSession::failure() const { return "TLS: " + mbedtls_text(error_); }

int TlsServerSession::send_callback(void* self, const unsigned char* bytes, std::size_t length) {
    const ssize_t sent = ::send(static_cast<TlsServerSession*>(self)->fd_, bytes, length, MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<int>(sent);
    return errno == EAGAIN || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
}

int TlsServerSession::receive_callback(void* self, unsigned char* out, std::size_t length) {
    const ssize_t got = ::recv(static_cast<TlsServerSession*>(self)->fd_, out, length, 0);
    if (got >= 0) return static_cast<int>(got);
    return errno == EAGAIN || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
}

}  // namespace pinhole::gateway
