// Storage in memory: records survive a node's restart in the same Host (the core object is
// rebuilt, the Host stays), which is what the wall-clock floor and key persistence need.
#pragma once

#include <array>
#include <cstdint>

#include "core/util/fixed_vector.h"
#include "port/sim/limits.h"
#include "port/storage.h"

namespace pinhole::sim {

class HostStorage final : public port::Storage {
public:
    // Errc::invalid_argument for an empty name or one over max_storage_name_bytes.
    [[nodiscard]] Result<std::size_t> read(std::string_view name, port::Secrecy secrecy,
                                           std::span<std::uint8_t> out) noexcept override;
    // Errc::no_space when the record is over max_storage_record_bytes or the table is full.
    [[nodiscard]] Status write(std::string_view name, port::Secrecy secrecy,
                               std::span<const std::uint8_t> bytes) noexcept override;

    // Sim only: as if someone ran chmod 644 on a secret's file, so that reading it as a secret
    // is refused (Errc::permission). not_found if there is no such record.
    [[nodiscard]] Status expose(std::string_view name) noexcept;

private:
    struct Record {
        std::array<char, max_storage_name_bytes> name{};
        std::size_t name_bytes = 0;
        bool readable_by_others = false;
        std::array<std::uint8_t, max_storage_record_bytes> bytes{};
        std::size_t length_bytes = 0;
    };
    [[nodiscard]] Record* find(std::string_view name) noexcept;

    FixedVector<Record, max_storage_records_per_host> records_;
};

}  // namespace pinhole::sim
