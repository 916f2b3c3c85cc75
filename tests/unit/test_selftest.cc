#include "core/selftest.h"

#include <gtest/gtest.h>

TEST(CryptoSelfTest, PassesOnThisBuild) {
    EXPECT_EQ(pinhole::run_crypto_self_test(), pinhole::SelfTestResult::ok);
}

TEST(CryptoSelfTest, EveryResultHasADescription) {
    using pinhole::SelfTestResult;
    for (const auto result : {SelfTestResult::ok, SelfTestResult::x25519_mismatch,
                              SelfTestResult::chachapoly_setup_failed,
                              SelfTestResult::chachapoly_tag_mismatch,
                              SelfTestResult::chachapoly_open_failed,
                              SelfTestResult::blake2s_mismatch}) {
        EXPECT_STRNE(pinhole::describe(result), "unknown self-test result");
    }
}
