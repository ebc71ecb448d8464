// The lib driver: one thread per connection, each a litepool::client::Client,
// so that the client library's own cost can be compared with the raw driver.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/load_driver.h"
#include "bench/load_process.h"
#include "litepool/client.h"

namespace litepool::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
namespace lp = litepool::client;

constexpr const char* kSelect = "SELECT v FROM kv WHERE k=?";

uint64_t Nanos(TimePoint from, TimePoint to) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
}

double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

struct ThreadResult {
  uint64_t requests = 0, cycles = 0, errors = 0;
  std::string first_error;
  LatencyHistogram request_ns, cycle_ns;
};

void Loop(const LoadOptions& o, lp::Client* client, uint64_t seed, TimePoint window_start,
          TimePoint window_end, ThreadResult* out) {
  Rng rng(seed);
  lp::AcquireOptions read;
  read.mode = lp::Mode::kRead;
  const int queries = o.scenario == Scenario::kLease10 ? 10 : 0;
  auto note = [out](const lp::Error& e) {
    ++out->errors;
    if (out->first_error.empty()) out->first_error = e.code + ": " + e.message;
  };
  auto key = [&] { return static_cast<int64_t>(rng.Below(static_cast<uint64_t>(o.rows))) + 1; };
  while (true) {
    TimePoint start = SteadyClock::now();
    if (start >= window_end) return;
    bool counted = start >= window_start;
    auto record = [&](TimePoint from) {
      TimePoint now = SteadyClock::now();
      if (counted && now <= window_end) {
        ++out->requests;
        out->request_ns.Record(Nanos(from, now));
      }
      return now;
    };
    if (o.scenario == Scenario::kPointSelect) {
      auto r = client->Query("main", kSelect, {key()}, lp::Mode::kRead);
      if (!r.ok()) {
        note(r.error());
        continue;
      }
      TimePoint now = record(start);
      if (counted && now <= window_end) {
        ++out->cycles;
        out->cycle_ns.Record(Nanos(start, now));
      }
      continue;
    }
    auto lease = client->Acquire("main", read);
    if (!lease.ok()) {
      note(lease.error());
      continue;
    }
    TimePoint t = record(start);
    for (int i = 0; i < queries; ++i) {
      auto r = lease->Query(kSelect, {key()});
      if (!r.ok()) note(r.error());
      t = record(t);
    }
    auto released = lease->Release();
    if (!released.ok()) note(released.error());
    TimePoint now = record(t);
    if (counted && now <= window_end) {
      ++out->cycles;
      out->cycle_ns.Record(Nanos(start, now));
    }
  }
}

}  // namespace

LoadResult RunLoadWithClientLibrary(const LoadOptions& o) {
  LoadResult result;
  if (o.scenario != Scenario::kPointSelect && o.scenario != Scenario::kAcquireRelease &&
      o.scenario != Scenario::kLease10) {
    result.setup_error = "the lib driver runs point_select, acquire_release and lease10 only";
    return result;
  }
  std::vector<std::unique_ptr<lp::Client>> clients;
  for (int i = 0; i < o.connections; ++i) {
    auto c = lp::Client::Connect(o.socket);
    if (!c.ok()) {
      result.setup_error = "connect: " + c.error().message;
      return result;
    }
    clients.push_back(std::make_unique<lp::Client>(std::move(*c)));
  }
  auto dur = [](double s) {
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  };
  TimePoint window_start = SteadyClock::now() + dur(o.warmup_seconds);
  TimePoint window_end = window_start + dur(o.seconds);
  std::vector<ThreadResult> results(clients.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clients.size(); ++i) {
    threads.emplace_back(Loop, std::cref(o), clients[i].get(), o.seed * 1000003 + i, window_start,
                         window_end, &results[i]);
  }
  std::this_thread::sleep_until(window_start);
  double client0 = ProcessCpuSeconds();
  double server0 = o.server_pid > 0 ? SampleProcess(o.server_pid).cpu_seconds : 0;
  std::this_thread::sleep_until(window_end);
  result.client_cpu_seconds = ProcessCpuSeconds() - client0;
  if (o.server_pid > 0)
    result.server_cpu_seconds = SampleProcess(o.server_pid).cpu_seconds - server0;
  result.seconds = o.seconds;
  for (auto& t : threads) t.join();
  for (const ThreadResult& r : results) {
    result.requests += r.requests;
    result.cycles += r.cycles;
    result.errors += r.errors;
    if (result.first_error.empty()) result.first_error = r.first_error;
    result.request_ns.Merge(r.request_ns);
    result.cycle_ns.Merge(r.cycle_ns);
  }
  return result;
}

}  // namespace litepool::bench
