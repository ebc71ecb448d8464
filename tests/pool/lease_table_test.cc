// Tests of pool/lease_table: ownership, release, revocation and clients that
// leave. The lease id's text form is wire/'s (tests/wire/wire_test.cc).
#include "pool/lease_table.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "pool/pool.h"
#include "pool/timer_heap.h"
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
    Pool::Acquired a =
        testing::AcquireFor(*pool_, Mode::kWrite, [](std::unique_ptr<Handle> h) { return h; });
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

// Counts the table's nudges to the reaper.
class CountingWakeup final : public LeaseWakeup {
 public:
  void LeaseDueBy(TimePoint due) override { dues.push_back(due); }
  std::vector<TimePoint> dues;
};

TEST_F(LeaseTableTest, SweepReportsTheNextDueAndRevokesExactlyThen) {
  TimePoint start = clock_.Now();
  LeaseId late = InsertFor(kAlice, Millis(5000));
  LeaseId early = InsertFor(kAlice, Millis(300));
  SweepResult sweep;
  table_.Sweep(start, &sweep);
  EXPECT_EQ(sweep.next_due, start + Millis(300));
  EXPECT_EQ(sweep.visited, 0);

  clock_.Advance(Millis(300) - Clock::duration(1));
  SweepResult before;
  table_.Sweep(clock_.Now(), &before);
  EXPECT_TRUE(before.revoked_info.empty());
  EXPECT_EQ(before.next_due, start + Millis(300));

  clock_.Advance(Clock::duration(1));
  SweepResult at;
  table_.Sweep(clock_.Now(), &at);
  ASSERT_EQ(at.revoked_info.size(), 1u);
  EXPECT_EQ(at.revoked_info[0].id, early);
  EXPECT_EQ(at.visited, 1);
  EXPECT_EQ(at.next_due, start + Millis(5000));

  PooledHandle taken;
  ASSERT_TRUE(table_.Take(kAlice, late, &taken).ok());
  SweepResult empty;
  table_.Sweep(clock_.Now(), &empty);
  EXPECT_EQ(empty.next_due, TimePoint::max()) << "a released lease leaves the index";
}

TEST_F(LeaseTableTest, OnlyAnInsertDueEarlierThanTheReaperSleepsForWakesIt) {
  CountingWakeup wakeup;
  table_.SetWakeup(&wakeup);
  TimePoint start = clock_.Now();
  InsertFor(kAlice, Millis(1000));  // the reaper knows of nothing: woken
  ASSERT_EQ(wakeup.dues.size(), 1u);
  EXPECT_EQ(wakeup.dues[0], start + Millis(1000));
  InsertFor(kAlice, Millis(2000));
  EXPECT_EQ(wakeup.dues.size(), 1u) << "later than what the reaper sleeps for";
  InsertFor(kAlice, Millis(500));
  ASSERT_EQ(wakeup.dues.size(), 2u);
  EXPECT_EQ(wakeup.dues[1], start + Millis(500));
  InsertFor(kAlice, Millis(700));
  EXPECT_EQ(wakeup.dues.size(), 2u);

  // A sweep tells the table what the reaper sleeps for next.
  SweepResult sweep;
  table_.Sweep(start, &sweep);
  EXPECT_EQ(sweep.next_due, start + Millis(500));
  InsertFor(kAlice, Millis(600));
  EXPECT_EQ(wakeup.dues.size(), 2u);
  InsertFor(kAlice, Millis(499));
  EXPECT_EQ(wakeup.dues.size(), 3u);

  // An earlier leak warning wakes it too.
  auto h = Open();
  LeaseId id = 0;
  ASSERT_TRUE(table_.Insert(kAlice, &h, Terms(Millis(60000), Millis(100)), &id));
  ASSERT_EQ(wakeup.dues.size(), 4u);
  EXPECT_EQ(wakeup.dues[3], start + Millis(100));
  table_.SetWakeup(nullptr);
  InsertFor(kAlice, Millis(1));
  EXPECT_EQ(wakeup.dues.size(), 4u);
}

TEST_F(LeaseTableTest, BusyRevokedLeaseIsInterruptedAgainEveryPeriodUntilEnd) {
  LeaseId id = InsertFor(kAlice, Millis(1000));
  LeaseUse use;
  // Begun, but no statement yet: each interrupt is the kind that a
  // statement starting just after it would lose.
  ASSERT_TRUE(table_.Begin(kAlice, id, "SELECT 1", &use).ok());
  clock_.Advance(Millis(1000));
  SweepResult first;
  table_.Sweep(clock_.Now(), &first);
  EXPECT_EQ(first.interrupted, 1);
  EXPECT_EQ(first.revoked_info.size(), 1u);
  EXPECT_EQ(first.next_due, clock_.Now() + LeaseTable::kReinterruptEvery);
  int interrupts = 1;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(LeaseTable::kReinterruptEvery - Millis(1));
    SweepResult between;
    table_.Sweep(clock_.Now(), &between);
    EXPECT_EQ(between.interrupted, 0);
    clock_.Advance(Millis(1));
    SweepResult again;
    table_.Sweep(clock_.Now(), &again);
    EXPECT_EQ(again.interrupted, 1) << "period " << i;
    EXPECT_TRUE(again.revoked_info.empty()) << "reported once";
    interrupts += again.interrupted;
  }
  EXPECT_EQ(interrupts, 6);
  PooledHandle taken;
  EXPECT_EQ(table_.End(use, &taken).code(), Code::kLeaseExpired);
  EXPECT_TRUE(taken);
  SweepResult after;
  clock_.Advance(Millis(1000));
  table_.Sweep(clock_.Now(), &after);
  EXPECT_EQ(after.interrupted, 0);
  EXPECT_EQ(after.next_due, TimePoint::max());
}

TEST_F(LeaseTableTest, LeakWarningAndDeadlineInOnePassBothReportedOnce) {
  auto h = Open();
  LeaseId id = 0;
  ASSERT_TRUE(table_.Insert(kAlice, &h, Terms(Millis(200), Millis(100)), &id));
  clock_.Advance(Millis(500));
  SweepResult sweep;
  table_.Sweep(clock_.Now(), &sweep);
  ASSERT_EQ(sweep.leak_warnings.size(), 1u);
  ASSERT_EQ(sweep.revoked_info.size(), 1u);
  EXPECT_EQ(sweep.next_due, TimePoint::max());
  SweepResult again;
  table_.Sweep(clock_.Now(), &again);
  EXPECT_TRUE(again.leak_warnings.empty());
  EXPECT_TRUE(again.revoked_info.empty());
}

// A private in-memory connection standing in for a leased handle, so a test
// can hold many leases without as many files.
std::unique_ptr<Handle> MemoryHandle(uint64_t id, TimePoint now) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, nullptr),
            SQLITE_OK);
  auto h = std::make_unique<Handle>(db, Mode::kRead, id, std::make_shared<const SandboxPolicy>(),
                                    now, now + Millis(1800000));
  h->set_leased_at(now);
  return h;
}

TEST_F(LeaseTableTest, APassWithNothingDueLooksAtNoLease) {
  constexpr int kLeases = 2000;
  TimePoint start = clock_.Now();
  for (int i = 0; i < kLeases; ++i) {
    PooledHandle h(pool_, MemoryHandle(100000 + i, start));
    LeaseTerms terms = Terms(Millis(10000 + i), Millis(5000 + i));
    LeaseId id = 0;
    ASSERT_TRUE(table_.Insert(i % 2 ? kAlice : kBob, &h, std::move(terms), &id));
  }
  for (int pass = 0; pass < 10; ++pass) {
    clock_.Advance(Millis(100));
    SweepResult sweep;
    table_.Sweep(clock_.Now(), &sweep);
    EXPECT_EQ(sweep.visited, 0);
    EXPECT_EQ(sweep.next_due, start + Millis(5000));
  }
  clock_.Advance(Millis(5000 - 1000 + 9));  // at start + 5009: 10 warnings due
  SweepResult sweep;
  table_.Sweep(clock_.Now(), &sweep);
  EXPECT_EQ(sweep.leak_warnings.size(), 10u);
  EXPECT_EQ(sweep.visited, 10) << "only the leases that were due";
  EXPECT_EQ(sweep.next_due, start + Millis(5010));
  // The in-memory handles never came from the pool.
  for (PooledHandle& h : table_.TakeAll()) (void)std::move(h).Detach();
}

TEST(TimerHeapTest, AgreesWithAnOrderedSetUnderRandomPushAndErase) {
  std::mt19937_64 rng(42);
  TimerHeap heap;
  constexpr int kIds = 500;
  std::vector<size_t> slots(kIds, TimerHeap::kNotIn);
  std::set<std::pair<TimePoint, uint64_t>> model;
  std::vector<TimePoint> at(kIds);
  TimePoint base = Clock::now();
  for (int step = 0; step < 20000; ++step) {
    uint64_t id = rng() % kIds;
    int op = static_cast<int>(rng() % 3);
    if (slots[id] == TimerHeap::kNotIn && op != 2) {
      at[id] = base + Millis(rng() % 1000);
      heap.Push(at[id], id, &slots[id]);
      model.insert({at[id], id});
    } else if (slots[id] != TimerHeap::kNotIn && op == 1) {
      heap.Erase(&slots[id]);
      EXPECT_EQ(slots[id], TimerHeap::kNotIn);
      model.erase({at[id], id});
    } else if (!heap.empty() && op == 2) {
      uint64_t top = heap.top_id();
      ASSERT_EQ(heap.top_time(), model.begin()->first);
      ASSERT_EQ(at[top], heap.top_time());
      heap.Pop();
      EXPECT_EQ(slots[top], TimerHeap::kNotIn);
      model.erase({at[top], top});
    }
    ASSERT_EQ(heap.size(), model.size());
    ASSERT_EQ(heap.top_time(), model.empty() ? TimePoint::max() : model.begin()->first);
  }
}

}  // namespace
}  // namespace litepool
