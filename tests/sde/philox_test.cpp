// The counter-based generator under NoiseStream, against published answers.
#include <gtest/gtest.h>

#include <set>

#include "flowlab/solvers/philox.h"

namespace flowlab::solvers {
namespace {

// Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
TEST(Philox4x32, MatchesTheKnownAnswers) {
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}), (PhiloxCounter{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}),
            (PhiloxCounter{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}),
            (PhiloxCounter{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(Philox4x32, EveryCounterWordAndKeyWordMatters) {
  const PhiloxCounter base = philox4x32_10({1, 2, 3, 4}, {5, 6});
  std::set<PhiloxCounter> outputs = {base};
  for (int word = 0; word < 4; ++word) {
    PhiloxCounter counter = {1, 2, 3, 4};
    counter[static_cast<size_t>(word)] ^= 1u;
    outputs.insert(philox4x32_10(counter, {5, 6}));
  }
  outputs.insert(philox4x32_10({1, 2, 3, 4}, {4, 6}));
  outputs.insert(philox4x32_10({1, 2, 3, 4}, {5, 7}));
  EXPECT_EQ(outputs.size(), 7u);
}

// The first outputs of SplitMix64 seeded with 0 (Vigna's reference splitmix64.c).
TEST(SplitMix64, MatchesTheReferenceSequence) {
  EXPECT_EQ(splitmix64(0), 0xe220a8397b1dcdafull);
  EXPECT_EQ(splitmix64(0x9E3779B97F4A7C15ull), 0x6e789e6aa1b965f4ull);
}

}  // namespace
}  // namespace flowlab::solvers
