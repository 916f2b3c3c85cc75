// Any bytes given to the YAML loader come back as "ok" or an error with a position; nothing
// escapes (no exception, no crash, no sanitizer report).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/yaml_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto error = pinhole::config::check_yaml_text("fuzz.yaml", text);
    if (error && error->line < 0) __builtin_trap();
    return 0;
}
