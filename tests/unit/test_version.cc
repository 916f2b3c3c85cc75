#include "core/version.h"

#include <gtest/gtest.h>

#include <string>

TEST(BuildInfo, NamesTheDependenciesWeBuiltFromDebianSources) {
    const pinhole::BuildInfo info = pinhole::build_info();
    EXPECT_EQ(std::string(info.board), "linux");
    EXPECT_EQ(std::string(info.lwip_version), "2.1.3");
    EXPECT_EQ(std::string(info.mbedtls_version), "2.28.3");
    EXPECT_FALSE(std::string(info.version).empty());
    EXPECT_FALSE(std::string(info.git_revision).empty());
}
