// Tests of pool/lease_table: ownership, release, revocation and clients that
// leave. The lease id's text form is wire/'s (tests/wire/wire_test.cc).
#include "pool/lease_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "pool/pool.h"
#include "tests/pool/pool_test_util.h"

namespace litepool {
namespace {

using testing::RunQuery;
using testing::TempDir;

constexpr const char* kEndless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c";

class LeaseTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::PoolLimits limits;
    limits.max_writers = 8;
    db_ = testing::MakeDatabase(dir_, "l", limits);
    pool_ = std::make_shared<Pool>(db_, &clock_, &events_);
    ASSERT_TRUE(pool_->Start().ok());
    table_.AddClient(kAlice, LeaseHolder{101, 1001});
    table_.AddClient(kBob, LeaseHolder{202, 1002});
  }

  PooledHandle Open() {
    Pool::Acquired a = testing::AcquireFor(*pool_, Mode::kWrite, [](std::unique_ptr<Handle> h) { return h; });
    EXPECT_EQ(a.kind, Pool::Acquired::kGranted) << a.status.message();
    return PooledHandle(pool_, std::move(a.handle));
  }

  LeaseTerms Terms(Millis lease = Millis(30000), Millis leak_warn = Millis(0)) {
    LeaseTerms t;
    t.mode = Mode::kWrite;
    t.deadline = clock_.Now() + lease;
    t.leak_warn_at = leak_warn.count() > 0 ? clock_.Now() + leak_warn : TimePoint::max();
    t.tag = "test";
    return t;
  }

  LeaseId InsertFor(ClientId client, Millis lease = Millis(30000)) {
    auto h = Open();
    LeaseId id = 0;
    EXPECT_TRUE(table_.Insert(client, &h, Terms(lease), &id));
    EXPECT_FALSE(h) << "the table took the handle";
    return id;
  }

  static constexpr ClientId kAlice = 1;
  static constexpr ClientId kBob = 2;
  TempDir dir_;
  ManualTimeSource clock_;
  config::Database db_;
  NullPoolEvents events_;
  std::shared_ptr<Pool> pool_;
  LeaseTable table_{&clock_};
};

TEST_F(LeaseTableTest, OnlyTheOwnerCanUseALease) {
  LeaseId id = InsertFor(kAlice);
  EXPECT_EQ(table_.LeaseCount(kAlice), 1);
  EXPECT_EQ(table_.LeaseCount(kBob), 0);
  EXPECT_EQ(table_.size(), 1u);

  LeaseUse use;
  EXPECT_EQ(table_.Begin(kBob, id, "SELECT 1", &use).code(), Code::kUnknownLease);
  PooledHandle taken;
  EXPECT_EQ(table_.Take(kBob, id, &taken).code(), Code::kUnknownLease);
  EXPECT_FALSE(taken);
  EXPECT_EQ(table_.Begin(kAlice, id + 1, "SELECT 1", &use).code(), Code::kUnknownLease);

  ASSERT_TRUE(table_.Begin(kAlice, id, "SELECT 1", &use).ok());
  ASSERT_NE(use.lease, nullptr);
  EXPECT_EQ(use.id, id);
  // One statement at a time on a lease.
  LeaseUse second;
  EXPECT_EQ(table_.Begin(kAlice, id, "SELECT 2", &second).code(), Code::kBadRequest);
  EXPECT_EQ(table_.Take(kAlice, id, &taken).code(), Code::kBadRequest);
  EXPECT_TRUE(RunQuery(&use.handle(), "SELECT 1").ok());
  PooledHandle none;
  EXPECT_TRUE(table_.End(use, &none).ok());
  EXPECT_FALSE(none);

  auto list = table_.List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].holder.pid, 101);
  EXPECT_EQ(list[0].last_sql, "SELECT 1");
  EXPECT_EQ(list[0].tag, "test");
}

TEST_F(LeaseTableTest, TakeAfterTakeIsUnknownLease) {
  LeaseId id = InsertFor(kAlice);
  PooledHandle taken;
  ASSERT_TRUE(table_.Take(kAlice, id, &taken).ok());
  EXPECT_TRUE(taken);
  EXPECT_EQ(table_.LeaseCount(kAlice), 0);
  PooledHandle again;
  EXPECT_EQ(table_.Take(kAlice, id, &again).code(), Code::kUnknownLease);
  EXPECT_FALSE(again);
  LeaseUse use;
  EXPECT_EQ(table_.Begin(kAlice, id, "SELECT 1", &use).code(), Code::kUnknownLease);
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(LeaseTableTest, RevokedLeaseIsExpiredForItsOwnerOnly) {
  LeaseId id = InsertFor(kAlice, Millis(1000));
  LeaseId other = InsertFor(kAlice, Millis(5000));
  clock_.Advance(Millis(1000));
  SweepResult sweep;
  table_.Sweep(clock_.Now(), &sweep);
  ASSERT_EQ(sweep.revoked.size(), 1u);
  ASSERT_EQ(sweep.revoked_info.size(), 1u);
  EXPECT_EQ(sweep.revoked_info[0].id, id);
  EXPECT_EQ(sweep.revoked_info[0].age_ms, 1000);
  EXPECT_TRUE(sweep.revoked[0]);

  LeaseUse use;
  PooledHandle taken;
  EXPECT_EQ(table_.Begin(kAlice, id, "SELECT 1", &use).code(), Code::kLeaseExpired);
  EXPECT_EQ(table_.Take(kAlice, id, &taken).code(), Code::kLeaseExpired);
  // Another client learns nothing about it.
  EXPECT_EQ(table_.Begin(kBob, id, "SELECT 1", &use).code(), Code::kUnknownLease);
  EXPECT_EQ(table_.Take(kBob, id, &taken).code(), Code::kUnknownLease);
  // The other lease is untouched.
  EXPECT_TRUE(table_.Begin(kAlice, other, "SELECT 1", &use).ok());
  EXPECT_TRUE(table_.End(use, &taken).ok());
  EXPECT_EQ(table_.LeaseCount(kAlice), 1);
}

TEST_F(LeaseTableTest, BusyLeaseIsInterruptedAndHandedBackByEnd) {
  LeaseId id = InsertFor(kAlice, Millis(1000));
  LeaseUse use;
  ASSERT_TRUE(table_.Begin(kAlice, id, kEndless, &use).ok());
  Status result;
  std::thread statement([&] { result = RunQuery(&use.handle(), kEndless); });
  std::this_thread::sleep_for(Millis(20));
  clock_.Advance(Millis(1000));
  SweepResult sweep;
  table_.Sweep(clock_.Now(), &sweep);
  EXPECT_TRUE(sweep.revoked.empty()) << "a busy lease stays until its statement ends";
  ASSERT_EQ(sweep.revoked_info.size(), 1u);
  statement.join();
  EXPECT_EQ(result.code(), Code::kLeaseExpired);
  // A second pass while still busy interrupts again but reports nothing new.
  SweepResult again;
  table_.Sweep(clock_.Now(), &again);
  EXPECT_TRUE(again.revoked_info.empty());

  PooledHandle taken;
  EXPECT_EQ(table_.End(use, &taken).code(), Code::kLeaseExpired);
  ASSERT_TRUE(taken);
  EXPECT_EQ(table_.size(), 0u);
  LeaseUse later;
  EXPECT_EQ(table_.Begin(kAlice, id, "SELECT 1", &later).code(), Code::kLeaseExpired);
}

TEST_F(LeaseTableTest, RemoveClientTakesIdleLeasesAndMarksBusyOnes) {
  LeaseId idle1 = InsertFor(kAlice);
  LeaseId idle2 = InsertFor(kAlice);
  LeaseId busy = InsertFor(kAlice);
  LeaseId bobs = InsertFor(kBob);
  (void)idle1;
  (void)idle2;
  LeaseUse use;
  ASSERT_TRUE(table_.Begin(kAlice, busy, kEndless, &use).ok());
  Status result;
  std::thread statement([&] { result = RunQuery(&use.handle(), kEndless); });
  std::this_thread::sleep_for(Millis(20));

  std::vector<PooledHandle> taken = table_.RemoveClient(kAlice);
  EXPECT_EQ(taken.size(), 2u);
  for (const auto& t : taken) EXPECT_TRUE(t);
  statement.join();
  EXPECT_EQ(result.code(), Code::kLeaseExpired) << "the running statement was interrupted";
  EXPECT_EQ(table_.size(), 2u);

  PooledHandle back;
  EXPECT_EQ(table_.End(use, &back).code(), Code::kLeaseExpired);
  EXPECT_TRUE(back);
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.LeaseCount(kAlice), 0);
  EXPECT_TRUE(table_.RemoveClient(kAlice).empty()) << "removing twice is harmless";

  // Bob is untouched.
  LeaseUse bob_use;
  EXPECT_TRUE(table_.Begin(kBob, bobs, "SELECT 1", &bob_use).ok());
  PooledHandle none;
  EXPECT_TRUE(table_.End(bob_use, &none).ok());
}

TEST_F(LeaseTableTest, InsertAfterRemoveClientFailsAndLeavesTheHandle) {
  table_.RemoveClient(kAlice);
  auto h = Open();
  Handle* raw = &*h;
  LeaseId id = 0;
  EXPECT_FALSE(table_.Insert(kAlice, &h, Terms(), &id));
  EXPECT_EQ(&*h, raw);
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_FALSE(table_.Insert(/*never added*/ 99, &h, Terms(), &id));
  EXPECT_EQ(&*h, raw);
}

TEST_F(LeaseTableTest, LeakWarningOnceAndNotWhenOff) {
  auto h = Open();
  LeaseId warned = 0;
  ASSERT_TRUE(table_.Insert(kAlice, &h, Terms(Millis(60000), Millis(100)), &warned));
  h = Open();
  LeaseId silent = 0;
  ASSERT_TRUE(table_.Insert(kAlice, &h, Terms(Millis(60000), Millis(0)), &silent));
  clock_.Advance(Millis(99));
  SweepResult sweep;
  table_.Sweep(clock_.Now(), &sweep);
  EXPECT_TRUE(sweep.leak_warnings.empty());
  clock_.Advance(Millis(1));
  table_.Sweep(clock_.Now(), &sweep);
  ASSERT_EQ(sweep.leak_warnings.size(), 1u);
  EXPECT_EQ(sweep.leak_warnings[0].id, warned);
  EXPECT_EQ(sweep.leak_warnings[0].age_ms, 100);
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(Millis(1000));
    SweepResult later;
    table_.Sweep(clock_.Now(), &later);
    EXPECT_TRUE(later.leak_warnings.empty());
    EXPECT_TRUE(later.revoked_info.empty());
  }
}

TEST_F(LeaseTableTest, IdsAreUniqueOverManyInserts) {
  auto h = Open();
  std::set<LeaseId> seen;
  for (int i = 0; i < 10000; ++i) {
    LeaseId id = 0;
    ASSERT_TRUE(table_.Insert(kAlice, &h, Terms(), &id));
    EXPECT_NE(id, 0u);
    EXPECT_TRUE(seen.insert(id).second) << "duplicate id at insert " << i;
    PooledHandle taken;
    ASSERT_TRUE(table_.Take(kAlice, id, &taken).ok());
    h = std::move(taken);
  }
  EXPECT_EQ(seen.size(), 10000u);
  // Consecutive ids do not reveal a counter.
  auto it = seen.begin();
  int adjacent = 0;
  for (auto next = std::next(it); next != seen.end(); ++it, ++next) adjacent += (*next - *it == 1);
  EXPECT_LT(adjacent, 10);
}

}  // namespace
}  // namespace litepool
