#include "port/sim/storage.h"

#include <algorithm>

namespace pinhole::sim {
namespace {

bool valid_name(std::string_view name) noexcept {
    return !name.empty() && name.size() <= max_storage_name_bytes;
}

}  // namespace

HostStorage::Record* HostStorage::find(std::string_view name) noexcept {
    for (Record& record : records_) {
        if (std::string_view(record.name.data(), record.name_bytes) == name) return &record;
    }
    return nullptr;
}

Result<std::size_t> HostStorage::read(std::string_view name, port::Secrecy secrecy,
                                      std::span<std::uint8_t> out) noexcept {
    if (!valid_name(name)) return Errc::invalid_argument;
    const Record* record = find(name);
    if (record == nullptr) return Errc::not_found;
    // As on Linux: a secret that others can read is refused, as ssh refuses such a key.
    if (secrecy == port::Secrecy::secret && record->readable_by_others) return Errc::permission;
    if (record->length_bytes > out.size()) return Errc::no_space;
    std::copy_n(record->bytes.begin(), record->length_bytes, out.begin());
    return record->length_bytes;
}

Status HostStorage::write(std::string_view name, port::Secrecy secrecy,
                          std::span<const std::uint8_t> bytes) noexcept {
    if (!valid_name(name)) return Errc::invalid_argument;
    if (bytes.size() > max_storage_record_bytes) return Errc::no_space;
    Record* record = find(name);
    if (record == nullptr) {
        if (!records_.emplace_back().ok()) return Errc::no_space;
        record = &records_.back();
        std::copy(name.begin(), name.end(), record->name.begin());
        record->name_bytes = name.size();
    }
    // Rewriting a record sets its mode afresh, as the posix port's rename of a new file does.
    record->readable_by_others = secrecy == port::Secrecy::public_record;
    std::copy(bytes.begin(), bytes.end(), record->bytes.begin());
    record->length_bytes = bytes.size();
    return {};
}

Status HostStorage::expose(std::string_view name) noexcept {
    Record* record = find(name);
    if (record == nullptr) return Errc::not_found;
    record->readable_by_others = true;
    return {};
}

}  // namespace pinhole::sim
