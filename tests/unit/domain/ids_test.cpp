#include "domain/ids.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace codeq {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

TEST(Ids, NewUuidV4IsCanonicalVersion4Text) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = NewUuidV4();
    ASSERT_EQ(id.size(), 36u) << id;
    for (size_t k = 0; k < id.size(); ++k) {
      if (k == 8 || k == 13 || k == 18 || k == 23) {
        ASSERT_EQ(id[k], '-') << id;
      } else {
        ASSERT_TRUE(IsLowerHex(id[k])) << id;
      }
    }
    EXPECT_EQ(id[14], '4') << id;  // version nibble
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // RFC variant bits
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(Ids, RequestIdsAre32HexDigitsAndDistinctAcrossThreads) {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&out] {
      for (int i = 0; i < 5000; ++i) out.push_back(NewRequestId());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> seen;
  for (const auto& out : per_thread) {
    for (const std::string& id : out) {
      ASSERT_EQ(id.size(), 32u) << id;
      for (char c : id) ASSERT_TRUE(IsLowerHex(c)) << id;
      seen.insert(id);
    }
  }
  // Each thread seeds its own generator from the OS: no two threads repeat each other's ids.
  EXPECT_EQ(seen.size(), 20000u);
}

}  // namespace
}  // namespace codeq
