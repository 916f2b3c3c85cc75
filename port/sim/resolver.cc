#include "port/sim/resolver.h"

#include <algorithm>

#include "port/sim/world.h"

namespace pinhole::sim {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_name(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool valid_name(std::string_view name) noexcept {
    return !name.empty() && name.size() <= port::max_host_name_bytes;
}

}  // namespace

const NameTable::Entry* NameTable::find(std::string_view name) const noexcept {
    for (const Entry& entry : entries_) {
        if (same_name(std::string_view(entry.name.data(), entry.name_bytes), name)) return &entry;
    }
    return nullptr;
}

Status NameTable::set(std::string_view name, std::span<const net::IpAddress> addresses) noexcept {
    if (!valid_name(name) || addresses.size() > port::max_resolved_addresses) {
        return Errc::invalid_argument;
    }
    remove(name);
    if (!entries_.emplace_back().ok()) return Errc::no_space;
    Entry& entry = entries_.back();
    std::copy(name.begin(), name.end(), entry.name.begin());
    entry.name_bytes = name.size();
    for (const net::IpAddress& address : addresses) (void)entry.addresses.push_back(address);
    return {};
}

void NameTable::remove(std::string_view name) noexcept {
    const Entry* entry = find(name);
    if (entry != nullptr) entries_.erase(static_cast<std::size_t>(entry - entries_.begin()));
}

Status NameTable::lookup(std::string_view name, net::Family family,
                         FixedVector<net::IpAddress, port::max_resolved_addresses>& out) const noexcept {
    out.clear();
    const Result<net::IpAddress> literal = net::parse_address(name);
    if (literal.ok()) {
        if (family != net::Family::none && literal.value().family != family) return Errc::not_found;
        (void)out.push_back(literal.value());
        return {};
    }
    const Entry* entry = find(name);
    if (entry == nullptr) return Errc::not_found;
    for (const net::IpAddress& address : entry->addresses) {
        if (family == net::Family::none || address.family == family) (void)out.push_back(address);
    }
    return out.empty() ? Status{Errc::not_found} : Status{};
}

Result<port::ResolveId> HostResolver::resolve(std::string_view host, net::Family family,
                                              port::ResolveEvents& events) noexcept {
    if (!valid_name(host)) return Errc::invalid_argument;
    std::size_t slot = 0;
    while (slot < resolutions_.size() && resolutions_[slot].pending) ++slot;
    if (slot == resolutions_.size()) return Errc::no_space;
    World& world = host_.world();
    Event* answer = world.events().allocate(EventQueue::Reserve::data);
    if (answer == nullptr) return Errc::no_space;

    Resolution& resolution = resolutions_[slot];
    resolution.pending = true;
    resolution.events = &events;
    resolution.result = world.names().lookup(host, family, resolution.addresses).error();
    const port::ResolveId id = Ids::make(slot, resolution.generation);
    answer->kind = EventKind::resolve_answer;
    answer->from_host = host_.index();
    answer->to_host = host_.index();
    answer->token = id;
    world.events().schedule(*answer, world.now_ms() + world.options().resolver_delay_ms);
    return id;
}

void HostResolver::cancel(port::ResolveId id) noexcept {
    Resolution& resolution = resolutions_[Ids::slot_of(id) % resolutions_.size()];
    if (!resolution.pending || resolution.generation != Ids::generation_of(id)) return;
    resolution.pending = false;
    resolution.generation = Ids::next_generation(resolution.generation);
}

void HostResolver::on_answer(const Event& answer) noexcept {
    const port::ResolveId id = answer.token;
    Resolution& resolution = resolutions_[Ids::slot_of(id) % resolutions_.size()];
    if (!resolution.pending || resolution.generation != Ids::generation_of(id)) return;  // cancelled
    // Free the slot before the call, so the callback may resolve again.
    resolution.pending = false;
    resolution.generation = Ids::next_generation(resolution.generation);
    port::ResolveEvents& events = *resolution.events;
    Errc result = resolution.result;
    FixedVector<net::IpAddress, port::max_resolved_addresses> addresses = resolution.addresses;
    if (host_.world().links().is_isolated(host_.index())) {
        result = Errc::timed_out;  // no DNS server is reachable from here
        addresses.clear();
    }
    events.on_resolved(id, result, addresses.span());
}

}  // namespace pinhole::sim
