// genkey, pubkey, genpsk: the same text in and out as `wg genkey`, `wg pubkey`, `wg genpsk`.
#include <unistd.h>

#include <array>
#include <cstdio>

#include "apps/cli/commands.h"
#include "core/crypto/ct.h"
#include "core/keys/keys.h"
#include "port/posix/services.h"

namespace pinhole::cli {
namespace {

void print_key(const keys::X25519Key& key) {
    std::array<char, keys::key_text_bytes + 1> text{};
    if (keys::format_key(key, text).ok()) std::printf("%s\n", text.data());
    crypto::zeroize(std::span(reinterpret_cast<std::uint8_t*>(text.data()), text.size()));
}

}  // namespace

void complain(const char* command, const char* message) {
    std::fprintf(stderr, "pinhole %s: %s\n", command, message);
}

int genkey(Arguments) {
    posix::PosixRandom random;
    Result<keys::KeyPair> pair = keys::generate_key_pair(random);
    if (!pair.ok()) {
        complain("genkey", "cannot read random bytes from the kernel (getrandom)");
        return 1;
    }
    print_key(pair.value().private_key);
    crypto::zeroize_object(pair.value());
    return 0;
}

int genpsk(Arguments) {
    posix::PosixRandom random;
    keys::X25519Key psk{};
    if (!random.fill(psk).ok()) {
        complain("genpsk", "cannot read random bytes from the kernel (getrandom)");
        return 1;
    }
    print_key(psk);
    crypto::zeroize(psk);
    return 0;
}

int pubkey(Arguments) {
    std::array<char, 256> input{};
    std::size_t length = 0;
    for (int call = 0; call < 16 && length < input.size(); call++) {  // a key is one short line
        const ssize_t n = read(STDIN_FILENO, input.data() + length, input.size() - length);
        if (n <= 0) break;
        length += static_cast<std::size_t>(n);
    }
    Result<keys::X25519Key> private_key = keys::parse_key(std::string_view(input.data(), length));
    crypto::zeroize(std::span(reinterpret_cast<std::uint8_t*>(input.data()), input.size()));
    if (!private_key.ok()) {
        complain("pubkey", "stdin is not a private key (44 base64 characters, as wg genkey prints)");
        return 1;
    }
    Result<keys::KeyPair> pair = keys::key_pair_from_private(private_key.value());
    crypto::zeroize(private_key.value());
    if (!pair.ok()) {
        complain("pubkey", "cannot derive a public key from this private key");
        return 1;
    }
    print_key(pair.value().public_key);
    crypto::zeroize_object(pair.value());
    return 0;
}

}  // namespace pinhole::cli
