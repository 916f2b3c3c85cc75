// The host services besides the network: resolver, storage, log, interfaces, random.
#include <algorithm>

#include "sim_test_support.h"

namespace pinhole::sim {
namespace {

using namespace testing_support;

class ResolveRecorder final : public port::ResolveEvents {
public:
    explicit ResolveRecorder(const World& world) : world_(world) {}
    void on_resolved(port::ResolveId id, Errc result,
                     std::span<const net::IpAddress> addresses) noexcept override {
        answers.push_back({id, result, {addresses.begin(), addresses.end()}, world_.now_ms()});
    }
    struct Answer {
        port::ResolveId id;
        Errc result;
        std::vector<net::IpAddress> addresses;
        std::uint64_t at_ms;
    };
    std::vector<Answer> answers;

private:
    const World& world_;
};

class SimServices : public SimulationTest {
protected:
    SimServices()
        : alice(add_host("alice", {v4(192, 0, 2, 1), v6(0x2001, 1)})),
          bob(add_host("bob", {v4(192, 0, 2, 2)})),
          answers(world()) {}

    Host& alice;
    Host& bob;
    ResolveRecorder answers;
};

TEST_F(SimServices, TheResolverAnswersAfterItsDelayWithTheFamilyAsked) {
    const std::vector<net::IpAddress> gateway = {v4(203, 0, 113, 5), v6(0x2001, 0x53)};
    ASSERT_TRUE(world().names().set("gw.example.net", gateway).ok());
    const auto both = alice.resolver().resolve("GW.Example.NET", net::Family::none, answers).value();
    const auto only_v6 = alice.resolver().resolve("gw.example.net", net::Family::v6, answers).value();
    const auto unknown = alice.resolver().resolve("nope.example.net", net::Family::none, answers).value();
    run_for(world().options().resolver_delay_ms - 1);
    EXPECT_TRUE(answers.answers.empty());
    run_for(1);
    ASSERT_EQ(answers.answers.size(), 3u);
    EXPECT_EQ(answers.answers[0].id, both);
    EXPECT_EQ(answers.answers[0].result, Errc::ok);
    EXPECT_EQ(answers.answers[0].addresses, gateway);
    EXPECT_EQ(answers.answers[0].at_ms, world().options().resolver_delay_ms);
    EXPECT_EQ(answers.answers[1].id, only_v6);
    EXPECT_EQ(answers.answers[1].addresses, std::vector<net::IpAddress>{v6(0x2001, 0x53)});
    EXPECT_EQ(answers.answers[2].id, unknown);
    EXPECT_EQ(answers.answers[2].result, Errc::not_found);
    EXPECT_TRUE(answers.answers[2].addresses.empty());
}

TEST_F(SimServices, TheResolverAnswersLiteralsCancelsAndRefusesBadNames) {
    (void)alice.resolver().resolve("192.0.2.2", net::Family::none, answers).value();
    (void)alice.resolver().resolve("192.0.2.2", net::Family::v6, answers).value();
    const auto cancelled = alice.resolver().resolve("192.0.2.2", net::Family::none, answers).value();
    alice.resolver().cancel(cancelled);
    EXPECT_EQ(alice.resolver().resolve("", net::Family::none, answers).error(), Errc::invalid_argument);
    const std::string too_long(port::max_host_name_bytes + 1, 'a');
    EXPECT_EQ(alice.resolver().resolve(too_long, net::Family::none, answers).error(),
              Errc::invalid_argument);
    run_for(100);
    ASSERT_EQ(answers.answers.size(), 2u);
    EXPECT_EQ(answers.answers[0].addresses, std::vector<net::IpAddress>{v4(192, 0, 2, 2)});
    EXPECT_EQ(answers.answers[1].result, Errc::not_found);
    for (std::size_t i = 0; i < max_resolutions_per_host; ++i) {
        (void)alice.resolver().resolve("a", net::Family::none, answers).value();
    }
    EXPECT_EQ(alice.resolver().resolve("a", net::Family::none, answers).error(), Errc::no_space);
}

TEST_F(SimServices, AnIsolatedHostsResolutionsTimeOut) {
    ASSERT_TRUE(world().names().set("bob", std::vector<net::IpAddress>{v4(192, 0, 2, 2)}).ok());
    world().isolate(alice);
    (void)alice.resolver().resolve("bob", net::Family::none, answers).value();
    run_for(100);
    ASSERT_EQ(answers.answers.size(), 1u);
    EXPECT_EQ(answers.answers[0].result, Errc::timed_out);
    world().names().remove("bob");
    world().rejoin(alice);
    (void)alice.resolver().resolve("bob", net::Family::none, answers).value();
    run_for(100);
    EXPECT_EQ(answers.answers[1].result, Errc::not_found);
}

TEST_F(SimServices, StorageKeepsRecordsAndHonoursSecrecy) {
    HostStorage& storage = alice.storage();
    const std::uint8_t key[32] = {1, 2, 3};
    std::uint8_t out[64];
    EXPECT_EQ(storage.read("agent_key", port::Secrecy::secret, out).error(), Errc::not_found);
    ASSERT_TRUE(storage.write("agent_key", port::Secrecy::secret, key).ok());
    EXPECT_EQ(storage.read("agent_key", port::Secrecy::secret, out).value(), sizeof key);
    EXPECT_TRUE(std::equal(key, key + sizeof key, out));
    std::uint8_t small[8];
    EXPECT_EQ(storage.read("agent_key", port::Secrecy::secret, small).error(), Errc::no_space);

    // A secret that others can read is refused, like a 0644 key file.
    ASSERT_TRUE(storage.expose("agent_key").ok());
    EXPECT_EQ(storage.read("agent_key", port::Secrecy::secret, out).error(), Errc::permission);
    EXPECT_TRUE(storage.read("agent_key", port::Secrecy::public_record, out).ok());
    ASSERT_TRUE(storage.write("agent_key", port::Secrecy::secret, key).ok());  // rewritten 0600
    EXPECT_TRUE(storage.read("agent_key", port::Secrecy::secret, out).ok());
    // A record written public is no secret.
    ASSERT_TRUE(storage.write("agent_key.pub", port::Secrecy::public_record, key).ok());
    EXPECT_EQ(storage.read("agent_key.pub", port::Secrecy::secret, out).error(), Errc::permission);

    EXPECT_EQ(bob.storage().read("agent_key", port::Secrecy::secret, out).error(), Errc::not_found);
    const std::vector<std::uint8_t> too_big(max_storage_record_bytes + 1);
    EXPECT_EQ(storage.write("big", port::Secrecy::public_record, too_big).error(), Errc::no_space);
    EXPECT_EQ(storage.write("", port::Secrecy::public_record, key).error(), Errc::invalid_argument);
    for (std::size_t i = 2; i < max_storage_records_per_host; ++i) {
        const std::string name = "record" + std::to_string(i);
        ASSERT_TRUE(storage.write(name, port::Secrecy::public_record, key).ok());
    }
    EXPECT_EQ(storage.write("one_more", port::Secrecy::public_record, key).error(), Errc::no_space);
}

TEST_F(SimServices, LogLinesCarryVirtualTimeAndHostAndAreKeptForAssertions) {
    run_for(12'005);
    alice.log().write(port::LogLevel::warning, "peer went quiet");
    ASSERT_EQ(alice.log().kept_lines(), 1u);
    EXPECT_EQ(alice.log().line(0), "[12.005] alice W: peer went quiet");
    EXPECT_EQ(bob.log().kept_lines(), 0u);
    for (std::size_t i = 0; i < max_log_lines_kept + 5; ++i) {
        bob.log().write(port::LogLevel::debug, "line " + std::to_string(i));
    }
    EXPECT_EQ(bob.log().kept_lines(), max_log_lines_kept);
    EXPECT_EQ(bob.log().line(0), "[12.005] bob D: line 5");  // the oldest were dropped
    EXPECT_EQ(bob.log().count_containing("line 6"), 10u);  // 6, 60..68
    bob.log().forget_lines();
    EXPECT_EQ(bob.log().kept_lines(), 0u);
}

TEST_F(SimServices, InterfacesListTheHostsAddresses) {
    std::array<net::IpAddress, 4> out{};
    EXPECT_EQ(alice.interfaces().local_addresses(out).value(), 2u);
    EXPECT_EQ(out[0], v4(192, 0, 2, 1));
    EXPECT_EQ(out[1], v6(0x2001, 1));
    EXPECT_EQ(alice.interfaces().local_addresses(std::span(out).first(1)).value(), 1u);
}

TEST_F(SimServices, RandomIsPerHostAndReplaysFromTheSeed) {
    std::array<std::uint8_t, 32> from_alice{};
    std::array<std::uint8_t, 32> from_bob{};
    ASSERT_TRUE(alice.random().fill(from_alice).ok());
    ASSERT_TRUE(bob.random().fill(from_bob).ok());
    EXPECT_NE(from_alice, from_bob);

    WorldOptions options;
    options.seed = world().seed();
    options.seed_source = SeedSource::given_only;
    auto again = std::make_unique<World>(options);
    const std::vector<net::IpAddress> address = {v4(192, 0, 2, 1)};
    Host& alice_again = again->add_host({"alice", address});
    std::array<std::uint8_t, 32> replayed{};
    ASSERT_TRUE(alice_again.random().fill(replayed).ok());
    EXPECT_EQ(replayed, from_alice);
}

TEST_F(SimServices, APlatformHandsOutTheHostsServices) {
    const port::Platform platform = alice.platform();
    EXPECT_EQ(&platform.clock, static_cast<port::Clock*>(&alice.clock()));
    EXPECT_EQ(&platform.tcp, static_cast<port::Tcp*>(&alice.tcp()));
    EXPECT_EQ(&platform.storage, static_cast<port::Storage*>(&alice.storage()));
    EXPECT_EQ(&platform.log, static_cast<port::LogSink*>(&alice.log()));
}

}  // namespace
}  // namespace pinhole::sim
