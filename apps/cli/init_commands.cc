// init: a node's key files and its invite; import-invite: an invite turned into client config.
#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "apps/cli/commands.h"
#include "core/crypto/ct.h"
#include "core/keys/invite.h"
#include "port/posix/services.h"
#include "port/posix/storage.h"

namespace pinhole::cli {
namespace {

struct InitOptions {
    const char* directory = nullptr;
    const char* gateway_url = nullptr;
    const char* gateway_key = nullptr;
    const char* cert_sha256 = nullptr;
};

bool parse_init_options(Arguments arguments, InitOptions& options) {
    for (std::size_t i = 0; i < arguments.size(); i += 2) {  // every option takes a value
        const std::string_view flag = arguments[i];
        const char* value = i + 1 < arguments.size() ? arguments[i + 1] : nullptr;
        const char** slot = flag == "-d"              ? &options.directory
                            : flag == "--gateway"     ? &options.gateway_url
                            : flag == "--gateway-key" ? &options.gateway_key
                            : flag == "--cert-sha256" ? &options.cert_sha256
                                                      : nullptr;
        if (slot == nullptr || value == nullptr) return false;
        *slot = value;
    }
    return options.directory != nullptr &&
           (options.gateway_url == nullptr) == (options.gateway_key == nullptr) &&
           (options.cert_sha256 == nullptr || options.gateway_url != nullptr);
}

std::string storage_path(const posix::PosixStorage& storage, const char* record) {
    std::array<char, 4096> path{};
    return storage.path_of(record, path).ok() ? std::string(path.data()) : std::string(record);
}

bool add_gateway(const InitOptions& options, keys::Invite& invite) {
    if (options.gateway_url == nullptr) return true;
    const Result<keys::X25519Key> gateway_key = keys::parse_key(options.gateway_key);
    if (!gateway_key.ok() || !keys::set_gateway(invite, options.gateway_url, gateway_key.value()).ok()) {
        complain("init", "--gateway-key must be the gateway's public key (44 base64 characters) "
                         "and --gateway a URL without spaces");
        return false;
    }
    if (options.cert_sha256 != nullptr && !keys::set_cert_sha256(invite, options.cert_sha256).ok()) {
        complain("init", "--cert-sha256 must be 64 hex digits (the SHA-256 of the certificate)");
        return false;
    }
    return true;
}

}  // namespace

void explain_identity_error(const char* command, Errc error, const char* key_path) {
    if (error == Errc::permission) {
        std::fprintf(stderr, "pinhole %s: %s can be read by other users, so it is not used. "
                             "Fix: chmod 600 %s\n", command, key_path, key_path);
    } else if (error == Errc::malformed) {
        std::fprintf(stderr, "pinhole %s: %s is not a WireGuard private key (44 base64 "
                             "characters). Move it away to make a new key.\n", command, key_path);
    } else {
        std::fprintf(stderr, "pinhole %s: cannot use %s: %s\n", command, key_path, describe(error));
    }
}

int init(Arguments arguments) {
    InitOptions options;
    if (!parse_init_options(arguments, options)) {
        complain("init", "usage: pinhole init -d DIR [--gateway URL --gateway-key KEY "
                         "[--cert-sha256 HEX]]");
        return 2;
    }
    posix::PosixStorage storage;
    if (const Status opened = storage.open(options.directory); !opened.ok()) {
        std::fprintf(stderr, "pinhole init: cannot use directory %s: %s\n", options.directory,
                     describe(opened.error()));
        return 1;
    }
    posix::PosixRandom random;
    Result<keys::KeyPair> identity = keys::load_identity({}, storage, random, true);
    if (!identity.ok()) {
        explain_identity_error("init", identity.error(),
                               storage_path(storage, keys::private_key_record).c_str());
        return 1;
    }
    keys::Invite invite;
    invite.public_key = identity.value().public_key;
    crypto::zeroize_object(identity.value());
    if (!add_gateway(options, invite)) return 1;

    std::array<char, keys::invite_text_bytes> line{};
    const Result<std::size_t> length = keys::format_invite(invite, line);
    if (!length.ok()) return 1;
    std::array<char, net::address_text_bytes> address{};
    (void)net::format_address(keys::overlay_address(invite.public_key), address);
    std::printf("key:             %s (0600), %s\n", storage_path(storage, keys::private_key_record).c_str(),
                storage_path(storage, keys::public_key_record).c_str());
    std::printf("overlay address: %s\n", address.data());
    std::printf("invite (give it to clients: pinhole import-invite --name NAME '<invite>'):\n%s\n",
                line.data());
    return 0;
}

int import_invite(Arguments arguments) {
    const char* name = "agent";
    const char* text = nullptr;
    std::size_t i = 0;
    while (i < arguments.size()) {  // each pass takes one or two arguments
        if (std::strcmp(arguments[i], "--name") == 0 && i + 1 < arguments.size()) {
            name = arguments[i + 1];
            i += 2;
        } else {
            text = arguments[i];
            i += 1;
        }
    }
    if (text == nullptr) {
        complain("import-invite", "usage: pinhole import-invite [--name NAME] '<invite>'");
        return 2;
    }
    const Result<keys::Invite> invite = keys::parse_invite(text);
    if (!invite.ok()) {
        complain("import-invite", "not a valid invite: copy the whole 'pinhole-invite/1 ...' line "
                                  "that pinhole init printed");
        return 1;
    }
    std::array<char, keys::key_text_bytes + 1> key{}, gateway_key{};
    (void)keys::format_key(invite.value().public_key, key);
    std::printf("# Add to the client's node.yaml:\n");
    if (invite.value().has_gateway) {
        (void)keys::format_key(invite.value().gateway_public_key, gateway_key);
        std::printf("gateway:\n  url: %s\n  public_key: \"%s\"\n", invite.value().gateway_url.data(),
                    gateway_key.data());
        if (invite.value().has_cert_sha256) {
            std::printf("  cert_sha256: \"");
            for (const std::uint8_t byte : invite.value().cert_sha256) std::printf("%02x", byte);
            std::printf("\"\n");
        }
    }
    std::printf("peers:\n  - name: %s\n    public_key: \"%s\"\n", name, key.data());
    return 0;
}

}  // namespace pinhole::cli
