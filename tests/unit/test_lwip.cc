// lwIP as built for this board: it initialises with our options and port hooks, and parses the
// overlay prefix the design derives node addresses from.
#include <lwip/init.h>
#include <lwip/ip6_addr.h>
#include <lwip/sys.h>

#include <gtest/gtest.h>

#include "tests/unit/fakes.h"

TEST(Lwip, InitialisesWithTheBoardOptions) {
    pinhole::fakes::initialise_lwip_once();
    const u32_t before = sys_now();
    const u32_t after = sys_now();
    EXPECT_LE(static_cast<u32_t>(after - before), 1000u);  // wrapping difference, monotonic
}

TEST(Lwip, ParsesTheOverlayPrefix) {
    ip6_addr_t address;
    ASSERT_EQ(ip6addr_aton("fd7a:7069:6e68::1", &address), 1);
    EXPECT_EQ(IP6_ADDR_BLOCK1(&address), 0xfd7a);
    EXPECT_EQ(IP6_ADDR_BLOCK3(&address), 0x6e68);
    EXPECT_EQ(IP6_ADDR_BLOCK8(&address), 0x0001);
}
