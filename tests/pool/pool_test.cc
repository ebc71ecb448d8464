// Tests of pool/pool: FIFO hand-off, limits, clean and unclean returns,
// lifetime, shutdown and the read-only side.
#include "pool/pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include "tests/pool/pool_test_util.h"

namespace litepool {
namespace {

using testing::CountingEvents;
using testing::GrantLog;
using testing::RunQuery;
using testing::TempDir;

class PoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<Pool> MakePool(config::PoolLimits limits, bool read_only = false,
                                 const std::string& name = "p") {
    config::Database db = testing::MakeDatabase(dir_, name, std::move(limits));
    db.read_only = read_only;
    auto pool = std::make_unique<Pool>(db, &clock_, &events_);
    Status st = pool->Start();
    EXPECT_TRUE(st.ok()) << st.message();
    return pool;
  }

  static std::unique_ptr<Handle> AcquireNow(Pool* pool, Mode mode) {
    Pool::Acquired a =
        testing::AcquireFor(*pool, mode, [](std::unique_ptr<Handle> h) { return h; });
    EXPECT_EQ(a.kind, Pool::Acquired::kGranted) << a.status.message();
    return std::move(a.handle);
  }

  static SideSnapshot Side(const Pool& pool, Mode mode) {
    PoolSnapshot snap = pool.Snapshot();
    for (const SideSnapshot& s : snap.sides) EXPECT_EQ(s.open, s.idle + s.leased);
    return snap.sides[static_cast<size_t>(mode)];
  }

  TempDir dir_;
  ManualTimeSource clock_;
  CountingEvents events_;
};

config::PoolLimits Writers(int max_writers) {
  config::PoolLimits limits;
  limits.max_writers = max_writers;
  return limits;
}

TEST_F(PoolTest, WaitersAreServedInOrderAndNewcomersQueueBehindThem) {
  auto pool = MakePool(Writers(1));
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  ASSERT_TRUE(h);
  const uint64_t id = h->id();

  GrantLog log;
  std::set<uint64_t> waiter_ids;
  for (int w = 1; w <= 3; ++w) {
    Pool::Acquired a = testing::AcquireFor(*pool, Mode::kWrite, log.For(w));
    ASSERT_EQ(a.kind, Pool::Acquired::kQueued);
    waiter_ids.insert(a.waiter);
  }
  EXPECT_EQ(waiter_ids.size(), 3u);
  SideSnapshot s = Side(*pool, Mode::kWrite);
  EXPECT_EQ(s.waiters, 3);
  EXPECT_EQ(s.leased, 1);
  EXPECT_EQ(s.idle, 0);

  EXPECT_FALSE(pool->Return(std::move(h)));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log.waiter(0), 1);
  s = Side(*pool, Mode::kWrite);
  EXPECT_EQ(s.waiters, 2);
  EXPECT_EQ(s.leased, 1);
  EXPECT_EQ(s.idle, 0) << "a handle freed while waiters queue must not go idle";

  // No barging: a fresh acquire while others wait goes to the back.
  Pool::Acquired fresh = testing::AcquireFor(*pool, Mode::kWrite, log.For(4));
  EXPECT_EQ(fresh.kind, Pool::Acquired::kQueued);
  EXPECT_EQ(fresh.handle, nullptr);

  for (size_t i = 0; i < 3; ++i) {
    auto held = log.Take(i);
    ASSERT_TRUE(held);
    EXPECT_EQ(held->id(), id) << "the same handle is handed along";
    pool->Return(std::move(held));
    ASSERT_EQ(log.size(), i + 2);
    EXPECT_EQ(log.waiter(i + 1), static_cast<int>(i) + 2);
  }
  pool->Return(log.Take(3));
  s = Side(*pool, Mode::kWrite);
  EXPECT_EQ(s.waiters, 0);
  EXPECT_EQ(s.idle, 1);
  EXPECT_EQ(s.leased, 0);
  EXPECT_EQ(events_.opened(Mode::kWrite), 1);
  EXPECT_EQ(events_.acquired(Mode::kWrite, AcquireResult::kOk), 5);
  EXPECT_EQ(events_.lease_ended(Mode::kWrite), 5);
}

TEST_F(PoolTest, WaiterThatRefusesIsSkipped) {
  auto pool = MakePool(Writers(1));
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  int refused = 0;
  ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite,
                                [&refused](std::unique_ptr<Handle> handle) {
                                  ++refused;  // its client has gone
                                  return handle;
                                })
                .kind,
            Pool::Acquired::kQueued);
  GrantLog log;
  ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(2)).kind, Pool::Acquired::kQueued);
  pool->Return(std::move(h));
  EXPECT_EQ(refused, 1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log.has_handle(0));
  EXPECT_EQ(Side(*pool, Mode::kWrite).leased, 1);

  // When every waiter refuses, the handle goes idle.
  ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite,
                                [](std::unique_ptr<Handle> handle) { return handle; })
                .kind,
            Pool::Acquired::kQueued);
  pool->Return(log.Take(0));
  SideSnapshot s = Side(*pool, Mode::kWrite);
  EXPECT_EQ(s.idle, 1);
  EXPECT_EQ(s.leased, 0);
  EXPECT_EQ(s.waiters, 0);
}

TEST_F(PoolTest, MaxWaitersGivesPoolExhausted) {
  config::PoolLimits limits = Writers(1);
  limits.max_waiters = 2;
  auto pool = MakePool(limits);
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  GrantLog log;
  ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(1)).kind, Pool::Acquired::kQueued);
  ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(2)).kind, Pool::Acquired::kQueued);
  Pool::Acquired third = testing::AcquireFor(*pool, Mode::kWrite, log.For(3));
  EXPECT_EQ(third.kind, Pool::Acquired::kFailed);
  EXPECT_EQ(third.status.code(), Code::kPoolExhausted);
  EXPECT_EQ(events_.acquired(Mode::kWrite, AcquireResult::kExhausted), 1);
  EXPECT_EQ(Side(*pool, Mode::kWrite).waiters, 2);
  // The read side has its own queue and room.
  auto r = AcquireNow(pool.get(), Mode::kRead);
  EXPECT_TRUE(r);
  // Once a waiter is served there is room in the queue again.
  pool->Return(std::move(h));
  EXPECT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(4)).kind, Pool::Acquired::kQueued);
  EXPECT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(5)).kind, Pool::Acquired::kFailed);
}

TEST_F(PoolTest, CancelWaiter) {
  auto pool = MakePool(Writers(1));
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  GrantLog log;
  Pool::Acquired a = testing::AcquireFor(*pool, Mode::kWrite, log.For(1));
  ASSERT_EQ(a.kind, Pool::Acquired::kQueued);
  EXPECT_TRUE(pool->CancelWaiter(Mode::kWrite, a.waiter, AcquireResult::kTimeout));
  EXPECT_FALSE(pool->CancelWaiter(Mode::kWrite, a.waiter, AcquireResult::kTimeout));
  EXPECT_EQ(events_.acquired(Mode::kWrite, AcquireResult::kTimeout), 1);
  EXPECT_EQ(Side(*pool, Mode::kWrite).waiters, 0);
  pool->Return(std::move(h));
  EXPECT_EQ(log.size(), 0u) << "a cancelled waiter is never granted";
  EXPECT_EQ(Side(*pool, Mode::kWrite).idle, 1);

  h = AcquireNow(pool.get(), Mode::kWrite);
  Pool::Acquired b = testing::AcquireFor(*pool, Mode::kWrite, log.For(2));
  ASSERT_EQ(b.kind, Pool::Acquired::kQueued);
  pool->Return(std::move(h));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_FALSE(pool->CancelWaiter(Mode::kWrite, b.waiter, AcquireResult::kTimeout))
      << "a granted waiter cannot be cancelled";
  EXPECT_FALSE(pool->CancelWaiter(Mode::kRead, b.waiter, AcquireResult::kTimeout));
  EXPECT_EQ(events_.acquired(Mode::kWrite, AcquireResult::kTimeout), 1);
  pool->Return(log.Take(0));
}

TEST_F(PoolTest, ReadSideQueuesAtMaxReaders) {
  config::PoolLimits limits;
  limits.max_readers = 2;
  auto pool = MakePool(limits);
  auto r1 = AcquireNow(pool.get(), Mode::kRead);
  auto r2 = AcquireNow(pool.get(), Mode::kRead);
  GrantLog log;
  EXPECT_EQ(testing::AcquireFor(*pool, Mode::kRead, log.For(1)).kind, Pool::Acquired::kQueued);
  SideSnapshot s = Side(*pool, Mode::kRead);
  EXPECT_EQ(s.open, 2);
  EXPECT_EQ(s.max, 2);
  EXPECT_EQ(s.waiters, 1);
  // The write side is untouched by the read side's queue.
  auto w = AcquireNow(pool.get(), Mode::kWrite);
  EXPECT_EQ(w->mode(), Mode::kWrite);
  EXPECT_EQ(r1->mode(), Mode::kRead);
  pool->Return(std::move(r1));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(events_.opened(Mode::kRead), 2);
}

// Many threads acquiring and returning: neither side ever has more handles
// out or open than its maximum, and the snapshot always adds up.
TEST_F(PoolTest, SidesNeverExceedTheirMaximum) {
  config::PoolLimits limits;
  limits.max_writers = 2;
  limits.max_readers = 3;
  auto pool = MakePool(limits);
  const int kMax[kModeCount] = {2, 3};
  std::atomic<int> out[kModeCount] = {0, 0};
  std::atomic<int> peak[kModeCount] = {0, 0};
  std::atomic<bool> stop{false};
  std::atomic<int> bad_snapshots{0};

  std::thread monitor([&] {
    while (!stop) {
      PoolSnapshot snap = pool->Snapshot();
      for (size_t m = 0; m < kModeCount; ++m) {
        const SideSnapshot& s = snap.sides[m];
        if (s.open != s.idle + s.leased || s.open > kMax[m] || s.leased > kMax[m]) ++bad_snapshots;
      }
      std::this_thread::yield();
    }
  });
  auto worker = [&](int seed) {
    for (int i = 0; i < 300; ++i) {
      Mode mode = (i + seed) % 3 == 0 ? Mode::kWrite : Mode::kRead;
      size_t m = static_cast<size_t>(mode);
      auto got = std::make_shared<std::promise<std::unique_ptr<Handle>>>();
      auto future = got->get_future();
      Pool::Acquired a = testing::AcquireFor(*pool, mode, [got](std::unique_ptr<Handle> h) {
        got->set_value(std::move(h));
        return std::unique_ptr<Handle>();
      });
      std::unique_ptr<Handle> h;
      if (a.kind == Pool::Acquired::kGranted) {
        h = std::move(a.handle);
      } else {
        ASSERT_EQ(a.kind, Pool::Acquired::kQueued) << a.status.message();
        ASSERT_EQ(future.wait_for(std::chrono::seconds(60)), std::future_status::ready);
        h = future.get();
      }
      ASSERT_TRUE(h);
      ASSERT_EQ(h->mode(), mode);
      int now_out = ++out[m];
      int prev = peak[m].load();
      while (now_out > prev && !peak[m].compare_exchange_weak(prev, now_out)) {
      }
      if (i % 7 == 0) {
        EXPECT_TRUE(RunQuery(h.get(), "SELECT 1").ok());
      }
      --out[m];
      pool->Return(std::move(h));
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) threads.emplace_back(worker, t);
  for (auto& t : threads) t.join();
  stop = true;
  monitor.join();

  EXPECT_EQ(bad_snapshots, 0);
  EXPECT_LE(peak[0], 2);
  EXPECT_LE(peak[1], 3);
  EXPECT_LE(events_.opened(Mode::kWrite), 2);
  EXPECT_LE(events_.opened(Mode::kRead), 3);
  for (Mode mode : {Mode::kWrite, Mode::kRead}) {
    SideSnapshot s = Side(*pool, mode);
    EXPECT_EQ(s.leased, 0);
    EXPECT_EQ(s.waiters, 0);
    EXPECT_LE(s.open, kMax[static_cast<size_t>(mode)]);
  }
}

TEST_F(PoolTest, CleanReturnKeepsTheHandleAndReusesItLifo) {
  config::PoolLimits limits;
  limits.max_readers = 3;
  auto pool = MakePool(limits);
  auto w = AcquireNow(pool.get(), Mode::kWrite);
  const uint64_t id = w->id();
  EXPECT_FALSE(pool->Return(std::move(w)));
  EXPECT_EQ(Side(*pool, Mode::kWrite).idle, 1);
  w = AcquireNow(pool.get(), Mode::kWrite);
  EXPECT_EQ(w->id(), id);

  // A transaction left open is rolled back; the handle is then clean and kept.
  ASSERT_TRUE(RunQuery(w.get(), "CREATE TABLE t(v)").ok());
  ASSERT_TRUE(RunQuery(w.get(), "BEGIN").ok());
  ASSERT_TRUE(RunQuery(w.get(), "INSERT INTO t VALUES (1)").ok());
  EXPECT_TRUE(pool->Return(std::move(w)));
  w = AcquireNow(pool.get(), Mode::kWrite);
  EXPECT_EQ(w->id(), id);
  EXPECT_FALSE(w->InTransaction());
  EXPECT_EQ(events_.opened(Mode::kWrite), 1);
  EXPECT_EQ(events_.closed_total(), 0);
  pool->Return(std::move(w));

  // Idle reuse is LIFO: the most recently returned handle goes out first.
  auto a = AcquireNow(pool.get(), Mode::kRead);
  auto b = AcquireNow(pool.get(), Mode::kRead);
  auto c = AcquireNow(pool.get(), Mode::kRead);
  uint64_t last = b->id();
  pool->Return(std::move(a));
  pool->Return(std::move(c));
  pool->Return(std::move(b));
  EXPECT_EQ(AcquireNow(pool.get(), Mode::kRead)->id(), last);
}

TEST_F(PoolTest, QuickAcquireNeverOpensAHandle) {
  config::PoolLimits limits;
  limits.min_idle = 0;
  limits.max_readers = 1;
  auto pool = MakePool(limits);
  bool built = false;
  auto make_grant = [&built]() -> Pool::Grant {
    built = true;
    return [](std::unique_ptr<Handle> h) { return h; };
  };
  Pool::Acquired a = pool->Acquire(Mode::kRead, testing::kRootUid, make_grant, /*may_open=*/false);
  EXPECT_EQ(a.kind, Pool::Acquired::kMustOpen);
  EXPECT_FALSE(built) << "no waiter was queued";
  EXPECT_EQ(Side(*pool, Mode::kRead).open, 0);
  EXPECT_EQ(events_.opened(Mode::kRead), 0);

  auto h = AcquireNow(pool.get(), Mode::kRead);  // may open
  ASSERT_TRUE(h);
  // Full: the quick acquire queues like any other, building its Grant then.
  a = pool->Acquire(Mode::kRead, testing::kRootUid, make_grant, /*may_open=*/false);
  EXPECT_EQ(a.kind, Pool::Acquired::kQueued);
  EXPECT_TRUE(built);
  EXPECT_TRUE(pool->CancelWaiter(Mode::kRead, a.waiter, AcquireResult::kTimeout));
  ASSERT_TRUE(pool->ReturnQuickly(&h));
  // Idle: granted at once.
  built = false;
  a = pool->Acquire(Mode::kRead, testing::kRootUid, make_grant, /*may_open=*/false);
  EXPECT_EQ(a.kind, Pool::Acquired::kGranted);
  EXPECT_FALSE(built);
  pool->Return(std::move(a.handle));
}

TEST_F(PoolTest, QuickReturnRefusesWhatNeedsSqliteWork) {
  auto pool = MakePool(Writers(1));
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  ASSERT_TRUE(RunQuery(h.get(), "CREATE TABLE t(v)").ok());
  ASSERT_TRUE(RunQuery(h.get(), "BEGIN").ok());
  ASSERT_TRUE(RunQuery(h.get(), "INSERT INTO t VALUES (1)").ok());
  EXPECT_FALSE(pool->ReturnQuickly(&h)) << "a rollback is needed";
  ASSERT_TRUE(h) << "the handle stays with the caller";
  EXPECT_TRUE(h->InTransaction());
  EXPECT_EQ(events_.lease_ended(Mode::kWrite), 0) << "nothing was counted";
  EXPECT_TRUE(pool->Return(std::move(h)));

  h = AcquireNow(pool.get(), Mode::kWrite);
  ASSERT_TRUE(RunQuery(h.get(), "CREATE TEMP TABLE scratch(a)").ok());
  EXPECT_FALSE(pool->ReturnQuickly(&h)) << "an unclean handle must be closed";
  pool->Return(std::move(h));
  EXPECT_EQ(events_.closed(Mode::kWrite, CloseReason::kReset), 1);

  h = AcquireNow(pool.get(), Mode::kWrite);
  clock_.Advance(Millis(config::PoolLimits().max_lifetime_ms));
  EXPECT_FALSE(pool->ReturnQuickly(&h)) << "an expired handle must be closed";
  pool->Return(std::move(h));
  EXPECT_EQ(events_.closed(Mode::kWrite, CloseReason::kMaxLifetime), 1);

  h = AcquireNow(pool.get(), Mode::kWrite);
  const uint64_t id = h->id();
  ASSERT_TRUE(pool->ReturnQuickly(&h));
  EXPECT_FALSE(h);
  EXPECT_EQ(Side(*pool, Mode::kWrite).idle, 1);
  EXPECT_EQ(AcquireNow(pool.get(), Mode::kWrite)->id(), id);
}

TEST_F(PoolTest, UncleanReturnClosesWithResetAndWaiterGetsAFreshHandle) {
  auto pool = MakePool(Writers(1));
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  const uint64_t id = h->id();
  GrantLog log;
  ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(1)).kind, Pool::Acquired::kQueued);
  ASSERT_TRUE(RunQuery(h.get(), "CREATE TEMP TABLE scratch(a)").ok());
  ASSERT_FALSE(h->Clean());
  pool->Return(std::move(h));
  EXPECT_EQ(events_.closed(Mode::kWrite, CloseReason::kReset), 1);
  EXPECT_EQ(events_.closed_total(), 1);
  ASSERT_EQ(log.size(), 1u);
  auto fresh = log.Take(0);
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh->id(), id);
  EXPECT_TRUE(fresh->Clean());
  EXPECT_FALSE(RunQuery(fresh.get(), "SELECT * FROM scratch").ok())
      << "the temp table died with the old handle";
  EXPECT_EQ(events_.opened(Mode::kWrite), 2);
  SideSnapshot s = Side(*pool, Mode::kWrite);
  EXPECT_EQ(s.open, 1);
  EXPECT_EQ(s.leased, 1);
  EXPECT_EQ(s.waiters, 0);
  pool->Return(std::move(fresh));
  EXPECT_EQ(Side(*pool, Mode::kWrite).idle, 1);

  // Without a waiter the unclean handle is simply closed.
  h = AcquireNow(pool.get(), Mode::kWrite);
  ASSERT_TRUE(RunQuery(h.get(), "CREATE TEMP TABLE scratch(a)").ok());
  pool->Return(std::move(h));
  EXPECT_EQ(events_.closed(Mode::kWrite, CloseReason::kReset), 2);
  s = Side(*pool, Mode::kWrite);
  EXPECT_EQ(s.open, 0);
  EXPECT_EQ(s.idle, 0);
}

// The consequence of a temp table the clean check misses: the next lease,
// perhaps another client's, sees the last one's session state.
TEST_F(PoolTest, NoTempTableSurvivesIntoTheNextLease) {
  auto pool = MakePool(Writers(1));
  for (const char* sql :
       {"CREATE TEMP TABLE scratch(secret)", "CREATE TABLE temp.scratch(secret)"}) {
    auto h = AcquireNow(pool.get(), Mode::kWrite);
    ASSERT_TRUE(RunQuery(h.get(), sql).ok()) << sql;
    ASSERT_TRUE(RunQuery(h.get(), "INSERT INTO scratch VALUES ('from the last lease')").ok());
    pool->Return(std::move(h));
    auto next = AcquireNow(pool.get(), Mode::kWrite);
    EXPECT_FALSE(RunQuery(next.get(), "SELECT * FROM scratch").ok())
        << "after " << sql << ", the next lease reads the last lease's temp table";
    pool->Return(std::move(next));
  }
}

TEST_F(PoolTest, ExpiredHandleIsClosedOnReturn) {
  config::PoolLimits limits = Writers(1);
  limits.max_lifetime_ms = 1000;
  auto pool = MakePool(limits);
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  const uint64_t id = h->id();
  EXPECT_GE(h->expires_at() - h->opened_at(), Millis(975));
  EXPECT_LE(h->expires_at() - h->opened_at(), Millis(1000));
  clock_.Advance(Millis(974));  // before the shortest jittered lifetime
  pool->Return(std::move(h));
  EXPECT_EQ(events_.closed_total(), 0);
  h = AcquireNow(pool.get(), Mode::kWrite);
  EXPECT_EQ(h->id(), id);
  clock_.Advance(Millis(26));  // 1000 ms: past any jittered lifetime
  pool->Return(std::move(h));
  EXPECT_EQ(events_.closed(Mode::kWrite, CloseReason::kMaxLifetime), 1);
  EXPECT_EQ(events_.closed_total(), 1);
  SideSnapshot s = Side(*pool, Mode::kWrite);
  EXPECT_EQ(s.open, 0);
  h = AcquireNow(pool.get(), Mode::kWrite);
  EXPECT_NE(h->id(), id);
  EXPECT_EQ(events_.opened(Mode::kWrite), 2);
}

TEST_F(PoolTest, ExpiredHandleReturnedWhileWaiterQueuesGoesFreshToTheWaiter) {
  config::PoolLimits limits = Writers(1);
  limits.max_lifetime_ms = 1000;
  auto pool = MakePool(limits);
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  const uint64_t id = h->id();
  GrantLog log;
  ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(1)).kind, Pool::Acquired::kQueued);
  clock_.Advance(Millis(1000));
  pool->Return(std::move(h));
  EXPECT_EQ(events_.closed(Mode::kWrite, CloseReason::kMaxLifetime), 1);
  ASSERT_EQ(log.size(), 1u);
  ASSERT_TRUE(log.has_handle(0));
  auto fresh = log.Take(0);
  EXPECT_NE(fresh->id(), id);
  EXPECT_GT(fresh->expires_at(), clock_.Now());
  pool->Return(std::move(fresh));
}

TEST_F(PoolTest, ShutdownGrantsQueuedWaitersANullHandle) {
  auto pool = MakePool(Writers(1));
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  auto r = AcquireNow(pool.get(), Mode::kRead);
  pool->Return(std::move(r));  // idle at shutdown
  GrantLog log;
  ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(1)).kind, Pool::Acquired::kQueued);
  ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(2)).kind, Pool::Acquired::kQueued);
  pool->Shutdown(CloseReason::kShutdown);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_FALSE(log.has_handle(0));
  EXPECT_FALSE(log.has_handle(1));
  EXPECT_EQ(events_.closed(Mode::kRead, CloseReason::kShutdown), 1);
  EXPECT_EQ(Side(*pool, Mode::kWrite).waiters, 0);

  Pool::Acquired late = testing::AcquireFor(*pool, Mode::kWrite, log.For(3));
  EXPECT_EQ(late.kind, Pool::Acquired::kFailed);
  EXPECT_EQ(late.status.code(), Code::kShuttingDown);
  // A handle leased across the shutdown is closed when it comes back.
  pool->Return(std::move(h));
  EXPECT_EQ(events_.closed(Mode::kWrite, CloseReason::kShutdown), 1);
  EXPECT_EQ(log.size(), 2u);
  for (Mode mode : {Mode::kWrite, Mode::kRead}) {
    SideSnapshot s = Side(*pool, mode);
    EXPECT_EQ(s.open, 0);
    EXPECT_EQ(s.idle, 0);
  }
}

TEST_F(PoolTest, ReadOnlyDatabaseHasNoWriteSide) {
  {
    auto writable = MakePool(Writers(1), false, "ro");
    auto h = AcquireNow(writable.get(), Mode::kWrite);
    ASSERT_TRUE(RunQuery(h.get(), "CREATE TABLE t(v)").ok());
    ASSERT_TRUE(RunQuery(h.get(), "INSERT INTO t VALUES (1)").ok());
    writable->Return(std::move(h));
    writable->Shutdown(CloseReason::kShutdown);
  }
  config::PoolLimits limits;
  limits.max_writers = 1;
  auto pool = MakePool(limits, /*read_only=*/true, "ro");
  EXPECT_EQ(Side(*pool, Mode::kWrite).max, 0);
  EXPECT_EQ(Side(*pool, Mode::kRead).max, limits.max_readers);
  Pool::Acquired w =
      testing::AcquireFor(*pool, Mode::kWrite, [](std::unique_ptr<Handle> h) { return h; });
  EXPECT_EQ(w.kind, Pool::Acquired::kFailed);
  EXPECT_EQ(w.status.code(), Code::kReadOnly);
  auto r = AcquireNow(pool.get(), Mode::kRead);
  testing::CopySink sink;
  ASSERT_TRUE(RunQuery(r.get(), "SELECT count(*) FROM t", {}, &sink).ok());
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{1}));
  EXPECT_EQ(RunQuery(r.get(), "INSERT INTO t VALUES (2)").code(), Code::kReadOnly);
  pool->Return(std::move(r));
  // A reload cannot give a read-only database writers.
  config::Database reloaded = testing::MakeDatabase(dir_, "ro", limits);
  reloaded.read_only = true;
  reloaded.limits.max_writers = 3;
  EXPECT_TRUE(pool->Reconfigure(reloaded).empty());
  pool->ServeWaiters();
  EXPECT_EQ(Side(*pool, Mode::kWrite).max, 0);
  EXPECT_EQ(
      testing::AcquireFor(*pool, Mode::kWrite, [](std::unique_ptr<Handle> h) { return h; }).kind,
      Pool::Acquired::kFailed);
}

TEST_F(PoolTest, StartOpensMinIdleWriteSideFirst) {
  config::PoolLimits limits;
  limits.max_writers = 1;
  limits.max_readers = 4;
  limits.min_idle = 3;
  auto pool = MakePool(limits);
  EXPECT_EQ(Side(*pool, Mode::kWrite).idle, 1);
  EXPECT_EQ(Side(*pool, Mode::kRead).idle, 2);
  EXPECT_EQ(events_.opened(Mode::kWrite) + events_.opened(Mode::kRead), 3);
}

TEST_F(PoolTest, ReconfigureRaisesMaximum) {
  config::PoolLimits limits;
  limits.max_readers = 1;
  auto pool = MakePool(limits);
  auto r1 = AcquireNow(pool.get(), Mode::kRead);
  limits.max_readers = 2;
  EXPECT_TRUE(pool->Reconfigure(testing::MakeDatabase(dir_, "p", limits)).empty());
  EXPECT_EQ(Side(*pool, Mode::kRead).max, 2);
  auto r2 = AcquireNow(pool.get(), Mode::kRead);
  EXPECT_TRUE(r2);
  EXPECT_EQ(pool->limits().max_readers, 2);
  pool->Return(std::move(r1));
  pool->Return(std::move(r2));
}

// The limits a request reads without the pool's lock follow a reload.
TEST_F(PoolTest, LeaseLimitsFollowAReload) {
  config::PoolLimits limits;
  limits.lease_timeout_ms = 30000;
  limits.max_readers = 0;
  auto pool = MakePool(limits);
  LeaseLimits before = pool->lease_limits();
  EXPECT_EQ(before.lease_timeout, Millis(30000));
  EXPECT_EQ(before.acquire_timeout, Millis(limits.acquire_timeout_ms));
  EXPECT_EQ(before.leak_warn, Millis(limits.leak_warn_ms));
  EXPECT_EQ(before.max_leases_per_client, limits.max_leases_per_client);
  EXPECT_FALSE(before.has_readers);

  limits.lease_timeout_ms = 1234;
  limits.acquire_timeout_ms = 55;
  limits.leak_warn_ms = 0;
  limits.statement_timeout_ms = 77;
  limits.max_leases_per_client = 3;
  limits.max_readers = 2;
  EXPECT_TRUE(pool->Reconfigure(testing::MakeDatabase(dir_, "p", limits)).empty());
  LeaseLimits after = pool->lease_limits();
  EXPECT_EQ(after.lease_timeout, Millis(1234));
  EXPECT_EQ(after.acquire_timeout, Millis(55));
  EXPECT_EQ(after.leak_warn, Millis(0));
  EXPECT_EQ(after.statement_timeout, Millis(77));
  EXPECT_EQ(after.max_leases_per_client, 3);
  EXPECT_TRUE(after.has_readers);
}

// The uid check is part of the acquire (one lock): a refused uid takes
// nothing, queues nothing and counts no acquire; root always passes.
TEST_F(PoolTest, AcquireRefusesAUidTheDatabaseDoesNotAllow) {
  config::Database db = testing::MakeDatabase(dir_, "p", Writers(1));
  db.allowed_uids = std::vector<uint32_t>{1000};
  auto pool = std::make_unique<Pool>(db, &clock_, &events_);
  ASSERT_TRUE(pool->Start().ok());
  auto no_grant = []() -> Pool::Grant { return nullptr; };
  Pool::Acquired refused = pool->Acquire(Mode::kWrite, 1001, no_grant, /*may_open=*/true);
  EXPECT_EQ(refused.kind, Pool::Acquired::kFailed);
  EXPECT_EQ(refused.status.code(), Code::kForbidden);
  EXPECT_NE(refused.status.message().find("1001"), std::string::npos) << refused.status.message();
  EXPECT_EQ(events_.acquired(Mode::kWrite, AcquireResult::kError), 0);
  EXPECT_EQ(Side(*pool, Mode::kWrite).leased, 0);

  for (uint32_t uid : {1000u, 0u}) {
    Pool::Acquired ok = pool->Acquire(Mode::kWrite, uid, no_grant, /*may_open=*/true);
    ASSERT_EQ(ok.kind, Pool::Acquired::kGranted) << uid << ": " << ok.status.message();
    pool->Return(std::move(ok.handle));
  }
}

// The pool's cache figure (litepool_handle_cache_bytes) follows each
// handle's page cache as it is returned, by either return path, and drops
// it when the handle closes.
TEST_F(PoolTest, CacheBytesFollowTheHandlesAcrossReturnsAndClose) {
  auto pool = MakePool(Writers(1));
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  EXPECT_EQ(pool->Snapshot().cache_bytes, h->CacheBytes());
  const int64_t opened = h->CacheBytes();
  StatementOutcome outcome;
  ASSERT_TRUE(h->Exec("CREATE TABLE t(v TEXT);"
                      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                      "WHERE x < 2000) INSERT INTO t SELECT printf('%0200d', x) FROM c",
                      Millis(0), &outcome)
                  .ok());
  const int64_t grown = h->CacheBytes();
  ASSERT_GT(grown, opened);
  ASSERT_TRUE(pool->ReturnQuickly(&h));  // the quick path
  EXPECT_EQ(pool->Snapshot().cache_bytes, grown);

  h = AcquireNow(pool.get(), Mode::kWrite);
  ASSERT_TRUE(h->Exec("DELETE FROM t", Millis(0), &outcome).ok());
  const int64_t after = h->CacheBytes();
  ASSERT_TRUE(h->Exec("BEGIN", Millis(0), &outcome).ok());  // not clean: the slow path
  pool->Return(std::move(h));
  EXPECT_EQ(pool->Snapshot().cache_bytes, after);  // rolling back an empty BEGIN frees no page

  pool->Shutdown(CloseReason::kShutdown);
  EXPECT_EQ(pool->Snapshot().cache_bytes, 0);
}

// A quick return hands the handle straight to the first waiter, counting
// the lease's end and the waiter's acquire.
TEST_F(PoolTest, QuickReturnGrantsTheFirstWaiter) {
  auto pool = MakePool(Writers(1));
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  GrantLog log;
  ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(1)).kind, Pool::Acquired::kQueued);
  ASSERT_TRUE(pool->ReturnQuickly(&h));
  EXPECT_FALSE(h);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log.has_handle(0));
  SideSnapshot s = Side(*pool, Mode::kWrite);
  EXPECT_EQ(s.leased, 1);
  EXPECT_EQ(s.idle, 0);
  EXPECT_EQ(s.waiters, 0);
  EXPECT_EQ(events_.lease_ended(Mode::kWrite), 1);
  EXPECT_EQ(events_.acquired(Mode::kWrite, AcquireResult::kOk), 2);
  pool->Return(log.Take(0));
  EXPECT_EQ(Side(*pool, Mode::kWrite).idle, 1);
}

// A raised maximum on reload (docs/configuration.md: pool sizes apply to live pools) serves
// the waiters already queued, in order, before any newcomer.
TEST_F(PoolTest, RaisedMaximumServesQueuedWaitersFirst) {
  config::PoolLimits limits = Writers(1);
  auto pool = MakePool(limits);
  auto h = AcquireNow(pool.get(), Mode::kWrite);
  GrantLog log;
  for (int w = 1; w <= 4; ++w) {
    ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(w)).kind, Pool::Acquired::kQueued);
  }
  limits.max_writers = 3;
  EXPECT_TRUE(pool->Reconfigure(testing::MakeDatabase(dir_, "p", limits)).empty());
  pool->ServeWaiters();
  ASSERT_EQ(log.size(), 2u) << "two new slots, two waiters served";
  EXPECT_EQ(log.waiter(0), 1);
  EXPECT_EQ(log.waiter(1), 2);
  EXPECT_TRUE(log.has_handle(0));
  EXPECT_TRUE(log.has_handle(1));
  SideSnapshot s = Side(*pool, Mode::kWrite);
  EXPECT_EQ(s.open, 3);
  EXPECT_EQ(s.waiters, 2);
  Pool::Acquired newcomer = testing::AcquireFor(*pool, Mode::kWrite, log.For(5));
  EXPECT_EQ(newcomer.kind, Pool::Acquired::kQueued);
  pool->Return(std::move(h));
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log.waiter(2), 3);
}

// A lowered maximum closes idle handles above it at once (handed to the
// caller) and leased ones when they come back, with reason reload.
TEST_F(PoolTest, LoweredMaximumClosesExcessHandles) {
  config::PoolLimits limits;
  limits.max_readers = 4;
  auto pool = MakePool(limits);
  std::vector<std::unique_ptr<Handle>> out;
  for (int i = 0; i < 4; ++i) out.push_back(AcquireNow(pool.get(), Mode::kRead));
  pool->Return(std::move(out[3]));
  pool->Return(std::move(out[2]));
  out.resize(2);
  ASSERT_EQ(Side(*pool, Mode::kRead).idle, 2);
  limits.max_readers = 1;
  auto excess = pool->Reconfigure(testing::MakeDatabase(dir_, "p", limits));
  EXPECT_EQ(excess.size(), 2u);
  for (auto& h : excess) pool->CloseReaped(std::move(h), CloseReason::kReload);
  EXPECT_EQ(events_.closed(Mode::kRead, CloseReason::kReload), 2);
  SideSnapshot s = Side(*pool, Mode::kRead);
  EXPECT_EQ(s.open, 2);
  EXPECT_EQ(s.max, 1);
  pool->Return(std::move(out[0]));  // 2 open > max 1: closed
  EXPECT_EQ(events_.closed(Mode::kRead, CloseReason::kReload), 3);
  pool->Return(std::move(out[1]));  // 1 open = max: kept
  EXPECT_EQ(events_.closed(Mode::kRead, CloseReason::kReload), 3);
  s = Side(*pool, Mode::kRead);
  EXPECT_EQ(s.open, 1);
  EXPECT_EQ(s.idle, 1);
}

// Checks, on every event, that the pool's lock is free: another thread takes
// it (Snapshot) and must get it at once. An event called under the lock
// (pool/pool_events.h forbids it) leaves that thread blocked until the
// event returns, and the check fails after its wait.
class LockCheckingEvents final : public PoolEvents {
 public:
  ~LockCheckingEvents() override { JoinBlocked(); }
  void Watch(const Pool* pool) { pool_ = pool; }
  int checks() const { return checks_; }
  // Joins the threads that found the lock held (they finish once it is
  // released); before the pool goes.
  void JoinBlocked() {
    for (auto& t : blocked_) t.join();
    blocked_.clear();
  }

  void HandleOpened(Mode) override { Check("HandleOpened"); }
  void HandleClosed(Mode, CloseReason) override { Check("HandleClosed"); }
  void Acquired(Mode, AcquireResult, double) override { Check("Acquired"); }
  void LeaseEnded(Mode, double) override { Check("LeaseEnded"); }
  void QueryDone(Code, double) override { Check("QueryDone"); }
  void LeaseTimedOut() override { Check("LeaseTimedOut"); }
  void LeakWarned() override { Check("LeakWarned"); }
  void StorageFault(Code) override { Check("StorageFault"); }
  void DatabaseUp(bool) override { Check("DatabaseUp"); }

 private:
  // The test calls the pool from one thread only, so no lock here.
  void Check(const char* event) {
    if (pool_ == nullptr) return;
    ++checks_;
    auto taken = std::make_shared<std::promise<void>>();
    std::future<void> done = taken->get_future();
    const Pool* pool = pool_;
    std::thread t([pool, taken] {
      pool->Snapshot();
      taken->set_value();
    });
    if (done.wait_for(std::chrono::seconds(5)) == std::future_status::ready) {
      t.join();
    } else {
      ADD_FAILURE() << event << " was called with the pool lock held";
      blocked_.push_back(std::move(t));
    }
  }

  const Pool* pool_ = nullptr;
  int checks_ = 0;
  std::vector<std::thread> blocked_;
};

// Every way an acquire is refused, granted, queued and ended, a down
// database and a shutdown: no event with the pool's lock held.
TEST_F(PoolTest, EventsAreNeverCalledWithThePoolLockHeld) {
  {
    auto writable = MakePool(Writers(1), false, "ro");  // the read_only pool's file
    writable->Shutdown(CloseReason::kShutdown);
  }
  LockCheckingEvents events;
  auto make = [&](const std::string& name, config::PoolLimits limits, bool read_only) {
    config::Database db = testing::MakeDatabase(dir_, name, std::move(limits));
    db.read_only = read_only;
    auto pool = std::make_unique<Pool>(db, &clock_, &events);
    events.Watch(pool.get());
    return pool;
  };

  auto keep = [](std::unique_ptr<Handle> h) { return h; };
  config::PoolLimits limits;
  limits.max_writers = 1;
  limits.max_readers = 0;
  limits.max_waiters = 1;
  auto pool = make("p", limits, false);
  ASSERT_TRUE(pool->Start().ok());
  Pool::Acquired w = testing::AcquireFor(*pool, Mode::kWrite, keep);
  ASSERT_EQ(w.kind, Pool::Acquired::kGranted);
  Pool::Acquired queued = testing::AcquireFor(*pool, Mode::kWrite, keep);
  EXPECT_EQ(queued.kind, Pool::Acquired::kQueued);
  EXPECT_EQ(testing::AcquireFor(*pool, Mode::kWrite, keep).status.code(),
            Code::kPoolExhausted);  // max_waiters
  EXPECT_EQ(testing::AcquireFor(*pool, Mode::kRead, keep).status.code(),
            Code::kPoolExhausted);  // no readers
  EXPECT_TRUE(pool->CancelWaiter(Mode::kWrite, queued.waiter, AcquireResult::kTimeout));
  ASSERT_TRUE(RunQuery(w.handle.get(), "BEGIN").ok());
  EXPECT_TRUE(pool->Return(std::move(w.handle)));  // rolled back
  pool->Shutdown(CloseReason::kShutdown);
  events.JoinBlocked();

  auto read_only = make("ro", config::PoolLimits{}, true);
  ASSERT_TRUE(read_only->Start().ok());
  EXPECT_EQ(testing::AcquireFor(*read_only, Mode::kWrite, keep).status.code(), Code::kReadOnly);
  read_only->Shutdown(CloseReason::kShutdown);
  events.JoinBlocked();

  config::Database gone = testing::MakeDatabase(dir_, "gone");
  gone.path = dir_.File("no-such-dir/gone.db");
  auto down = std::make_unique<Pool>(gone, &clock_, &events);
  events.Watch(down.get());
  EXPECT_FALSE(down->Start().ok());
  EXPECT_EQ(testing::AcquireFor(*down, Mode::kWrite, keep).status.code(),
            Code::kDatabaseUnavailable);
  events.JoinBlocked();
  EXPECT_GE(events.checks(), 10);
}

}  // namespace
}  // namespace litepool
