// revoke_lateness: how late litepoold revokes a lease, end to end. Starts
// the real daemon once per reaper_interval_ms given, takes leases with short,
// varied lease_ms over its socket, and from just before each deadline uses
// the lease (a query) until it answers lease_expired. The revocation came
// before that reply arrived, and the deadline (the daemon's leased_at +
// lease_ms) after the acquire was sent, so the arrival less (acquire sent +
// lease_ms) bounds the lateness from above; the bound is loose by at most
// one poll (--poll-us and a round trip). Not the send time of the expired
// request: a query in flight at the deadline is interrupted and answers
// lease_expired although it was sent before it. Results and commands:
// bench/RESULTS.md, "Revocation lateness".
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_process.h"
#include "wire/unix_socket.h"

namespace litepool::bench {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

struct Args {
  std::string daemon;
  std::vector<int> intervals = {200, 2000};
  int clients = 8;
  int leases = 400;  // in all, per interval
  int lease_min_ms = 250;
  int lease_max_ms = 350;
  int poll_us = 100;
};

void Usage() {
  std::fprintf(stderr,
               "usage: revoke_lateness [--daemon PATH] [--intervals MS,MS...] [--clients N]\n"
               "                       [--leases N] [--lease-ms MIN,MAX] [--poll-us N]\n"
               "  --daemon    litepoold (default: ../server/litepoold beside this binary)\n"
               "  --intervals reaper_interval_ms values, one daemon each (default 200,2000)\n"
               "  --clients   connections, each taking its share of the leases in turn (8)\n"
               "  --leases    leases per interval (400)\n"
               "  --lease-ms  lease_ms drawn uniformly from MIN..MAX (250,350)\n"
               "  --poll-us   pause between uses of a lease once its deadline is near (100)\n");
}

std::vector<int> IntList(const std::string& s) {
  std::vector<int> out;
  size_t at = 0;
  while (at <= s.size()) {
    size_t comma = s.find(',', at);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(std::atoi(s.substr(at, comma - at).c_str()));
    at = comma + 1;
  }
  return out;
}

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (arg == "--daemon") {
      a->daemon = v;
    } else if (arg == "--intervals") {
      a->intervals = IntList(v);
    } else if (arg == "--clients") {
      a->clients = std::atoi(v.c_str());
    } else if (arg == "--leases") {
      a->leases = std::atoi(v.c_str());
    } else if (arg == "--lease-ms") {
      auto l = IntList(v);
      if (l.size() != 2 || l[0] <= 0 || l[1] < l[0]) return false;
      a->lease_min_ms = l[0];
      a->lease_max_ms = l[1];
    } else if (arg == "--poll-us") {
      a->poll_us = std::atoi(v.c_str());
    } else {
      return false;
    }
  }
  return a->clients > 0 && a->leases > 0 && !a->intervals.empty();
}

// One blocking connection: a request line out, a reply line back.
class Line {
 public:
  explicit Line(int fd) : fd_(fd) {}
  ~Line() {
    if (fd_ >= 0) close(fd_);
  }
  bool Call(const std::string& request, std::string* reply) {
    std::string out = request + "\n";
    for (size_t sent = 0; sent < out.size();) {
      ssize_t n = send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    for (;;) {
      size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        *reply = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return true;
      }
      char chunk[4096];
      ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buf_;
};

// Each client takes its leases one after another; returns lateness in µs.
bool RunClient(const std::string& socket, int leases, const Args& a, unsigned seed,
               std::vector<double>* lateness_us, std::string* error) {
  std::string err;
  int fd = wire::ConnectUnixSocket(socket, &err);
  if (fd < 0) {
    *error = "connect: " + err;
    return false;
  }
  Line line(fd);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> lease_ms(a.lease_min_ms, a.lease_max_ms);
  std::string reply;
  for (int i = 0; i < leases; ++i) {
    int ms = lease_ms(rng);
    auto asked = SteadyClock::now();
    if (!line.Call(
            json{{"id", 1}, {"op", "acquire"}, {"db", "main"}, {"mode", "read"}, {"lease_ms", ms}}
                .dump(),
            &reply)) {
      *error = "acquire: connection lost";
      return false;
    }
    json r = json::parse(reply, nullptr, false);
    if (!r.is_object() || !r.value("ok", false) || r.value("lease_ms", 0) != ms) {
      *error = "acquire: " + reply;
      return false;
    }
    // The daemon's deadline is its leased_at + lease_ms, and leased_at is
    // after `asked`: lateness from here is an upper bound.
    auto deadline = asked + std::chrono::milliseconds(ms);
    std::string use =
        json{{"id", 2}, {"op", "query"}, {"lease", r["lease"]}, {"sql", "SELECT 1"}}.dump();
    std::this_thread::sleep_until(deadline - std::chrono::milliseconds(2));
    for (;;) {
      auto sent = SteadyClock::now();
      if (!line.Call(use, &reply)) {
        *error = "query: connection lost";
        return false;
      }
      if (reply.find("\"lease_expired\"") != std::string::npos) {
        auto seen = SteadyClock::now();
        lateness_us->push_back(std::chrono::duration<double, std::micro>(seen - deadline).count());
        break;
      }
      if (reply.find("\"ok\":true") == std::string::npos) {
        *error = "query: " + reply;
        return false;
      }
      if (sent - deadline > std::chrono::seconds(30)) {
        *error = "a lease was never revoked";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(a.poll_us));
    }
  }
  return true;
}

double Percentile(const std::vector<double>& sorted, double p) {
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

bool Measure(const Args& a, int interval_ms, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::string socket = dir + "/litepool.sock";
  json config = {
      {"socket", socket},
      {"metrics", {{"listen", ""}}},
      {"reaper_interval_ms", interval_ms},
      {"log", {{"level", "warn"}}},
      {"defaults", {{"max_readers", a.clients}, {"lease_timeout_ms", 30000}}},
      {"databases",
       {{"main",
         {{"path", dir + "/bench.db"},
          {"create_if_missing", true},
          {"pragmas", {{"journal_mode", "wal"}}}}}}},
  };
  std::ofstream(dir + "/litepool.json") << config.dump(2) << "\n";
  ChildProcess daemon;
  std::string error;
  if (!daemon.Start({a.daemon, "--config", dir + "/litepool.json"}, {}, dir + "/daemon.log",
                    &error)) {
    std::fprintf(stderr, "start: %s\n", error.c_str());
    return false;
  }
  if (!WaitForSocket(socket, 15)) {
    std::fprintf(stderr, "litepoold did not listen (log: %s/daemon.log)\n", dir.c_str());
    return false;
  }
  std::vector<std::vector<double>> per_client(a.clients);
  std::vector<std::string> errors(a.clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < a.clients; ++c) {
    int share = a.leases / a.clients + (c < a.leases % a.clients ? 1 : 0);
    threads.emplace_back([&, c, share] {
      if (!RunClient(socket, share, a, 1000u + static_cast<unsigned>(c), &per_client[c],
                     &errors[c])) {
        per_client[c].clear();
      }
    });
    // Staggered, so the clients' deadlines spread out.
    std::this_thread::sleep_for(std::chrono::milliseconds(a.lease_min_ms / a.clients + 1));
  }
  for (auto& t : threads) t.join();
  daemon.Stop();
  std::vector<double> all;
  for (int c = 0; c < a.clients; ++c) {
    if (!errors[c].empty()) {
      std::fprintf(stderr, "client %d: %s\n", c, errors[c].c_str());
      return false;
    }
    all.insert(all.end(), per_client[c].begin(), per_client[c].end());
  }
  std::sort(all.begin(), all.end());
  std::printf(
      "reaper_interval_ms=%-5d leases=%zu lateness_ms min=%.2f p50=%.2f p90=%.2f "
      "p99=%.2f max=%.2f\n",
      interval_ms, all.size(), all.front() / 1000, Percentile(all, 0.5) / 1000,
      Percentile(all, 0.9) / 1000, Percentile(all, 0.99) / 1000, all.back() / 1000);
  std::fflush(stdout);
  return true;
}

}  // namespace
}  // namespace litepool::bench

int main(int argc, char** argv) {
  using namespace litepool::bench;
  Args a;
  if (!ParseArgs(argc, argv, &a)) {
    Usage();
    return 2;
  }
  if (a.daemon.empty()) {
    auto self = std::filesystem::weakly_canonical(std::filesystem::path(argv[0]));
    a.daemon = (self.parent_path() / "../server/litepoold").lexically_normal().string();
  }
  ScratchDir scratch;
  if (!scratch.ok()) return 1;
  std::printf("lease_ms %d..%d, %d clients, poll %d us, daemon %s\n", a.lease_min_ms,
              a.lease_max_ms, a.clients, a.poll_us, a.daemon.c_str());
  for (int interval : a.intervals) {
    if (!Measure(a, interval, scratch.path() + "/i" + std::to_string(interval))) return 1;
  }
  return 0;
}
