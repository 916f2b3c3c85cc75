#include "port/posix/platform.h"

#include "mbedtls/memory_buffer_alloc.h"

namespace pinhole::posix {

Status PosixPlatform::open(std::string_view data_directory) noexcept {
    if (const Status opened = loop_.open(); !opened.ok()) return opened;
    mbedtls_memory_buffer_alloc_init(mbedtls_arena_.data(), mbedtls_arena_.size());
    if (const Status opened = storage_.open(data_directory); !opened.ok()) return opened;
    return resolver_.start();
}

}  // namespace pinhole::posix
