// Micro-benchmarks of the request path without sockets: decoding a request
// line, encoding a reply, and a whole point select or lease through the
// Dispatcher on a real pool (what a worker does per request, minus Asio and
// the thread hand-offs). Results: bench/RESULTS.md.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/lock_count.h"
#include "config/config.h"
#include "metrics/metrics.h"
#include "pool/clock.h"
#include "pool/handle_factory.h"
#include "pool/lease_table.h"
#include "pool/pool.h"
#include "pool/pool_events.h"
#include "pool/pool_set.h"
#include "pool/task_runner.h"
#include "server/dispatcher.h"
#include "server/in_process_connection.h"
#include "server/reply.h"
#include "server/request.h"

namespace litepool {
namespace {

using server::DecodeRequest;
using server::ReplyWriter;
using server::Request;

// The request lines the load generator sends (bench/load_scenarios.cc).
const char kPointSelect[] =
    R"({"op":"query","db":"main","mode":"read","sql":"SELECT v FROM kv WHERE k=?","params":[12345]})";
const char kLeaseQuery[] =
    R"({"op":"query","lease":"3fa1c2d4e5f60718","sql":"SELECT v FROM kv WHERE k=?","params":[12345]})";
const char kAcquire[] = R"({"op":"acquire","db":"main","mode":"read"})";
const char kRelease[] = R"({"op":"release","lease":"3fa1c2d4e5f60718"})";
const char kWithId[] =
    R"({"id":7,"op":"query","db":"main","sql":"SELECT a, b, c FROM t WHERE x = ? AND y = ?","params":[1, "two", 3.5]})";

void BM_DecodeRequest(benchmark::State& state, const char* line) {
  std::string_view text(line);
  for (auto _ : state) {
    Request req;
    Status st = DecodeRequest(text, &req);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(req);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK_CAPTURE(BM_DecodeRequest, point_select, kPointSelect);
BENCHMARK_CAPTURE(BM_DecodeRequest, lease_query, kLeaseQuery);
BENCHMARK_CAPTURE(BM_DecodeRequest, acquire, kAcquire);
BENCHMARK_CAPTURE(BM_DecodeRequest, release, kRelease);
BENCHMARK_CAPTURE(BM_DecodeRequest, id_and_3_params, kWithId);

// Rows as the dispatcher's ResultWriter writes them: columns, rows of
// cells, changes, last_insert_rowid.
void EncodeRows(std::string* out, int rows) {
  static const std::string_view kNames[] = {"id", "name", "score"};
  static const std::string_view kText[] = {"alice@example.com", "bob@example.org",
                                           "carol \"c\" <x>"};
  ReplyWriter w(out, "");
  w.Key("columns").BeginArray();
  for (auto n : kNames) w.String(n);
  w.EndArray().Key("rows").BeginArray();
  for (int r = 0; r < rows; ++r) {
    ValueView cells[3];
    cells[0].type = ValueType::kInteger;
    cells[0].integer = 1000 + r;
    cells[1].type = ValueType::kText;
    cells[1].bytes = kText[r % 3];
    cells[2].type = ValueType::kReal;
    cells[2].real = 0.1 * r + 3.25;
    w.BeginArray();
    for (const auto& c : cells) w.Cell(c);
    w.EndArray();
  }
  w.EndArray();
  w.Key("changes").Int(0);
  w.Key("last_insert_rowid").Int(0);
  w.Finish();
}

// A new string per reply, as the dispatcher does today.
void BM_ReplyEncode10x3(benchmark::State& state) {
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out;
    EncodeRows(&out, 10);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["reply_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ReplyEncode10x3);

// The same into a reused buffer: what an allocation-free reply path costs.
void BM_ReplyEncode10x3Reused(benchmark::State& state) {
  std::string out;
  out.reserve(4096);
  for (auto _ : state) {
    out.clear();
    EncodeRows(&out, 10);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ReplyEncode10x3Reused);

// The point select's reply: one row of one TEXT cell.
void BM_ReplyEncodePointSelect(benchmark::State& state) {
  for (auto _ : state) {
    std::string out;
    ReplyWriter w(&out, "");
    w.Key("columns").BeginArray().String("v").EndArray();
    w.Key("rows").BeginArray().BeginArray();
    ValueView v;
    v.type = ValueType::kText;
    v.bytes = "value-0000012345";
    w.Cell(v);
    w.EndArray().EndArray();
    w.Key("changes").Int(0).Key("last_insert_rowid").Int(0);
    w.Finish();
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ReplyEncodePointSelect);

// A daemon's request path without sockets: one pool over a 100k-row table,
// a lease table, a dispatcher, the daemon's metrics. Requests are granted at
// once (idle handles), so a request runs on the calling thread as on a
// session thread.
struct DispatchWorld {
  std::string dir;
  metrics::Metrics metrics{{"main"}, [] { return std::vector<PoolSnapshot>{}; }};
  PoolSet pools;
  LeaseTable leases{RealTime()};
  TaskRunner workers{1, "bench-work"};
  std::atomic<int64_t> max_result_bytes{16 << 20};
  std::atomic<bool> draining{false};
  server::Services services;
  std::unique_ptr<server::Dispatcher> dispatcher;
  std::unique_ptr<server::RequestDriver> driver;
  std::unique_ptr<server::InProcessConnection> connection;
  server::ClientContext client;
  std::string error;

  DispatchWorld() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/litepool-hot-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) {
      error = "mkdtemp failed";
      return;
    }
    dir = buf.data();
    std::string path = dir + "/bench.db";
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=wal;"
                 "CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT NOT NULL);"
                 "CREATE TABLE w(id INTEGER PRIMARY KEY, v TEXT);"
                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)"
                 " INSERT INTO kv SELECT x, printf('value-%010d', x) FROM c;",
                 nullptr, nullptr, nullptr);
    sqlite3_close(db);
    config::Database cfg;
    cfg.name = "main";
    cfg.path = path;
    cfg.create_if_missing = true;
    cfg.pragmas = {{"journal_mode", "wal"}, {"synchronous", "normal"}};
    auto pool = std::make_shared<Pool>(cfg, RealTime(), metrics.AddDatabase("main"), &workers);
    Status st = pool->Start();
    if (!st.ok()) {
      error = st.message();
      return;
    }
    pools.Add(pool);
    services.pools = &pools;
    services.leases = &leases;
    services.workers = &workers;
    services.clock = RealTime();
    services.max_result_bytes = &max_result_bytes;
    services.admin_uids = {0};
    services.draining = &draining;
    services.clients_connected = [] { return 1; };
    services.counters = [](const std::string&, Mode) { return PoolCounters{}; };
    dispatcher = std::make_unique<server::Dispatcher>(&services);
    driver = std::make_unique<server::RequestDriver>(dispatcher.get(), &workers);
    client.id = 1;
    connection = std::make_unique<server::InProcessConnection>(driver.get(), client, Millis(1000));
  }
  ~DispatchWorld() {
    connection.reset();
    workers.Stop();
    std::error_code ignored;
    if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
  }

  // As a session runs a request: from this thread as far as it goes
  // without blocking, the rest on the worker.
  std::string Run(std::string_view line) { return connection->Run(line); }
};

DispatchWorld& World() {
  static DispatchWorld world;
  return world;
}

bool Ok(const std::string& reply) { return reply.find("\"ok\":true") != std::string::npos; }

// Mutex and rwlock acquisitions per iteration, by every thread of the
// process (bench/lock_count.h): what one request costs in locks.
class LockCounter {
 public:
  explicit LockCounter(benchmark::State& state) : state_(state), before_(bench::LocksTaken()) {}
  ~LockCounter() {
    if (state_.iterations() == 0) return;
    state_.counters["locks_per_op"] = static_cast<double>(bench::LocksTaken() - before_) /
                                      static_cast<double>(state_.iterations());
  }

 private:
  benchmark::State& state_;
  const uint64_t before_;
};

// One-shot point select: decode, acquire, lease, query, reply, release.
void BM_DispatchPointSelect(benchmark::State& state) {
  DispatchWorld& w = World();
  if (!w.error.empty()) return state.SkipWithError(w.error.c_str());
  uint64_t key = 1;
  std::string line;
  LockCounter locks(state);
  for (auto _ : state) {
    key = key * 6364136223846793005ull + 1442695040888963407ull;
    line =
        R"({"op":"query","db":"main","mode":"read","sql":"SELECT v FROM kv WHERE k=?","params":[)" +
        std::to_string(key % 100000 + 1) + "]}";
    std::string reply = w.Run(line);
    if (!Ok(reply)) return state.SkipWithError(reply.c_str());
  }
}
BENCHMARK(BM_DispatchPointSelect);

// acquire (read) + release.
void BM_DispatchAcquireRelease(benchmark::State& state) {
  DispatchWorld& w = World();
  if (!w.error.empty()) return state.SkipWithError(w.error.c_str());
  LockCounter locks(state);
  for (auto _ : state) {
    std::string reply = w.Run(kAcquire);
    size_t at = reply.find("\"lease\":\"");
    if (at == std::string::npos) return state.SkipWithError(reply.c_str());
    std::string release = R"({"op":"release","lease":")" + reply.substr(at + 9, 16) + "\"}";
    reply = w.Run(release);
    if (!Ok(reply)) return state.SkipWithError(reply.c_str());
  }
}
BENCHMARK(BM_DispatchAcquireRelease);

// A point select on a lease held across the loop: what each of lease10's
// ten queries costs, beside BM_DispatchPointSelect's one-shot.
void BM_DispatchLeaseQuery(benchmark::State& state) {
  DispatchWorld& w = World();
  if (!w.error.empty()) return state.SkipWithError(w.error.c_str());
  std::string reply = w.Run(kAcquire);
  size_t at = reply.find("\"lease\":\"");
  if (at == std::string::npos) return state.SkipWithError(reply.c_str());
  const std::string lease = reply.substr(at + 9, 16);
  const std::string prefix =
      R"({"op":"query","lease":")" + lease + R"(","sql":"SELECT v FROM kv WHERE k=?","params":[)";
  uint64_t key = 1;
  std::string line;
  {
    LockCounter locks(state);
    for (auto _ : state) {
      key = key * 6364136223846793005ull + 1442695040888963407ull;
      line = prefix + std::to_string(key % 100000 + 1) + "]}";
      reply = w.Run(line);
      if (!Ok(reply)) return state.SkipWithError(reply.c_str());
    }
  }
  w.Run(R"({"op":"release","lease":")" + lease + "\"}");
}
BENCHMARK(BM_DispatchLeaseQuery);

// Rows a benchmark reads and drops.
class NullSink : public RowSink {
 public:
  void Columns(const std::vector<std::string_view>&) override {}
  Status Row(const std::vector<ValueView>& cells) override {
    benchmark::DoNotOptimize(cells.data());
    return Status();
  }
};

// A one-shot autocommit insert: a write never runs on the I/O thread, so
// the request goes to a worker and its reply comes back (two thread
// hand-offs). Wall time, since the CPU is spent on two threads. Fixed
// iterations: nothing checkpoints here, so the WAL grows a page per insert.
void BM_DispatchInsert(benchmark::State& state) {
  DispatchWorld& w = World();
  if (!w.error.empty()) return state.SkipWithError(w.error.c_str());
  const std::string line =
      R"j({"op":"query","db":"main","mode":"write","sql":"INSERT INTO w(v) VALUES (?)",)j"
      R"j("params":["value-0000000001"]})j";
  LockCounter locks(state);
  for (auto _ : state) {
    std::string reply = w.Run(line);
    if (!Ok(reply)) return state.SkipWithError(reply.c_str());
  }
}
BENCHMARK(BM_DispatchInsert)->UseRealTime()->Iterations(5000);

// The same insert on a write handle of the pool's own HandleFactory, on the
// calling thread: BM_DispatchInsert less the hand-offs and the request path.
void BM_HandleInsert(benchmark::State& state) {
  DispatchWorld& w = World();
  if (!w.error.empty()) return state.SkipWithError(w.error.c_str());
  std::string path = w.dir + "/insert.db";
  config::Database cfg;
  cfg.name = "i";
  cfg.path = path;
  cfg.create_if_missing = true;
  cfg.pragmas = {{"journal_mode", "wal"}, {"synchronous", "normal"}};
  {
    std::unique_ptr<Handle> writer;
    HandleFactory factory(cfg, RealTime());
    Status st = factory.Prepare();
    if (st.ok()) st = factory.Open(Mode::kWrite, &writer);
    StatementOutcome outcome;
    if (st.ok())
      st = writer->Exec("CREATE TABLE w(id INTEGER PRIMARY KEY, v TEXT)", Millis(0), &outcome);
    if (!st.ok()) return state.SkipWithError(st.message().c_str());
    NullSink sink;
    Params params;
    params.positional.push_back(Value(std::string("value-0000000001")));
    for (auto _ : state) {
      st = writer->Query("INSERT INTO w(v) VALUES (?)", params, Millis(0), &sink, &outcome);
      if (!st.ok()) return state.SkipWithError(st.message().c_str());
    }
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}
BENCHMARK(BM_HandleInsert)->UseRealTime()->Iterations(5000);

// The SQLite share of a point select on a handle like the pool's.
void BM_SqlitePointSelect(benchmark::State& state) {
  DispatchWorld& w = World();
  if (!w.error.empty()) return state.SkipWithError(w.error.c_str());
  sqlite3* db = nullptr;
  sqlite3_open_v2((w.dir + "/bench.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v3(db, "SELECT v FROM kv WHERE k=?", -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                     nullptr);
  uint64_t key = 1;
  for (auto _ : state) {
    key = key * 6364136223846793005ull + 1442695040888963407ull;
    sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(key % 100000 + 1));
    if (sqlite3_step(stmt) == SQLITE_ROW) benchmark::DoNotOptimize(sqlite3_column_text(stmt, 0));
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}
BENCHMARK(BM_SqlitePointSelect);

// A point select on a read handle opened by the pool's own HandleFactory,
// with a write handle open beside it, for each file_lock and mmap_size
// (docs/configuration.md, "file_lock"; bench/RESULTS.md, "Owning the file").
// Arguments: 0 shared / 1 exclusive, then mmap_size in MiB. Each
// combination gets its own file: one process never mixes VFSes on a file.
void BM_HandlePointSelect(benchmark::State& state) {
  DispatchWorld& w = World();
  if (!w.error.empty()) return state.SkipWithError(w.error.c_str());
  bool exclusive = state.range(0) != 0;
  int64_t mmap_mib = state.range(1);
  std::string path =
      w.dir + "/handle-" + std::to_string(state.range(0)) + "-" + std::to_string(mmap_mib) + ".db";
  std::filesystem::copy_file(w.dir + "/bench.db", path,
                             std::filesystem::copy_options::overwrite_existing);
  config::Database cfg;
  cfg.name = "h";
  cfg.path = path;
  cfg.file_lock = exclusive ? config::FileLock::kExclusive : config::FileLock::kShared;
  cfg.mmap_size = mmap_mib << 20;
  cfg.pragmas = {{"journal_mode", "wal"}, {"synchronous", "normal"}};
  std::unique_ptr<Handle> writer, reader;
  {
    HandleFactory factory(cfg, RealTime());
    Status st = factory.Prepare();
    if (st.ok()) st = factory.Open(Mode::kWrite, &writer);
    if (st.ok()) st = factory.Open(Mode::kRead, &reader);
    if (!st.ok()) return state.SkipWithError(st.message().c_str());
    NullSink sink;
    StatementOutcome outcome;
    Params params;
    params.positional.resize(1);
    uint64_t key = 1;
    for (auto _ : state) {
      key = key * 6364136223846793005ull + 1442695040888963407ull;
      params.positional[0] = Value(static_cast<int64_t>(key % 100000 + 1));
      st = reader->Query("SELECT v FROM kv WHERE k=?", params, Millis(0), &sink, &outcome);
      if (!st.ok()) return state.SkipWithError(st.message().c_str());
    }
    reader.reset();
    writer.reset();
  }
  std::filesystem::remove(path);
}
BENCHMARK(BM_HandlePointSelect)
    ->ArgNames({"exclusive", "mmap_mib"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({1, 64})
    ->Args({1, 256})
    ->Args({0, 256});

}  // namespace
}  // namespace litepool
