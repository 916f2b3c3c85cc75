#include "core/crypto/openssl/contexts.h"

#include <openssl/evp.h>

namespace pinhole::crypto::openssl {
namespace {

// Frees its contexts when the thread ends (EVP_CIPHER_CTX_free wipes the cipher state).
class ThreadAeadContexts {
public:
    constexpr ThreadAeadContexts() noexcept = default;
    ThreadAeadContexts(const ThreadAeadContexts&) = delete;
    ThreadAeadContexts& operator=(const ThreadAeadContexts&) = delete;
    ~ThreadAeadContexts() {
        EVP_CIPHER_CTX_free(seal_);
        EVP_CIPHER_CTX_free(open_);
    }

    EVP_CIPHER_CTX* get(AeadDirection direction) noexcept {
        EVP_CIPHER_CTX*& context = direction == AeadDirection::seal ? seal_ : open_;
        if (context == nullptr) context = make(direction);
        return context;
    }

private:
    // The only allocations of the backend: the context, and OpenSSL 3's fetch of the cipher
    // from its provider, which the context keeps. Key and nonce come with each call.
    static EVP_CIPHER_CTX* make(AeadDirection direction) noexcept {
        EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
        const int encrypt = direction == AeadDirection::seal ? 1 : 0;
        if (context != nullptr && EVP_CipherInit_ex2(context, EVP_chacha20_poly1305(), nullptr,
                                                     nullptr, encrypt, nullptr) != 1) {
            EVP_CIPHER_CTX_free(context);
            context = nullptr;
        }
        return context;
    }

    EVP_CIPHER_CTX* seal_ = nullptr;
    EVP_CIPHER_CTX* open_ = nullptr;
};

// Per thread: two nodes on two threads must not share a context mid-packet.
thread_local ThreadAeadContexts thread_contexts;

}  // namespace

EVP_CIPHER_CTX* chacha20poly1305_context(AeadDirection direction) noexcept {
    return thread_contexts.get(direction);
}

}  // namespace pinhole::crypto::openssl
