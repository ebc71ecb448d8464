// Tests of pool/reaper with a stepped clock: exact boundaries of every time
// limit, min_idle, jitter, and the real-time loop.
#include "pool/reaper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <set>
#include <string>
#include <thread>

#include "log/log.h"
#include "pool/handle_factory.h"
#include "pool/pool.h"
#include "tests/pool/pool_test_util.h"

namespace litepool {
namespace {

using testing::CountingEvents;
using testing::Drain;
using testing::GrantLog;
using testing::RunQuery;
using testing::TempDir;

constexpr const char* kEndless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c";

int Count(const std::string& text, const std::string& word) {
  int n = 0;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

class ReaperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::Configure(log::Level::kInfo, log::Format::kJson);
    leases_.AddClient(kClient, LeaseHolder{4242, 1000});
  }
  void TearDown() override { workers_.Stop(); }

  Pool* AddPool(config::PoolLimits limits, const std::string& name = "r") {
    auto pool = std::make_shared<Pool>(testing::MakeDatabase(dir_, name, std::move(limits)),
                                       &clock_, &events_);
    Status st = pool->Start();
    EXPECT_TRUE(st.ok()) << st.message();
    pools_.Add(pool);
    return pool.get();
  }

  static std::unique_ptr<Handle> AcquireNow(Pool* pool, Mode mode) {
    Pool::Acquired a =
        testing::AcquireFor(*pool, mode, [](std::unique_ptr<Handle> h) { return h; });
    EXPECT_EQ(a.kind, Pool::Acquired::kGranted) << a.status.message();
    return std::move(a.handle);
  }

  // Leases a handle of `pool` to kClient, the way the dispatcher does.
  LeaseId Lease(Pool* pool, Mode mode, Millis lease_ms, Millis leak_warn_ms = Millis(0)) {
    PooledHandle h(pool->shared_from_this(), AcquireNow(pool, mode));
    TimePoint now = h->leased_at();
    LeaseTerms terms;
    terms.mode = mode;
    terms.deadline = now + lease_ms;
    terms.leak_warn_at = leak_warn_ms.count() > 0 ? now + leak_warn_ms : TimePoint::max();
    terms.tag = "reaper-test";
    LeaseId id = 0;
    EXPECT_TRUE(leases_.Insert(kClient, &h, std::move(terms), &id));
    return id;
  }

  // One pass at the stepped clock's now, then waits for the work it posted.
  int Pass() {
    int actions = reaper_.RunOnce(clock_.Now());
    Drain(&workers_);
    return actions;
  }

  SideSnapshot Side(Pool* pool, Mode mode) {
    PoolSnapshot snap = pool->Snapshot();
    for (const SideSnapshot& s : snap.sides) EXPECT_EQ(s.open, s.idle + s.leased);
    return snap.sides[static_cast<size_t>(mode)];
  }

  static constexpr ClientId kClient = 7;
  TempDir dir_;
  ManualTimeSource clock_;
  CountingEvents events_;
  PoolSet pools_;
  LeaseTable leases_{&clock_};
  TaskRunner workers_{1, "reaper-test"};
  Reaper reaper_{&pools_, &leases_, &workers_, &clock_, Millis(1000), nullptr};
};

TEST_F(ReaperTest, LeaseRevokedExactlyAtItsDeadline) {
  Pool* pool = AddPool({});
  LeaseId id = Lease(pool, Mode::kWrite, Millis(1000));
  clock_.Advance(Millis(999));
  EXPECT_EQ(Pass(), 0);
  EXPECT_EQ(leases_.size(), 1u);
  EXPECT_EQ(events_.lease_timeouts(), 0);
  LeaseUse use;
  ASSERT_TRUE(leases_.Begin(kClient, id, "SELECT 1", &use).ok());
  PooledHandle none;
  ASSERT_TRUE(leases_.End(use, &none).ok());

  clock_.Advance(Millis(1));
  EXPECT_EQ(Pass(), 1);
  EXPECT_EQ(leases_.size(), 0u);
  EXPECT_EQ(events_.lease_timeouts(), 1);
  EXPECT_EQ(reaper_.stats().leases_revoked, 1u);
  EXPECT_EQ(leases_.Begin(kClient, id, "SELECT 1", &use).code(), Code::kLeaseExpired);
  // The handle went back to the pool, clean, and stays open.
  SideSnapshot s = Side(pool, Mode::kWrite);
  EXPECT_EQ(s.leased, 0);
  EXPECT_EQ(s.idle, 1);
  EXPECT_EQ(events_.closed_total(), 0);
}

TEST_F(ReaperTest, RevokedLeaseWithOpenTransactionIsRolledBack) {
  Pool* pool = AddPool({});
  LeaseId id = Lease(pool, Mode::kWrite, Millis(1000));
  LeaseUse use;
  ASSERT_TRUE(leases_.Begin(kClient, id, "BEGIN", &use).ok());
  ASSERT_TRUE(RunQuery(&use.handle(), "CREATE TABLE t(v)").ok());
  ASSERT_TRUE(RunQuery(&use.handle(), "BEGIN").ok());
  ASSERT_TRUE(RunQuery(&use.handle(), "INSERT INTO t VALUES (1)").ok());
  PooledHandle none;
  ASSERT_TRUE(leases_.End(use, &none).ok());
  clock_.Advance(Millis(1000));
  EXPECT_EQ(Pass(), 1);
  auto h = AcquireNow(pool, Mode::kWrite);
  EXPECT_FALSE(h->InTransaction());
  testing::CopySink sink;
  ASSERT_TRUE(RunQuery(h.get(), "SELECT count(*) FROM t", {}, &sink).ok());
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{0}));
  pool->Return(std::move(h));
}

TEST_F(ReaperTest, BusyLeaseIsInterruptedAtItsDeadline) {
  Pool* pool = AddPool({});
  LeaseId id = Lease(pool, Mode::kWrite, Millis(1000));
  LeaseUse use;
  ASSERT_TRUE(leases_.Begin(kClient, id, kEndless, &use).ok());
  Status result;
  std::thread statement([&] { result = RunQuery(&use.handle(), kEndless); });
  clock_.Advance(Millis(1000));
  EXPECT_EQ(Pass(), 1);
  statement.join();
  EXPECT_EQ(result.code(), Code::kLeaseExpired);
  PooledHandle taken;
  EXPECT_EQ(leases_.End(use, &taken).code(), Code::kLeaseExpired);
  ASSERT_TRUE(taken);
  std::move(taken).Return();
  EXPECT_EQ(Side(pool, Mode::kWrite).idle, 1);
  // The next lease on that handle is not hit by the old revocation.
  auto h = AcquireNow(pool, Mode::kWrite);
  EXPECT_TRUE(RunQuery(h.get(), "SELECT 1").ok());
  pool->Return(std::move(h));
}

TEST_F(ReaperTest, LeakWarningExactlyOnceAtLeakWarnMs) {
  Pool* pool = AddPool({});
  Lease(pool, Mode::kWrite, Millis(60000), Millis(10000));
  Lease(pool, Mode::kRead, Millis(60000), Millis(0));  // warnings off
  ::testing::internal::CaptureStderr();
  clock_.Advance(Millis(9999));
  int before = Pass();
  clock_.Advance(Millis(1));
  int at = Pass();
  int later = 0;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(Millis(1000));
    later += Pass();
  }
  std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(before, 0);
  EXPECT_EQ(at, 1);
  EXPECT_EQ(later, 0);
  EXPECT_EQ(events_.leak_warnings(), 1);
  EXPECT_EQ(reaper_.stats().leak_warnings, 1u);
  EXPECT_EQ(Count(logged, "lease_leak_warning"), 1) << logged;
  EXPECT_NE(logged.find("\"level\":\"warn\""), std::string::npos) << logged;
  EXPECT_NE(logged.find("4242"), std::string::npos) << "the holder's pid: " << logged;
  EXPECT_NE(logged.find("reaper-test"), std::string::npos) << "the tag: " << logged;
  EXPECT_EQ(leases_.size(), 2u) << "a leak warning does not revoke";
  EXPECT_EQ(events_.lease_timeouts(), 0);
}

TEST_F(ReaperTest, IdleTimeoutBoundaryKeepsMinIdle) {
  config::PoolLimits limits;
  limits.max_readers = 3;
  limits.idle_timeout_ms = 1000;
  limits.min_idle = 1;
  Pool* pool = AddPool(limits);  // opens the one writer of min_idle
  ASSERT_EQ(Side(pool, Mode::kWrite).idle, 1);
  {
    auto a = AcquireNow(pool, Mode::kRead);
    auto b = AcquireNow(pool, Mode::kRead);
    auto c = AcquireNow(pool, Mode::kRead);
    pool->Return(std::move(a));
    pool->Return(std::move(b));
    pool->Return(std::move(c));
  }
  ASSERT_EQ(Side(pool, Mode::kRead).idle, 3);
  clock_.Advance(Millis(999));
  EXPECT_EQ(Pass(), 0);
  EXPECT_EQ(events_.closed_total(), 0);
  clock_.Advance(Millis(1));
  EXPECT_EQ(Pass(), 3);
  EXPECT_EQ(events_.closed(CloseReason::kIdleTimeout), 3);
  EXPECT_EQ(events_.closed_total(), 3);
  EXPECT_EQ(reaper_.stats().handles_closed, 3u);
  int open = Side(pool, Mode::kWrite).open + Side(pool, Mode::kRead).open;
  EXPECT_EQ(open, 1) << "min_idle is kept";
  // The survivor is idle just as long, yet stays on later passes.
  clock_.Advance(Millis(5000));
  EXPECT_EQ(Pass(), 0);
  EXPECT_EQ(Side(pool, Mode::kWrite).open + Side(pool, Mode::kRead).open, 1);
}

TEST_F(ReaperTest, RecentUseResetsTheIdleClock) {
  config::PoolLimits limits;
  limits.idle_timeout_ms = 1000;
  Pool* pool = AddPool(limits);
  pool->Return(AcquireNow(pool, Mode::kRead));
  clock_.Advance(Millis(600));
  pool->Return(AcquireNow(pool, Mode::kRead));  // used again: 0 ms idle
  clock_.Advance(Millis(999));
  EXPECT_EQ(Pass(), 0);
  EXPECT_EQ(Side(pool, Mode::kRead).idle, 1);
  clock_.Advance(Millis(1));
  EXPECT_EQ(Pass(), 1);
  EXPECT_EQ(Side(pool, Mode::kRead).open, 0);
  EXPECT_EQ(events_.closed(Mode::kRead, CloseReason::kIdleTimeout), 1);
}

TEST_F(ReaperTest, ReopensUpToMinIdle) {
  config::PoolLimits limits;
  limits.max_writers = 1;
  limits.max_readers = 4;
  limits.min_idle = 2;
  Pool* pool = AddPool(limits);
  EXPECT_EQ(Side(pool, Mode::kWrite).idle, 1);
  EXPECT_EQ(Side(pool, Mode::kRead).idle, 1);
  // An unclean return closes the writer: one short of min_idle.
  auto w = AcquireNow(pool, Mode::kWrite);
  ASSERT_TRUE(RunQuery(w.get(), "CREATE TEMP TABLE x(a)").ok());
  pool->Return(std::move(w));
  EXPECT_EQ(Side(pool, Mode::kWrite).open, 0);
  int opened_before = events_.opened(Mode::kWrite) + events_.opened(Mode::kRead);
  EXPECT_EQ(Pass(), 1);
  EXPECT_EQ(Side(pool, Mode::kWrite).idle, 1) << "the write side is refilled first";
  EXPECT_EQ(Side(pool, Mode::kRead).idle, 1);
  EXPECT_EQ(events_.opened(Mode::kWrite) + events_.opened(Mode::kRead), opened_before + 1);
  EXPECT_EQ(Pass(), 0) << "nothing more to open";
}

TEST_F(ReaperTest, ExpiredIdleHandlesAreClosedAndReplaced) {
  config::PoolLimits limits;
  limits.max_lifetime_ms = 1000;
  limits.min_idle = 2;
  Pool* pool = AddPool(limits);
  std::set<uint64_t> before;
  {
    auto w = AcquireNow(pool, Mode::kWrite);
    auto r = AcquireNow(pool, Mode::kRead);
    before = {w->id(), r->id()};
    pool->Return(std::move(w));
    pool->Return(std::move(r));
  }
  clock_.Advance(Millis(974));
  EXPECT_EQ(Pass(), 0);
  clock_.Advance(Millis(26));
  EXPECT_EQ(Pass(), 4);  // two closes, two opens
  EXPECT_EQ(events_.closed(CloseReason::kMaxLifetime), 2);
  auto w = AcquireNow(pool, Mode::kWrite);
  auto r = AcquireNow(pool, Mode::kRead);
  EXPECT_EQ(before.count(w->id()), 0u);
  EXPECT_EQ(before.count(r->id()), 0u);
  EXPECT_GE(w->opened_at(), clock_.Now());
}

TEST_F(ReaperTest, LeasedExpiredHandleIsClosedOnlyWhenReturned) {
  config::PoolLimits limits;
  limits.max_writers = 2;
  limits.max_lifetime_ms = 1000;
  Pool* pool = AddPool(limits);
  LeaseId id = Lease(pool, Mode::kWrite, Millis(600000));
  pool->Return(AcquireNow(pool, Mode::kWrite));  // a second, idle writer
  ASSERT_EQ(Side(pool, Mode::kWrite).open, 2);
  clock_.Advance(Millis(5000));
  EXPECT_EQ(Pass(), 1);
  EXPECT_EQ(events_.closed(Mode::kWrite, CloseReason::kMaxLifetime), 1);
  SideSnapshot s = Side(pool, Mode::kWrite);
  EXPECT_EQ(s.open, 1);
  EXPECT_EQ(s.leased, 1);
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(Millis(1000));
    EXPECT_EQ(Pass(), 0);
  }
  EXPECT_EQ(events_.closed_total(), 1) << "never closed while leased";
  LeaseUse use;
  ASSERT_TRUE(leases_.Begin(kClient, id, "SELECT 1", &use).ok());
  EXPECT_TRUE(RunQuery(&use.handle(), "SELECT 1").ok());
  PooledHandle none;
  ASSERT_TRUE(leases_.End(use, &none).ok());

  PooledHandle taken;
  ASSERT_TRUE(leases_.Take(kClient, id, &taken).ok());
  std::move(taken).Return();
  EXPECT_EQ(events_.closed(Mode::kWrite, CloseReason::kMaxLifetime), 2);
  EXPECT_EQ(Side(pool, Mode::kWrite).open, 0);
}

TEST_F(ReaperTest, JitteredLifetimeStaysWithinTwoAndAHalfPercent) {
  const Millis max(1000000);
  for (int i = 0; i <= 1000; ++i) {
    double u = i / 1000.0;
    Millis got = HandleFactory::JitteredLifetime(max, u);
    EXPECT_GE(got, Millis(975000)) << "u=" << u;
    EXPECT_LE(got, Millis(1000000)) << "u=" << u;
  }
  EXPECT_EQ(HandleFactory::JitteredLifetime(max, 0.0), Millis(1000000));
  EXPECT_EQ(HandleFactory::JitteredLifetime(max, 1.0), Millis(975000));
  EXPECT_EQ(HandleFactory::JitteredLifetime(max, 0.5), Millis(987500));
  EXPECT_EQ(HandleFactory::JitteredLifetime(max, std::nextafter(1.0, 0.0)), Millis(975001));

  config::PoolLimits limits;
  limits.max_lifetime_ms = 1000000;
  config::Database db = testing::MakeDatabase(dir_, "jitter", limits);
  HandleFactory factory(db, &clock_);
  ASSERT_TRUE(factory.Prepare().ok());
  std::set<Clock::rep> lifetimes;
  for (int i = 0; i < 40; ++i) {
    std::unique_ptr<Handle> h;
    ASSERT_TRUE(factory.Open(i % 2 ? Mode::kRead : Mode::kWrite, &h).ok());
    auto lifetime = h->expires_at() - h->opened_at();
    EXPECT_GE(lifetime, Millis(975000));
    EXPECT_LE(lifetime, Millis(1000000));
    lifetimes.insert(lifetime.count());
  }
  EXPECT_GT(lifetimes.size(), 1u) << "handles opened together must not all expire together";
}

TEST_F(ReaperTest, RevocationServesTheQueuedWaiter) {
  Pool* pool = AddPool({});  // max_writers 1
  Lease(pool, Mode::kWrite, Millis(1000));
  GrantLog log;
  ASSERT_EQ(testing::AcquireFor(*pool, Mode::kWrite, log.For(1)).kind, Pool::Acquired::kQueued);
  clock_.Advance(Millis(999));
  Pass();
  EXPECT_EQ(log.size(), 0u);
  clock_.Advance(Millis(1));
  EXPECT_EQ(Pass(), 1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log.has_handle(0));
  SideSnapshot s = Side(pool, Mode::kWrite);
  EXPECT_EQ(s.waiters, 0);
  EXPECT_EQ(s.leased, 1);
  pool->Return(log.Take(0));
}

TEST_F(ReaperTest, PassesOverSeveralPools) {
  config::PoolLimits limits;
  limits.idle_timeout_ms = 1000;
  Pool* a = AddPool(limits, "a");
  Pool* b = AddPool(limits, "b");
  a->Return(AcquireNow(a, Mode::kRead));
  b->Return(AcquireNow(b, Mode::kWrite));
  Lease(a, Mode::kWrite, Millis(500));
  Lease(b, Mode::kRead, Millis(2000));
  clock_.Advance(Millis(1000));
  EXPECT_EQ(Pass(), 3);  // a's lease, both idle handles
  EXPECT_EQ(leases_.size(), 1u);
  EXPECT_EQ(Side(a, Mode::kRead).open, 0);
  EXPECT_EQ(Side(b, Mode::kWrite).open, 0);
  EXPECT_EQ(Side(a, Mode::kWrite).idle, 1) << "the revoked lease's handle came back";
}

class RecordingReaperEvents final : public ReaperEvents {
 public:
  void ReaperUp(bool up) override { (up ? ups : downs)++; }
  void PassDone(double finished, double duration, double lag) override {
    passes++;
    if (finished <= 0 || duration < 0) bad++;
  }
  std::atomic<int> ups{0}, downs{0}, passes{0}, bad{0};
};

TEST(ReaperLoopTest, StartStopRunsPassesInRealTime) {
  TempDir dir;
  CountingEvents events;
  PoolSet pools;
  config::PoolLimits limits;
  limits.idle_timeout_ms = 50;
  auto pool =
      std::make_shared<Pool>(testing::MakeDatabase(dir, "loop", limits), RealTime(), &events);
  ASSERT_TRUE(pool->Start().ok());
  pools.Add(pool);
  {
    Pool::Acquired a =
        testing::AcquireFor(*pool, Mode::kRead, [](std::unique_ptr<Handle> h) { return h; });
    ASSERT_EQ(a.kind, Pool::Acquired::kGranted);
    pool->Return(std::move(a.handle));
  }
  LeaseTable leases(RealTime());
  TaskRunner workers(1, "loop-test");
  RecordingReaperEvents reaper_events;
  Reaper reaper(&pools, &leases, &workers, RealTime(), Millis(10), &reaper_events);
  EXPECT_FALSE(reaper.stats().up);
  reaper.Start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((reaper.stats().runs < 5 || events.closed(CloseReason::kIdleTimeout) < 1) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(5));
  }
  ReaperStats running = reaper.stats();
  EXPECT_TRUE(running.up);
  EXPECT_GE(running.runs, 5u);
  EXPECT_GT(running.last_run_unix_seconds, 1.6e9);
  EXPECT_EQ(events.closed(CloseReason::kIdleTimeout), 1) << "the loop applied the idle rule";
  reaper.Stop();
  ReaperStats stopped = reaper.stats();
  EXPECT_FALSE(stopped.up);
  std::this_thread::sleep_for(Millis(50));
  EXPECT_EQ(reaper.stats().runs, stopped.runs) << "no pass after Stop()";
  EXPECT_EQ(reaper_events.ups, 1);
  EXPECT_EQ(reaper_events.downs, 1);
  EXPECT_GE(reaper_events.passes, 5);
  EXPECT_EQ(reaper_events.bad, 0);
  reaper.Stop();  // idempotent
  workers.Stop();
}

// A real-time reaper over one pool, for the tests of when the thread wakes.
class ReaperWakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::PoolLimits limits;
    limits.max_writers = 1;
    limits.max_readers = 8;
    pool_ =
        std::make_shared<Pool>(testing::MakeDatabase(dir_, "wake", limits), RealTime(), &events_);
    ASSERT_TRUE(pool_->Start().ok());
    pools_.Add(pool_);
    leases_.AddClient(kClient, LeaseHolder{4242, 1000});
  }
  void TearDown() override {
    if (reaper_) reaper_->Stop();
    workers_.Stop();
  }

  void StartReaper(Millis interval) {
    reaper_ = std::make_unique<Reaper>(&pools_, &leases_, &workers_, RealTime(), interval, nullptr);
    reaper_->Start();
  }

  // Leases a read handle for `lease_ms`; returns its deadline.
  TimePoint Lease(Millis lease_ms) {
    Pool::Acquired a =
        testing::AcquireFor(*pool_, Mode::kRead, [](std::unique_ptr<Handle> h) { return h; });
    EXPECT_EQ(a.kind, Pool::Acquired::kGranted);
    PooledHandle h(pool_, std::move(a.handle));
    LeaseTerms terms;
    terms.mode = Mode::kRead;
    terms.deadline = h->leased_at() + lease_ms;
    terms.leak_warn_at = TimePoint::max();
    TimePoint deadline = terms.deadline;
    LeaseId id = 0;
    EXPECT_TRUE(leases_.Insert(kClient, &h, std::move(terms), &id));
    return deadline;
  }

  // Polls until `n` leases were revoked; returns when the n-th was seen.
  TimePoint WaitForRevocations(int n) {
    auto give_up = Clock::now() + std::chrono::seconds(20);
    while (events_.lease_timeouts() < n && Clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return Clock::now();
  }

  static constexpr ClientId kClient = 9;
  TempDir dir_;
  CountingEvents events_;
  PoolSet pools_;
  std::shared_ptr<Pool> pool_;
  LeaseTable leases_{RealTime()};
  TaskRunner workers_{1, "wake-test"};
  std::unique_ptr<Reaper> reaper_;
};

// The reaper sleeps until the deadline, not until its next tick: with a
// minute's interval a 50 ms lease is revoked at 50 ms, and no periodic pass
// has run. The bound is loose for loaded test machines; the measured
// lateness is in bench/RESULTS.md ("Revocation lateness").
TEST_F(ReaperWakeTest, RevokedAtItsDeadlineWhateverTheInterval) {
  for (Millis interval : {Millis(60000), Millis(10)}) {
    StartReaper(interval);
    TimePoint deadline = Lease(Millis(50));
    int before = events_.lease_timeouts();
    TimePoint seen = WaitForRevocations(before + 1);
    ASSERT_EQ(events_.lease_timeouts(), before + 1) << "interval " << interval.count();
    EXPECT_LT(seen - deadline, Millis(250)) << "interval " << interval.count();
    if (interval == Millis(60000)) {
      EXPECT_EQ(reaper_->stats().runs, 0u) << "no periodic pass in a minute's interval";
    }
    EXPECT_GE(reaper_->stats().lease_passes, 1u);
    reaper_->Stop();
  }
}

TEST_F(ReaperWakeTest, AnEarlierLeaseWakesTheSleepingReaper) {
  StartReaper(Millis(60000));
  Lease(Millis(30000));
  // Let the reaper go to sleep until that lease's deadline.
  std::this_thread::sleep_for(Millis(30));
  TimePoint deadline = Lease(Millis(40));
  TimePoint seen = WaitForRevocations(1);
  ASSERT_EQ(events_.lease_timeouts(), 1);
  EXPECT_LT(seen - deadline, Millis(250));
  EXPECT_EQ(leases_.size(), 1u) << "the 30 s lease stays";
  EXPECT_EQ(reaper_->stats().runs, 0u) << "woken by the lease, not by a tick";
}

TEST_F(ReaperWakeTest, ALaterLeaseDoesNotWakeTheReaper) {
  StartReaper(Millis(60000));
  Lease(Millis(300));
  std::this_thread::sleep_for(Millis(30));
  uint64_t passes = reaper_->stats().lease_passes;
  for (int i = 0; i < 5; ++i) Lease(Millis(10000));
  std::this_thread::sleep_for(Millis(50));
  EXPECT_EQ(reaper_->stats().lease_passes, passes) << "no pass for leases due later";
  WaitForRevocations(1);
  EXPECT_EQ(events_.lease_timeouts(), 1);
}

}  // namespace
}  // namespace litepool
