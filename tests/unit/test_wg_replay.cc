// The replay window as a table of cases, in the manner of the kernel's counter selftest:
// (counter, accepted?) pairs that walk the window's edges, the bitmap's ring wrapping, far
// jumps and the REJECT_AFTER_MESSAGES limit.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/wireguard/constants.h"
#include "core/wireguard/replay.h"

namespace pinhole::wireguard {
namespace {

struct Case {
    std::uint64_t counter;
    bool accepted;
};

constexpr std::uint64_t window = ReplayWindow::window_size;  // 8128
constexpr std::uint64_t limit = reject_after_messages;

void run_table(const std::vector<Case>& cases) {
    ReplayWindow replay;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        EXPECT_EQ(replay.check_and_update(cases[i].counter), cases[i].accepted)
            << "case " << i + 1 << ": counter " << cases[i].counter;
    }
}

TEST(WgReplay, WindowIsTheKernels) { EXPECT_EQ(window, 8192u - 64u); }

TEST(WgReplay, TableOfEdges) {
    run_table({
        {0, true},              // the first counter
        {1, true},
        {1, false},             // duplicate
        {9, true},              // a gap ...
        {8, true},              // ... filled out of order
        {7, true},
        {7, false},
        {window + 1, true},     // greatest is now window + 1
        {window, true},         // inside, never seen
        {window, false},
        {2, true},              // the oldest counter still inside the window
        {2, false},
        {1, false},             // seen, and exactly the oldest edge
        {0, false},             // outside the window
        {window + 17, true},    // slides by 16
        {3, false},             // now outside
        {18, true},
        {17, true},             // the new oldest edge
        {16, false},            // one below it
        {window + 17, false},
        {4 * window, true},     // a far jump clears the whole ring
        {3 * window, true},     // exactly the oldest inside
        {3 * window - 1, false},
        {3 * window + 1, true},
        {window + 17, false},
        {0, false},
    });
}

TEST(WgReplay, TableOfRejectLimit) {
    run_table({
        {limit, false},         // REJECT_AFTER_MESSAGES itself is never valid
        {limit - 1, true},      // the last valid counter
        {limit, false},
        {limit - 1, false},
        {limit - 2, true},
        {limit + 1, false},
        {~std::uint64_t{0}, false},
        {limit - 2, false},
        {limit - 3, true},
        {0, false},             // far outside now
    });
}

TEST(WgReplay, RingWrapsAtEveryWordBoundary) {
    // Exactly one ring of bits ahead: the same bitmap word, which must be cleared, not reused.
    const std::uint64_t ring = ReplayWindow::bitmap_bits;
    run_table({
        {5, true},
        {5 + ring, true},
        {5 + ring, false},
        {5, false},
        {5 + ring - 1, true},
        {5 + ring - window, true},
        {5 + ring - window - 1, false},
        {5 + 2 * ring - 63, true},  // lands one word before the start word in the ring
        {5 + 2 * ring - 64, true},
        {5 + ring, false},          // now just outside the window
        {5 + ring + 1, true},       // the oldest edge, in the oldest word kept in the ring
        {5 + ring + 64, true},
    });
}

TEST(WgReplay, WholeWindowAscendingThenZero) {
    std::vector<Case> cases;
    for (std::uint64_t counter = 1; counter <= window; ++counter) cases.push_back({counter, true});
    cases.push_back({0, true});   // still exactly inside
    cases.push_back({0, false});
    run_table(cases);
}

TEST(WgReplay, WindowPlusOneAscendingLeavesZeroOutside) {
    std::vector<Case> cases;
    for (std::uint64_t counter = 2; counter <= window + 1; ++counter) {
        cases.push_back({counter, true});
    }
    cases.push_back({1, true});
    cases.push_back({0, false});
    run_table(cases);
}

TEST(WgReplay, WholeWindowDescending) {
    std::vector<Case> cases;
    for (std::uint64_t counter = window + 1; counter-- > 0;) cases.push_back({counter, true});
    for (std::uint64_t counter = 0; counter <= window; ++counter) cases.push_back({counter, false});
    run_table(cases);
}

TEST(WgReplay, ResetForgetsEverything) {
    ReplayWindow replay;
    ASSERT_TRUE(replay.check_and_update(100));
    replay.reset();
    EXPECT_EQ(replay.next_expected(), 0u);
    EXPECT_TRUE(replay.check_and_update(100));
    EXPECT_TRUE(replay.check_and_update(0));
}

}  // namespace
}  // namespace pinhole::wireguard
