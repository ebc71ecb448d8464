// litepool_load: litepoold measured beside its limits in one run. Starts an
// echo server (the physical limit of a socket daemon here), litepoold as
// built and, with --baseline, another litepoold binary (the previous main,
// say) to compare with, runs every scenario against each, back to back, and prints medians and
// ratios; then the in-process SQLite floor, idle memory and the lease soak. Usage: litepool_load
// --help. Results: bench/RESULTS.md.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_driver.h"
#include "bench/load_memory.h"
#include "bench/load_process.h"
#include "bench/load_report.h"
#include "bench/load_sqlite.h"
#include "wire/unix_socket.h"

namespace litepool::bench {
namespace {

using json = nlohmann::ordered_json;

const char kUsage[] =
    "usage: litepool_load [options]\n"
    "  --daemon PATH        litepoold to start (default: ../server/litepoold beside this binary)\n"
    "  --socket PATH        use a running litepoold instead: its database 'main' gets the\n"
    "                       tables kv and w (created if missing); no baseline target, floor or\n"
    "                       memory tests then\n"
    "  --daemon-pid PID     with --socket: the running litepoold's pid, for its CPU figures\n"
    "  --echo PATH          echo_server to start (default: beside this binary)\n"
    "  --daemon-prefix CMD  run litepoold under CMD (split at spaces), e.g.\n"
    "                       \"valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out\"\n"
    "  --scenarios LIST     point_select,lease10,acquire_release,insert,mixed (default: all);\n"
    "                       also point_select_auto, insert_auto (one-shots in mode auto)\n"
    "  --clients LIST       connection counts (default 1,8,64)\n"
    "  --targets LIST       echo,litepoold,baseline,litepoold_lib (default echo,litepoold, and\n"
    "                       baseline when --baseline is given)\n"
    "  --baseline PATH      another litepoold to measure beside this one in the same run (the\n"
    "                       previous main's build, say): target 'baseline'\n"
    "  --seconds S          measured seconds per run (default 5)\n"
    "  --warmup S           unmeasured seconds before each run (default 0.5)\n"
    "  --repeat N           repeats of the whole matrix; medians are reported (default 3)\n"
    "  --threads N          client threads (epoll loops) per run (default 1)\n"
    "  --rows N             rows of the kv table (default 100000)\n"
    "  --max-readers N      the daemon's max_readers (default 4)\n"
    "  --floor-seconds S    in-process SQLite floor per thread count; 0 skips (default 2)\n"
    "  --idle-conns N       idle connections for the memory test; 0 skips (default 10000)\n"
    "  --soak-cycles N      acquire/query/release cycles of the soak; 0 skips (default 1000000)\n"
    "  --soak-every N       sample the daemon every N soak cycles (default 100000)\n"
    "  --pgbench FILE       JSON {\"8\": tps, \"64\": tps} from bench/pgbouncer.sh, for ratios\n"
    "  --json FILE          write every figure as JSON\n"
    "  --check              exit 1 unless every run completed with nonzero throughput and\n"
    "                       no errors (the CTest smoke run)\n";

struct Args {
  std::string daemon;
  std::string socket;
  int daemon_pid = -1;  // of the litepoold behind `socket`
  std::string echo;
  std::vector<std::string> daemon_prefix;
  std::vector<std::string> scenarios = {"point_select", "lease10", "acquire_release", "insert",
                                        "mixed"};
  std::vector<int> clients = {1, 8, 64};
  std::vector<std::string> targets = {"echo", "litepoold"};
  bool targets_given = false;
  std::string baseline;
  double seconds = 5;
  double warmup = 0.5;
  int repeat = 3;
  int threads = 1;
  int64_t rows = 100000;
  int max_readers = 4;
  double floor_seconds = 2;
  int idle_conns = 10000;
  uint64_t soak_cycles = 1000000;
  uint64_t soak_every = 100000;
  std::string pgbench;
  std::string json_path;
  bool check = false;
};

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool ParseArgs(int argc, char** argv, Args* a, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (flag == "--check") {
      a->check = true;
      continue;
    }
    if (i + 1 >= argc) {
      *error = flag + " needs a value";
      return false;
    }
    std::string v = argv[++i];
    if (flag == "--daemon")
      a->daemon = v;
    else if (flag == "--socket")
      a->socket = v;
    else if (flag == "--daemon-pid")
      a->daemon_pid = std::atoi(v.c_str());
    else if (flag == "--echo")
      a->echo = v;
    else if (flag == "--daemon-prefix") {
      std::stringstream words(v);
      std::string w;
      while (words >> w) a->daemon_prefix.push_back(w);
    } else if (flag == "--scenarios")
      a->scenarios = SplitList(v);
    else if (flag == "--targets") {
      a->targets = SplitList(v);
      a->targets_given = true;
    } else if (flag == "--baseline")
      a->baseline = v;
    else if (flag == "--clients") {
      a->clients.clear();
      for (const auto& c : SplitList(v)) a->clients.push_back(std::atoi(c.c_str()));
    } else if (flag == "--seconds")
      a->seconds = std::atof(v.c_str());
    else if (flag == "--warmup")
      a->warmup = std::atof(v.c_str());
    else if (flag == "--repeat")
      a->repeat = std::max(1, std::atoi(v.c_str()));
    else if (flag == "--threads")
      a->threads = std::max(1, std::atoi(v.c_str()));
    else if (flag == "--rows")
      a->rows = std::max<int64_t>(1, std::atoll(v.c_str()));
    else if (flag == "--max-readers")
      a->max_readers = std::max(1, std::atoi(v.c_str()));
    else if (flag == "--floor-seconds")
      a->floor_seconds = std::atof(v.c_str());
    else if (flag == "--idle-conns")
      a->idle_conns = std::atoi(v.c_str());
    else if (flag == "--soak-cycles")
      a->soak_cycles = std::strtoull(v.c_str(), nullptr, 10);
    else if (flag == "--soak-every")
      a->soak_every = std::max<uint64_t>(1, std::strtoull(v.c_str(), nullptr, 10));
    else if (flag == "--pgbench")
      a->pgbench = v;
    else if (flag == "--json")
      a->json_path = v;
    else {
      *error = "unknown flag " + flag;
      return false;
    }
  }
  for (const auto& s : a->scenarios) {
    if (!ParseScenario(s)) {
      *error = "unknown scenario " + s;
      return false;
    }
  }
  for (const auto& t : a->targets) {
    if (t != "echo" && t != "litepoold" && t != "baseline" && t != "litepoold_lib") {
      *error = "unknown target " + t;
      return false;
    }
  }
  if (!a->baseline.empty() && !a->targets_given) a->targets.push_back("baseline");
  if (a->baseline.empty() || !a->socket.empty()) {
    a->targets.erase(std::remove(a->targets.begin(), a->targets.end(), "baseline"),
                     a->targets.end());
  }
  return true;
}

std::string Beside(const char* argv0, const std::string& relative) {
  std::filesystem::path self = std::filesystem::weakly_canonical(std::filesystem::path(argv0));
  return (self.parent_path() / relative).lexically_normal().string();
}

// One litepoold in its own directory with its own copy of the bench database.
class DaemonUnderTest {
 public:
  bool Start(const Args& a, const std::string& dir, const std::string& daemon, std::string* error) {
    dir_ = dir;
    std::filesystem::create_directories(dir);
    socket_ = dir + "/litepool.sock";
    if (!CreateBenchDatabase(dir + "/bench.db", a.rows, error)) return false;
    json config = {
        {"socket", socket_},
        {"metrics", {{"listen", ""}}},
        {"max_clients", 20000},
        {"log", {{"level", "warn"}}},
        {"defaults", {{"max_readers", a.max_readers}, {"max_waiters", 1000000}}},
        {"databases",
         {{"main",
           {{"path", dir + "/bench.db"},
            {"pragmas", {{"journal_mode", "wal"}, {"synchronous", "normal"}}}}}}},
    };
    std::ofstream(dir + "/litepool.json") << config.dump(2) << "\n";
    std::vector<std::string> env;
    std::vector<std::string> argv = a.daemon_prefix;
    argv.insert(argv.end(), {daemon, "--config", dir + "/litepool.json"});
    if (!proc_.Start(argv, env, dir + "/daemon.log", error)) {
      return false;
    }
    if (!WaitForSocket(socket_, a.daemon_prefix.empty() ? 15 : 120)) {
      *error = "litepoold did not listen on " + socket_ + " (log: " + dir + "/daemon.log)";
      return false;
    }
    return true;
  }
  void Stop() { proc_.Stop(); }
  const std::string& socket() const { return socket_; }
  pid_t pid() const { return proc_.pid(); }

 private:
  std::string dir_;
  std::string socket_;
  ChildProcess proc_;
};

// Sends one request of each kind and keeps the reply sizes, so that the
// echo server answers with lines of the same sizes.
ReplySizes ProbeReplySizes(const std::string& socket, std::string* error) {
  ReplySizes sizes;
  int fd = wire::ConnectUnixSocket(socket, error);
  if (fd < 0) {
    *error = "probe: " + *error;
    return sizes;
  }
  std::string lease = "0000000000000000";
  std::string pending;
  auto call = [&](Step step, int64_t key) -> std::string {
    std::string req;
    FormatRequest(step, key, lease, &req);
    if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return "";
    while (pending.find('\n') == std::string::npos) {
      char buf[4096];
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) return "";
      pending.append(buf, static_cast<size_t>(n));
    }
    size_t nl = pending.find('\n');
    std::string line = pending.substr(0, nl + 1);
    pending.erase(0, nl + 1);
    return line;
  };
  auto keep = [&](Step step, const std::string& reply) {
    if (reply.find("\"ok\":true") == std::string::npos) {
      if (error->empty()) *error = "probe reply: " + reply;
      return;
    }
    sizes[step] = reply.size();
  };
  keep(Step::kPointSelect, call(Step::kPointSelect, 12345));
  std::string acquired = call(Step::kAcquire, 0);
  keep(Step::kAcquire, acquired);
  size_t at = acquired.find("\"lease\":\"");
  if (at != std::string::npos) lease = acquired.substr(at + 9, 16);
  keep(Step::kLeaseQuery, call(Step::kLeaseQuery, 54321));
  keep(Step::kRelease, call(Step::kRelease, 0));
  keep(Step::kInsert, call(Step::kInsert, 1));
  keep(Step::kPointSelectAuto, call(Step::kPointSelectAuto, 12345));
  keep(Step::kInsertAuto, call(Step::kInsertAuto, 2));
  ::close(fd);
  return sizes;
}

// Creates the bench tables in database 'main' of a running daemon (one
// `exec` on a one-shot write lease); keeps rows that are there already.
bool SetupThroughSocket(const std::string& socket, int64_t rows, std::string* error) {
  int fd = wire::ConnectUnixSocket(socket, error);
  if (fd < 0) {
    return false;
  }
  std::string sql =
      "CREATE TABLE IF NOT EXISTS kv(k INTEGER PRIMARY KEY, v TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS w(id INTEGER PRIMARY KEY, v TEXT);"
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " +
      std::to_string(rows) +
      ") INSERT OR IGNORE INTO kv SELECT x, printf('value-%010d', x) FROM c;";
  std::string req = json{{"op", "exec"}, {"db", "main"}, {"sql", sql}}.dump() + "\n";
  std::string reply;
  bool ok = ::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size());
  while (ok && reply.find('\n') == std::string::npos) {
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (reply.find("\"ok\":true") == std::string::npos) {
    *error = "setup through " + socket + ": " + (reply.empty() ? "no reply" : reply);
    return false;
  }
  return true;
}

std::map<int, double> ReadPgbench(const std::string& path) {
  std::map<int, double> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  json j = json::parse(in, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_number()) out[std::atoi(k.c_str())] = v.get<double>();
  }
  return out;
}

json SampleJson(const ProcSample& s) {
  return {{"rss_kib", s.rss_kib}, {"fds", s.fds}, {"max_fds", s.max_fds}};
}

std::string Now() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

int Main(int argc, char** argv) {
  Args a;
  std::string error;
  if (!ParseArgs(argc, argv, &a, &error)) {
    std::cerr << "litepool_load: " << error << "\n" << kUsage;
    return 2;
  }
  if (a.daemon.empty()) a.daemon = Beside(argv[0], "../server/litepoold");
  if (a.echo.empty()) a.echo = Beside(argv[0], "echo_server");
  long fd_limit = RaiseFdLimit();  // before any child starts: they inherit it
  bool failed = false;
  auto fail = [&](const std::string& what) {
    std::cerr << "litepool_load: " << what << "\n";
    failed = true;
  };

  ScratchDir scratch;
  if (!scratch.ok()) {
    std::cerr << "litepool_load: cannot create a scratch directory\n";
    return 1;
  }
  json out;
  utsname uts{};
  ::uname(&uts);
  out["machine"] = {{"nproc", std::thread::hardware_concurrency()},
                    {"cpu", CpuModel()},
                    {"kernel", std::string(uts.release)},
                    {"date", Now()},
                    {"client_fd_limit", fd_limit}};
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  out["command"] = command;

  // The targets.
  ChildProcess echo;
  std::string echo_socket = scratch.path() + "/echo.sock";
  if (Contains(a.targets, "echo")) {
    if (!echo.Start({a.echo, "--socket", echo_socket}, {}, scratch.path() + "/echo.log", &error) ||
        !WaitForSocket(echo_socket, 10)) {
      std::cerr << "litepool_load: echo server: " << error << "\n";
      return 1;
    }
  }
  DaemonUnderTest shipped, baseline_daemon;
  std::string shipped_socket = a.socket;
  pid_t shipped_pid = a.socket.empty() ? -1 : a.daemon_pid;
  bool need_shipped = Contains(a.targets, "litepoold") || Contains(a.targets, "litepoold_lib") ||
                      (Contains(a.targets, "echo") && !Contains(a.targets, "baseline"));
  if (a.socket.empty() && need_shipped) {
    if (!shipped.Start(a, scratch.path() + "/litepoold", a.daemon, &error)) {
      std::cerr << "litepool_load: " << error << "\n";
      return 1;
    }
    shipped_socket = shipped.socket();
    shipped_pid = shipped.pid();
  }
  if (Contains(a.targets, "baseline") &&
      !baseline_daemon.Start(a, scratch.path() + "/baseline", a.baseline, &error)) {
    std::cerr << "litepool_load: " << error << "\n";
    return 1;
  }
  if (!a.socket.empty() && !SetupThroughSocket(a.socket, a.rows, &error)) {
    std::cerr << "litepool_load: " << error << "\n";
    return 1;
  }
  error.clear();
  ReplySizes sizes =
      ProbeReplySizes(shipped_socket.empty() ? baseline_daemon.socket() : shipped_socket, &error);
  if (!error.empty()) fail(error);
  out["reply_bytes"] = {{"point_select", sizes[Step::kPointSelect]},
                        {"insert", sizes[Step::kInsert]},
                        {"acquire", sizes[Step::kAcquire]},
                        {"lease_query", sizes[Step::kLeaseQuery]},
                        {"release", sizes[Step::kRelease]}};

  // The matrix: every cell's targets back to back, repeated.
  Report report;
  if (a.socket.empty()) report.set_max_readers(a.max_readers);  // a running daemon's is unknown
  for (int rep = 0; rep < a.repeat; ++rep) {
    for (const auto& s : a.scenarios) {
      for (int c : a.clients) {
        for (const auto& t : a.targets) {
          LoadOptions o;
          o.scenario = *ParseScenario(s);
          o.connections = c;
          o.threads = a.threads;
          o.seconds = a.seconds;
          o.warmup_seconds = a.warmup;
          o.rows = a.rows;
          o.sizes = sizes;
          o.seed = static_cast<uint64_t>(rep * 7919 + c);
          if (t == "echo") {
            o.socket = echo_socket;
            o.echo = true;
            o.server_pid = echo.pid();
          } else if (t == "baseline") {
            o.socket = baseline_daemon.socket();
            o.server_pid = baseline_daemon.pid();
          } else {
            o.socket = shipped_socket;
            o.server_pid = shipped_pid;
            if (t == "litepoold_lib") o.driver = "lib";
          }
          LoadResult r = RunLoad(o);
          RunRecord rec = MakeRecord(s, c, t, rep, r);
          report.Add(rec);
          std::fprintf(stderr,
                       "[%d/%d] %-16s %3d %-12s %9.0f rt/s  p50 %7.1f us  p99 %8.1f us  "
                       "srv %5.1f us/rt  cli %5.1f us/rt%s%s\n",
                       rep + 1, a.repeat, s.c_str(), c, t.c_str(), rec.rt_per_s, rec.p50_us,
                       rec.p99_us, rec.server_cpu_us_per_rt, rec.client_cpu_us_per_rt,
                       rec.errors ? "  ERRORS: " : "", rec.errors ? rec.first_error.c_str() : "");
          if (a.check && (rec.errors > 0 || rec.rt_per_s <= 0)) {
            fail(s + " " + std::to_string(c) + " " + t + ": " +
                 (rec.errors ? rec.first_error : "no throughput"));
          }
        }
      }
    }
  }
  std::map<int, double> pg = ReadPgbench(a.pgbench);
  std::cout << "\n== Medians over " << a.repeat << " repeat(s), " << a.seconds
            << " s each (rt = round trip; srv_us/cli_us = CPU per round trip) ==\n";
  report.PrintTable(std::cout, a.scenarios, a.clients, a.targets);
  std::cout << "\n== Ratios (median of per-repeat ratios, measured back to back) ==\n";
  report.PrintRatios(std::cout, a.scenarios, a.clients, a.targets, pg);
  if (!pg.empty()) {
    std::cout << "pgbench -S through PgBouncer (from " << a.pgbench << "):";
    for (const auto& [c, tps] : pg)
      std::cout << "  c=" << c << " " << static_cast<long>(tps) << " tps";
    std::cout << "\n";
  }
  json runs = json::array();
  for (const auto& r : report.runs()) runs.push_back(ToJson(r));
  out["runs"] = runs;
  out["medians"] = report.MediansJson(a.scenarios, a.clients, a.targets);
  out["ratios"] = report.RatiosJson(a.scenarios, a.clients, a.targets, pg);
  if (!pg.empty()) {
    json p;
    for (const auto& [c, tps] : pg) p[std::to_string(c)] = tps;
    out["pgbench_tps"] = p;
  }
  echo.Stop();
  baseline_daemon.Stop();

  // The floor: the same point select in this process.
  if (a.floor_seconds > 0 && a.socket.empty()) {
    std::string db = scratch.path() + "/floor.db";
    if (!CreateBenchDatabase(db, a.rows, &error)) {
      fail("floor: " + error);
    } else {
      std::cout << "\n== In-process SQLite floor (prepared SELECT v FROM kv WHERE k=?) ==\n";
      json floor = json::array();
      for (int threads : {1, 2}) {
        FloorResult f = RunSqliteFloor(db, a.rows, threads, a.floor_seconds);
        if (!f.error.empty()) fail("floor: " + f.error);
        double qps = f.queries / f.seconds;
        std::printf("threads %d: %10.0f queries/s  p50 %.2f us  p99 %.2f us\n", threads, qps,
                    f.query_ns.QuantileNs(0.5) / 1e3, f.query_ns.QuantileNs(0.99) / 1e3);
        floor.push_back({{"threads", threads},
                         {"queries_per_s", qps},
                         {"p50_us", f.query_ns.QuantileNs(0.5) / 1e3},
                         {"p99_us", f.query_ns.QuantileNs(0.99) / 1e3}});
      }
      out["sqlite_floor"] = floor;
    }
  }
  shipped.Stop();

  // Memory and scale, each on a fresh daemon.
  if (a.idle_conns > 0 && a.socket.empty()) {
    DaemonUnderTest fresh;
    if (!fresh.Start(a, scratch.path() + "/idle", a.daemon, &error)) {
      fail(error);
    } else {
      IdleResult r = MeasureIdleConnections(fresh.socket(), fresh.pid(), a.idle_conns);
      double per_conn_kib =
          r.connected > 0
              ? static_cast<double>(r.after_ping.rss_kib - r.before.rss_kib) / r.connected
              : 0;
      double per_conn_connect_kib =
          r.connected > 0
              ? static_cast<double>(r.connected_sample.rss_kib - r.before.rss_kib) / r.connected
              : 0;
      std::cout << "\n== Idle connections ==\n";
      std::printf("daemon idle: RSS %ld KiB, %d fds (fd limit %ld)\n", r.before.rss_kib,
                  r.before.fds, r.before.max_fds);
      std::printf("%d of %d connected: RSS %ld KiB, %d fds -> %.1f KiB per connection\n",
                  r.connected, r.requested, r.connected_sample.rss_kib, r.connected_sample.fds,
                  per_conn_connect_kib);
      std::printf("after one ping each: RSS %ld KiB, %d fds -> %.1f KiB per idle connection\n",
                  r.after_ping.rss_kib, r.after_ping.fds, per_conn_kib);
      std::printf("all closed: RSS %ld KiB, %d fds\n", r.after_close.rss_kib, r.after_close.fds);
      if (!r.error.empty()) std::printf("note: %s\n", r.error.c_str());
      if (a.check && (r.connected < r.requested || !r.error.empty())) fail("idle: " + r.error);
      out["idle"] = {{"requested", r.requested},
                     {"connected", r.connected},
                     {"client_fd_limit", r.client_fd_limit},
                     {"before", SampleJson(r.before)},
                     {"connected_sample", SampleJson(r.connected_sample)},
                     {"after_ping", SampleJson(r.after_ping)},
                     {"after_close", SampleJson(r.after_close)},
                     {"kib_per_connection_connected", per_conn_connect_kib},
                     {"kib_per_connection_after_ping", per_conn_kib},
                     {"error", r.error}};
      fresh.Stop();
    }
  }
  if (a.soak_cycles > 0 && a.socket.empty()) {
    DaemonUnderTest fresh;
    if (!fresh.Start(a, scratch.path() + "/soak", a.daemon, &error)) {
      fail(error);
    } else {
      std::cout << "\n== Soak: " << a.soak_cycles
                << " acquire/query/release cycles over 8 connections ==\n";
      std::cout << "    cycles  seconds   RSS_KiB  fds\n";
      SoakResult r = RunSoak(fresh.socket(), fresh.pid(), a.rows, a.soak_cycles, a.soak_every, 8,
                             [](const SoakSample& s) {
                               std::printf("%10llu %8.1f %9ld %4d\n",
                                           static_cast<unsigned long long>(s.cycles), s.seconds,
                                           s.proc.rss_kib, s.proc.fds);
                               std::fflush(stdout);
                             });
      json samples = json::array();
      for (const auto& s : r.samples) {
        samples.push_back({{"cycles", s.cycles},
                           {"seconds", s.seconds},
                           {"rss_kib", s.proc.rss_kib},
                           {"fds", s.proc.fds}});
      }
      json soak = {{"cycles", a.soak_cycles}, {"samples", samples}, {"error", r.error}};
      if (r.samples.size() >= 3) {
        // Warm-up: the first interval. Growth: from its end to the last sample.
        const SoakSample& warm = r.samples[1];
        const SoakSample& last = r.samples.back();
        int fd_min = warm.proc.fds, fd_max = warm.proc.fds;
        for (size_t i = 1; i < r.samples.size(); ++i) {
          fd_min = std::min(fd_min, r.samples[i].proc.fds);
          fd_max = std::max(fd_max, r.samples[i].proc.fds);
        }
        long growth = last.proc.rss_kib - warm.proc.rss_kib;
        double cps = last.seconds > 0 ? last.cycles / last.seconds : 0;
        std::printf("RSS growth after warm-up (%llu cycles): %ld KiB; fds %d..%d; %.0f cycles/s\n",
                    static_cast<unsigned long long>(warm.cycles), growth, fd_min, fd_max, cps);
        soak["rss_growth_after_warmup_kib"] = growth;
        soak["fds_min"] = fd_min;
        soak["fds_max"] = fd_max;
        soak["cycles_per_s"] = cps;
      }
      if (!r.error.empty()) fail("soak: " + r.error);
      out["soak"] = soak;
      fresh.Stop();
    }
  }

  if (!a.json_path.empty()) {
    std::ofstream f(a.json_path);
    f << out.dump(2) << "\n";
    if (!f) fail("cannot write " + a.json_path);
  }
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace litepool::bench

int main(int argc, char** argv) { return litepool::bench::Main(argc, argv); }
