// PoolSet: lookups by name that take no lock, and what a reload's Add and
// Remove do to them on every thread.
#include "pool/pool_set.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/pool/pool_test_util.h"

namespace litepool {
namespace {

using testing::TempDir;

class PoolSetTest : public ::testing::Test {
 protected:
  std::shared_ptr<Pool> MakePool(const std::string& name) {
    return std::make_shared<Pool>(testing::MakeDatabase(dir_, name, config::PoolLimits{}),
                                  RealTime(), &events_);
  }

  TempDir dir_;
  NullPoolEvents events_;
};

TEST_F(PoolSetTest, FindsWhatWasAddedAndNothingElse) {
  PoolSet set;
  EXPECT_EQ(set.Find("a"), nullptr);
  auto a = MakePool("a");
  set.Add(a);
  EXPECT_EQ(set.Find("a"), a);
  EXPECT_EQ(set.Find("b"), nullptr);
  EXPECT_EQ(set.Find(""), nullptr);
  EXPECT_EQ(set.Names(), std::vector<std::string>{"a"});
}

// A reload replaces a pool under the same name: the next Find on a thread
// that has looked it up before sees the new one, not its own stale copy.
TEST_F(PoolSetTest, AReplacedPoolIsSeenAtOnceByAThreadThatLookedBefore) {
  PoolSet set;
  auto first = MakePool("main");
  set.Add(first);
  ASSERT_EQ(set.Find("main"), first);
  auto second = MakePool("main");
  set.Add(second);
  EXPECT_EQ(set.Find("main"), second);
  EXPECT_EQ(set.Remove("main"), second);
  EXPECT_EQ(set.Find("main"), nullptr);
}

// A thread's copy of the directory must not keep a removed pool alive: it
// goes as soon as its last user lets go, lookups or not.
TEST_F(PoolSetTest, ARemovedPoolIsNotKeptAliveByAnotherThreadsCopy) {
  PoolSet set;
  auto pool = MakePool("main");
  std::weak_ptr<Pool> watch = pool;
  set.Add(std::move(pool));
  std::thread([&set] { EXPECT_NE(set.Find("main"), nullptr); }).join();
  EXPECT_NE(set.Find("main"), nullptr);  // this thread's copy, too
  set.Remove("main");
  EXPECT_TRUE(watch.expired());
}

// Two sets, one after the other at what may be the same address: a
// thread's copy of the first never answers for the second.
TEST_F(PoolSetTest, ANewSetNeverAnswersFromAnOldSetsCopy) {
  auto a = MakePool("a");
  {
    PoolSet first;
    first.Add(a);
    ASSERT_EQ(first.Find("a"), a);
  }
  PoolSet second;
  EXPECT_EQ(second.Find("a"), nullptr);
}

// Lookups on many threads while a reload adds and removes: every answer is
// the pool under that name or nothing (TSan checks the publication).
TEST_F(PoolSetTest, LookupsDuringReloadsSeeWholePools) {
  PoolSet set;
  auto stable = MakePool("stable");
  set.Add(stable);
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        if (set.Find("stable") != stable) ++wrong;
        auto flicker = set.Find("flicker");
        if (flicker && flicker->name() != "flicker") ++wrong;
      }
    });
  }
  for (int i = 0; i < 300; ++i) {
    set.Add(MakePool("flicker"));
    set.Remove("flicker");
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace litepool
