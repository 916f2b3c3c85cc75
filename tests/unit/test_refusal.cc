#include "core/overlay/refusal.h"

#include <gtest/gtest.h>

#include <string_view>

namespace pinhole::overlay {
namespace {

using namespace std::literals;

std::span<const std::uint8_t> bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(Refusal, EveryReasonRoundTripsThroughTheResetPayload) {
    for (const Refusal refusal : {Refusal::not_allowed, Refusal::connection_refused, Refusal::unreachable,
                                  Refusal::timed_out, Refusal::busy}) {
        const std::optional<Refusal> parsed = parse_refusal_payload(bytes(refusal_payload(refusal)));
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(*parsed, refusal);
    }
    EXPECT_EQ(refusal_payload(Refusal::not_allowed), "pinhole/1 not_allowed");
}

TEST(Refusal, OtherPayloadsAreNoReason) {
    for (const std::string_view payload : {""sv, "pinhole/1"sv, "pinhole/1 "sv, "pinhole/1 not_allowed\n"sv,
                                           "PINHOLE/1 busy"sv, "pinhole/2 busy"sv, "connection reset by peer"sv}) {
        EXPECT_FALSE(parse_refusal_payload(bytes(payload)).has_value()) << payload;
    }
}

TEST(Refusal, MapsConnectErrorsAndDialErrors) {
    EXPECT_EQ(refusal_for_connect_error(Errc::refused), Refusal::connection_refused);
    EXPECT_EQ(refusal_for_connect_error(Errc::timed_out), Refusal::timed_out);
    EXPECT_EQ(refusal_for_connect_error(Errc::unreachable), Refusal::unreachable);
    EXPECT_EQ(refusal_for_connect_error(Errc::io), Refusal::unreachable);
    EXPECT_EQ(dial_error_for(Refusal::not_allowed), Errc::permission);
    EXPECT_EQ(dial_error_for(Refusal::connection_refused), Errc::refused);
    EXPECT_EQ(dial_error_for(Refusal::unreachable), Errc::unreachable);
    EXPECT_EQ(dial_error_for(Refusal::timed_out), Errc::timed_out);
    EXPECT_EQ(dial_error_for(Refusal::busy), Errc::no_space);
}

}  // namespace
}  // namespace pinhole::overlay
