#include "port/posix/platform.h"

namespace pinhole::posix {

Status PosixPlatform::open(std::string_view data_directory) noexcept {
    if (const Status opened = loop_.open(); !opened.ok()) return opened;
    if (const Status opened = storage_.open(data_directory); !opened.ok()) return opened;
    return resolver_.start();
}

}  // namespace pinhole::posix
