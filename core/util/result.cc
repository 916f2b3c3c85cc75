#include "core/util/result.h"

namespace pinhole {

const char* describe(Errc error) noexcept {
    switch (error) {
        case Errc::ok: return "ok";
        case Errc::invalid_argument: return "invalid argument";
        case Errc::malformed: return "malformed input";
        case Errc::no_space: return "no space left in a fixed-capacity table";
        case Errc::would_block: return "would block";
        case Errc::not_found: return "not found";
        case Errc::already_exists: return "already exists";
        case Errc::timed_out: return "timed out";
        case Errc::refused: return "refused";
        case Errc::unreachable: return "unreachable";
        case Errc::closed: return "closed";
        case Errc::io: return "I/O error";
        case Errc::permission: return "permission denied";
        case Errc::authentication: return "authentication failed";
        case Errc::weak_key: return "weak or invalid key";
        case Errc::unsupported: return "not supported on this platform";
    }
    return "unknown error";
}

}  // namespace pinhole
