// Name resolution in the simulation: one table of names per world, set by the test, answered
// to each host after the world's resolver delay.
#pragma once

#include <array>
#include <cstdint>

#include "core/util/fixed_vector.h"
#include "port/resolver.h"
#include "port/sim/event_queue.h"
#include "port/sim/limits.h"
#include "port/sim/slot_ids.h"

namespace pinhole::sim {

class Host;

class NameTable {
public:
    // Sets (or replaces) the addresses of `name`. Errc::invalid_argument for an empty name, one
    // over max_host_name_bytes or more than max_resolved_addresses addresses; Errc::no_space
    // when max_resolver_names names are set.
    [[nodiscard]] Status set(std::string_view name,
                             std::span<const net::IpAddress> addresses) noexcept;
    void remove(std::string_view name) noexcept;
    // The addresses of `name` (compared without regard to case, as DNS does) in `family`
    // (none: both); Errc::not_found for an unknown name or one without such addresses. An
    // address literal answers itself, as getaddrinfo does.
    [[nodiscard]] Status lookup(std::string_view name, net::Family family,
                                FixedVector<net::IpAddress, port::max_resolved_addresses>& out) const noexcept;

private:
    struct Entry {
        std::array<char, port::max_host_name_bytes> name{};
        std::size_t name_bytes = 0;
        FixedVector<net::IpAddress, port::max_resolved_addresses> addresses;
    };
    [[nodiscard]] const Entry* find(std::string_view name) const noexcept;

    FixedVector<Entry, max_resolver_names> entries_;
};

class HostResolver final : public port::Resolver {
public:
    explicit HostResolver(Host& host) noexcept : host_(host) {}
    HostResolver(const HostResolver&) = delete;
    HostResolver& operator=(const HostResolver&) = delete;

    // The answer is looked up now and delivered after the world's resolver delay; a host that
    // is isolated when it is due gets Errc::timed_out instead.
    [[nodiscard]] Result<port::ResolveId> resolve(std::string_view host, net::Family family,
                                                  port::ResolveEvents& events) noexcept override;
    void cancel(port::ResolveId id) noexcept override;

    // The world: the answer to resolution `answer.token` is due.
    void on_answer(const Event& answer) noexcept;

private:
    using Ids = SlotIds<max_resolutions_per_host>;
    struct Resolution {
        bool pending = false;
        std::uint16_t generation = 0;
        port::ResolveEvents* events = nullptr;
        Errc result = Errc::ok;
        FixedVector<net::IpAddress, port::max_resolved_addresses> addresses;
    };

    Host& host_;
    std::array<Resolution, max_resolutions_per_host> resolutions_{};
};

}  // namespace pinhole::sim
