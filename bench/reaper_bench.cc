// Benchmarks of the reaper's pass over a large, healthy daemon (nothing due,
// so the pass only looks) and of the pool's acquire/return path without
// sockets. Results and the commands that produce them: bench/RESULTS.md.
// The full walk over every lease this replaced is measured by building the
// previous revision's reaper_bench (bench/RESULTS.md, "Reaper pass").
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "pool/clock.h"
#include "pool/handle.h"
#include "pool/lease_table.h"
#include "pool/pool.h"
#include "pool/pool_events.h"
#include "pool/pool_set.h"
#include "pool/reaper.h"
#include "pool/task_runner.h"

namespace litepool {
namespace {

constexpr int kPools = 10;
constexpr int kIdlePerPool = 100;  // max_readers of each pool
constexpr int kLeases = 10000;
constexpr int kLeasesPerClient = 8;

// A directory under $TMPDIR (or /tmp), removed with its files at exit.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/litepool-bench-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) != nullptr) path_ = buf.data();
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// 1,000 file handles and the 10,000 lease handles below need more than the
// usual 1,024 descriptors' soft limit.
void RaiseFileLimit() {
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

config::Database MakeDatabase(const std::string& dir, const std::string& name,
                              config::PoolLimits limits) {
  config::Database db;
  db.name = name;
  db.path = dir + "/" + name + ".db";
  db.create_if_missing = true;
  db.limits = std::move(limits);
  db.pragmas = {{"journal_mode", "wal"}};
  return db;
}

std::unique_ptr<Handle> AcquireNow(Pool* pool, Mode mode) {
  Pool::Acquired a = pool->Acquire(
      mode, /*uid=*/0, [] { return Pool::Grant([](std::unique_ptr<Handle> h) { return h; }); },
      /*may_open=*/true);
  return a.kind == Pool::Acquired::kGranted ? std::move(a.handle) : nullptr;
}

// A handle over a private in-memory database, for the leases: the reaper
// never touches a live lease's handle unless the lease is due, so these
// stand in for 10,000 file handles without 10,000 descriptors and page
// caches. Lookaside is turned off to keep each one small.
std::unique_ptr<Handle> MemoryHandle(uint64_t id, TimePoint now,
                                     const std::shared_ptr<const SandboxPolicy>& sandbox) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(":memory:", &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    sqlite3_close_v2(db);
    return nullptr;
  }
  sqlite3_db_config(db, SQLITE_DBCONFIG_LOOKASIDE, nullptr, 0, 0);
  auto h = std::make_unique<Handle>(db, Mode::kRead, id, sandbox, now, now + Millis(1800000));
  h->set_leased_at(now);
  return h;
}

// A daemon's worth of state for the reaper to look at: kPools pools of
// kIdlePerPool idle read handles each, and kLeases live leases spread over
// the pools and over kLeases / kLeasesPerClient clients. The clock never
// moves, so nothing is ever due. Built once, on first use.
struct ReaperWorld {
  ScratchDir dir;
  ManualTimeSource clock;
  NullPoolEvents events;
  PoolSet pools;
  std::vector<std::shared_ptr<Pool>> pool_list;
  LeaseTable leases{&clock};
  TaskRunner workers{1, "bench-worker"};
  std::unique_ptr<Reaper> reaper;
  std::string error;

  ReaperWorld() {
    RaiseFileLimit();
    if (dir.path().empty()) {
      error = "mkdtemp failed";
      return;
    }
    config::PoolLimits limits;
    limits.max_writers = 1;
    limits.max_readers = kIdlePerPool;
    limits.min_idle = 0;
    for (int p = 0; p < kPools; ++p) {
      auto pool = std::make_shared<Pool>(MakeDatabase(dir.path(), "db" + std::to_string(p), limits),
                                         &clock, &events);
      Status st = pool->Start();
      if (!st.ok()) {
        error = st.message();
        return;
      }
      std::vector<std::unique_ptr<Handle>> out;
      for (int i = 0; i < kIdlePerPool; ++i) {
        out.push_back(AcquireNow(pool.get(), Mode::kRead));
        if (!out.back()) {
          error = "cannot open read handle " + std::to_string(i) + " of pool " + pool->name();
          return;
        }
      }
      for (auto& h : out) pool->Return(std::move(h));
      pools.Add(pool);
      pool_list.push_back(pool);
    }
    auto sandbox = std::make_shared<const SandboxPolicy>();
    TimePoint now = clock.Now();
    for (int i = 0; i < kLeases; ++i) {
      ClientId client = static_cast<ClientId>(i / kLeasesPerClient + 1);
      if (i % kLeasesPerClient == 0) leases.AddClient(client, LeaseHolder{1000 + i, 1000});
      auto h = MemoryHandle(static_cast<uint64_t>(1000000 + i), now, sandbox);
      if (!h) {
        error = "cannot open in-memory handle " + std::to_string(i);
        return;
      }
      PooledHandle leased(pool_list[i % kPools], std::move(h));
      LeaseTerms terms;
      terms.mode = Mode::kRead;
      terms.deadline = now + Millis(30000);
      terms.leak_warn_at = now + Millis(10000);
      terms.tag = "bench";
      LeaseId id;
      if (!leases.Insert(client, &leased, std::move(terms), &id)) {
        (void)std::move(leased).Detach();
        error = "lease insert refused";
        return;
      }
    }
    reaper = std::make_unique<Reaper>(&pools, &leases, &workers, &clock, Millis(1000), nullptr);
  }
  ~ReaperWorld() {
    // The in-memory handles never came from the pools: closed here, not
    // given back to them.
    for (PooledHandle& h : leases.TakeAll()) (void)std::move(h).Detach();
  }
};

// Destroyed at exit: handles closed, then the scratch directory removed.
ReaperWorld& World() {
  static ReaperWorld world;
  return world;
}

// One periodic reaper pass with nothing due (the pools' checks and the lease
// sweep): the cost the reaper thread pays every reaper_interval_ms on a
// busy, healthy daemon.
void BM_ReaperPass(benchmark::State& state) {
  ReaperWorld& w = World();
  if (!w.error.empty()) {
    state.SkipWithError(w.error.c_str());
    return;
  }
  TimePoint now = w.clock.Now();
  for (auto _ : state) {
    int actions = w.reaper->RunOnce(now);
    if (actions != 0) {
      state.SkipWithError("the pass found work: the benchmark must measure an idle pass");
      break;
    }
  }
  state.counters["leases"] = static_cast<double>(w.leases.size());
  int idle = 0;
  for (const auto& pool : w.pool_list) {
    PoolSnapshot snap = pool->Snapshot();
    idle += snap.sides[0].idle + snap.sides[1].idle;
  }
  state.counters["idle_handles"] = idle;
  state.SetItemsProcessed(state.iterations() * (w.leases.size() + idle));
}
BENCHMARK(BM_ReaperPass)
    ->Unit(benchmark::kMicrosecond)
    ->Repetitions(10)
    ->ReportAggregatesOnly(true);

// The lease sweep alone, nothing due: what a wake for a lease deadline costs
// beyond the revocations it makes. It looks at the index's earliest entries
// only, however many leases there are.
void BM_LeaseSweep(benchmark::State& state) {
  ReaperWorld& w = World();
  if (!w.error.empty()) {
    state.SkipWithError(w.error.c_str());
    return;
  }
  TimePoint now = w.clock.Now();
  for (auto _ : state) {
    SweepResult sweep;
    w.leases.Sweep(now, &sweep);
    if (sweep.visited != 0) {
      state.SkipWithError("the sweep found work: the benchmark must measure an idle sweep");
      break;
    }
    benchmark::DoNotOptimize(sweep.next_due);
  }
  state.counters["leases"] = static_cast<double>(w.leases.size());
}
BENCHMARK(BM_LeaseSweep)
    ->Unit(benchmark::kMicrosecond)
    ->Repetitions(10)
    ->ReportAggregatesOnly(true);

// A pool of its own for the acquire/return path, so the reaper world's
// thousand handles are not opened for it.
struct PoolWorld {
  ScratchDir dir;
  ManualTimeSource clock;
  NullPoolEvents events;
  std::unique_ptr<Pool> pool;
  std::string error;

  PoolWorld() {
    config::PoolLimits limits;
    limits.max_writers = 1;
    limits.max_readers = 4;
    pool = std::make_unique<Pool>(MakeDatabase(dir.path(), "acquire", limits), &clock, &events);
    Status st = pool->Start();
    if (!st.ok()) error = st.message();
  }
};

PoolWorld& Pools() {
  static PoolWorld world;
  return world;
}

// Acquire of an idle handle and its return (rollback check, cache-size
// read, hand-back to the idle list): the pool's share of every lease.
void BM_PoolAcquireReturn(benchmark::State& state) {
  PoolWorld& w = Pools();
  if (!w.error.empty()) {
    state.SkipWithError(w.error.c_str());
    return;
  }
  Mode mode = state.range(0) == 0 ? Mode::kWrite : Mode::kRead;
  for (auto _ : state) {
    auto h = AcquireNow(w.pool.get(), mode);
    if (!h) {
      state.SkipWithError("acquire was not granted at once");
      break;
    }
    w.pool->Return(std::move(h));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(ModeName(mode));
}
// Arg 0: write side (max 1); arg 1: read side (max 4). Two threads on the
// read side contend for the pool's lock but never queue.
BENCHMARK(BM_PoolAcquireReturn)->Arg(0)->Arg(1)->Repetitions(10)->ReportAggregatesOnly(true);
BENCHMARK(BM_PoolAcquireReturn)->Arg(1)->Threads(2)->Repetitions(10)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace litepool
