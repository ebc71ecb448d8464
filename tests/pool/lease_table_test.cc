// Tests of pool/lease_table: ownership, release, revocation and clients that
// leave. The lease id's text form is wire/'s (tests/wire/wire_test.cc).
#include "pool/lease_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "pool/handle_factory.h"
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
    db_ = testing::MakeDatabase(dir_, "l");
    factory_ = std::make_unique<HandleFactory>(db_, &clock_);
    ASSERT_TRUE(factory_->Prepare().ok());
    table_.AddClient(kAlice, LeaseHolder{101, 1001});
    table_.AddClient(kBob, LeaseHolder{202, 1002});
  }

  std::unique_ptr<Handle> Open() {
    std::unique_ptr<Handle> h;
    EXPECT_TRUE(factory_->Open(Mode::kWrite, &h).ok());
    h->set_leased_at(clock_.Now());
    return h;
  }

  LeaseTerms Terms(Millis lease = Millis(30000), Millis leak_warn = Millis(0)) {
    LeaseTerms t;
    t.mode = Mode::kWrite;
    t.db = "l";
    t.deadline = clock_.Now() + lease;
    t.leak_warn_at = leak_warn.count() > 0 ? clock_.Now() + leak_warn : TimePoint::max();
    t.tag = "test";
    return t;
  }

  LeaseId InsertFor(ClientId client, Millis lease = Millis(30000)) {
    auto h = Open();
    LeaseId id = 0;
    EXPECT_TRUE(table_.Insert(client, &h, Terms(lease), &id));
    EXPECT_EQ(h, nullptr) << "the table took the handle";
    return id;
  }

  static constexpr ClientId kAlice = 1;
  static constexpr ClientId kBob = 2;
  TempDir dir_;
  ManualTimeSource clock_;
  config::Database db_;
  std::unique_ptr<HandleFactory> factory_;
  LeaseTable table_{&clock_};
};

TEST_F(LeaseTableTest, OnlyTheOwnerCanUseALease) {
  LeaseId id = InsertFor(kAlice);
  EXPECT_EQ(table_.LeaseCount(kAlice), 1);
  EXPECT_EQ(table_.LeaseCount(kBob), 0);
  EXPECT_EQ(table_.size(), 1u);

  LeaseUse use;
  EXPECT_EQ(table_.Begin(kBob, id, "SELECT 1", &use).code(), Code::kUnknownLease);
  TakenLease taken;
  EXPECT_EQ(table_.Take(kBob, id, &taken).code(), Code::kUnknownLease);
  EXPECT_EQ(taken.handle, nullptr);
  EXPECT_EQ(table_.Begin(kAlice, id + 1, "SELECT 1", &use).code(), Code::kUnknownLease);

  ASSERT_TRUE(table_.Begin(kAlice, id, "SELECT 1", &use).ok());
  ASSERT_NE(use.handle, nullptr);
  EXPECT_EQ(use.id, id);
  EXPECT_EQ(use.mode, Mode::kWrite);
  // One statement at a time on a lease.
  LeaseUse second;
  EXPECT_EQ(table_.Begin(kAlice, id, "SELECT 2", &second).code(), Code::kBadRequest);
  EXPECT_EQ(table_.Take(kAlice, id, &taken).code(), Code::kBadRequest);
  EXPECT_TRUE(RunQuery(use.handle, "SELECT 1").ok());
  TakenLease none;
  EXPECT_TRUE(table_.End(use, &none).ok());
  EXPECT_EQ(none.handle, nullptr);

  auto list = table_.List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].holder.pid, 101);
  EXPECT_EQ(list[0].last_sql, "SELECT 1");
  EXPECT_EQ(list[0].tag, "test");
}

TEST_F(LeaseTableTest, TakeAfterTakeIsUnknownLease) {
  LeaseId id = InsertFor(kAlice);
  TakenLease taken;
  ASSERT_TRUE(table_.Take(kAlice, id, &taken).ok());
  EXPECT_NE(taken.handle, nullptr);
  EXPECT_EQ(table_.LeaseCount(kAlice), 0);
  TakenLease again;
  EXPECT_EQ(table_.Take(kAlice, id, &again).code(), Code::kUnknownLease);
  EXPECT_EQ(again.handle, nullptr);
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
  EXPECT_NE(sweep.revoked[0].handle, nullptr);

  LeaseUse use;
  TakenLease taken;
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
  std::thread statement([&] { result = RunQuery(use.handle, kEndless); });
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

  TakenLease taken;
  EXPECT_EQ(table_.End(use, &taken).code(), Code::kLeaseExpired);
  ASSERT_NE(taken.handle, nullptr);
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
  std::thread statement([&] { result = RunQuery(use.handle, kEndless); });
  std::this_thread::sleep_for(Millis(20));

  std::vector<TakenLease> taken = table_.RemoveClient(kAlice);
  EXPECT_EQ(taken.size(), 2u);
  for (const auto& t : taken) EXPECT_NE(t.handle, nullptr);
  statement.join();
  EXPECT_EQ(result.code(), Code::kLeaseExpired) << "the running statement was interrupted";
  EXPECT_EQ(table_.size(), 2u);

  TakenLease back;
  EXPECT_EQ(table_.End(use, &back).code(), Code::kLeaseExpired);
  EXPECT_NE(back.handle, nullptr);
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.LeaseCount(kAlice), 0);
  EXPECT_TRUE(table_.RemoveClient(kAlice).empty()) << "removing twice is harmless";

  // Bob is untouched.
  LeaseUse bob_use;
  EXPECT_TRUE(table_.Begin(kBob, bobs, "SELECT 1", &bob_use).ok());
  TakenLease none;
  EXPECT_TRUE(table_.End(bob_use, &none).ok());
}

TEST_F(LeaseTableTest, InsertAfterRemoveClientFailsAndLeavesTheHandle) {
  table_.RemoveClient(kAlice);
  auto h = Open();
  Handle* raw = h.get();
  LeaseId id = 0;
  EXPECT_FALSE(table_.Insert(kAlice, &h, Terms(), &id));
  EXPECT_EQ(h.get(), raw);
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_FALSE(table_.Insert(/*never added*/ 99, &h, Terms(), &id));
  EXPECT_EQ(h.get(), raw);
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
    TakenLease taken;
    ASSERT_TRUE(table_.Take(kAlice, id, &taken).ok());
    h = std::move(taken.handle);
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
