// Medians, ratios, the printed table and the JSON of the load generator.
#include "bench/load_report.h"

#include <algorithm>
#include <cstdio>

#include "bench/load_scenarios.h"

namespace litepool::bench {
namespace {

double MedianOf(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct RatioDef {
  const char* name;
  const char* num;
  const char* den;
  double RunRecord::*field;
};

// Which ratios the report prints, where both sides were measured.
const RatioDef kRatios[] = {
    {"litepoold/echo rt/s", "litepoold", "echo", &RunRecord::rt_per_s},
    {"litepoold/echo p99", "litepoold", "echo", &RunRecord::p99_us},
    {"baseline/echo rt/s", "baseline", "echo", &RunRecord::rt_per_s},
    {"litepoold/baseline rt/s", "litepoold", "baseline", &RunRecord::rt_per_s},
    {"litepoold/baseline p99", "litepoold", "baseline", &RunRecord::p99_us},
    {"lib/raw rt/s", "litepoold_lib", "litepoold", &RunRecord::rt_per_s},
    // Server CPU per round trip: less sensitive than throughput to other
    // tenants of a shared machine (a one-thread server gets a smaller
    // fair share of contended cores than a many-thread one).
    {"litepoold/echo srv_cpu", "litepoold", "echo", &RunRecord::server_cpu_us_per_rt},
    {"litepoold/baseline srv_cpu", "litepoold", "baseline", &RunRecord::server_cpu_us_per_rt},
};

std::string Fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

}  // namespace

RunRecord MakeRecord(const std::string& scenario, int clients, const std::string& target,
                     int repeat, const LoadResult& r) {
  RunRecord rec;
  rec.scenario = scenario;
  rec.clients = clients;
  rec.target = target;
  rec.repeat = repeat;
  if (r.seconds > 0) {
    rec.rt_per_s = static_cast<double>(r.requests) / r.seconds;
    rec.cycles_per_s = static_cast<double>(r.cycles) / r.seconds;
  }
  rec.p50_us = r.request_ns.QuantileNs(0.50) / 1e3;
  rec.p99_us = r.request_ns.QuantileNs(0.99) / 1e3;
  rec.p999_us = r.request_ns.QuantileNs(0.999) / 1e3;
  rec.cycle_p50_us = r.cycle_ns.QuantileNs(0.50) / 1e3;
  rec.cycle_p99_us = r.cycle_ns.QuantileNs(0.99) / 1e3;
  if (r.requests > 0) {
    rec.server_cpu_us_per_rt = r.server_cpu_seconds * 1e6 / static_cast<double>(r.requests);
    rec.client_cpu_us_per_rt = r.client_cpu_seconds * 1e6 / static_cast<double>(r.requests);
  }
  rec.errors = r.errors;
  rec.first_error = r.setup_error.empty() ? r.first_error : r.setup_error;
  if (!r.setup_error.empty()) ++rec.errors;
  return rec;
}

nlohmann::ordered_json ToJson(const RunRecord& r) {
  nlohmann::ordered_json j = {
      {"scenario", r.scenario},
      {"clients", r.clients},
      {"target", r.target},
      {"repeat", r.repeat},
      {"round_trips_per_s", r.rt_per_s},
      {"cycles_per_s", r.cycles_per_s},
      {"p50_us", r.p50_us},
      {"p99_us", r.p99_us},
      {"p999_us", r.p999_us},
      {"cycle_p50_us", r.cycle_p50_us},
      {"cycle_p99_us", r.cycle_p99_us},
      {"server_cpu_us_per_round_trip", r.server_cpu_us_per_rt},
      {"client_cpu_us_per_round_trip", r.client_cpu_us_per_rt},
      {"errors", r.errors},
  };
  if (!r.first_error.empty()) j["first_error"] = r.first_error;
  return j;
}

std::optional<Cell> Report::Median(const std::string& scenario, int clients,
                                   const std::string& target) const {
  std::vector<const RunRecord*> match;
  for (const auto& r : runs_) {
    if (r.scenario == scenario && r.clients == clients && r.target == target) match.push_back(&r);
  }
  if (match.empty()) return std::nullopt;
  Cell cell;
  cell.runs = static_cast<int>(match.size());
  cell.median = *match.front();
  cell.median.repeat = -1;
  double RunRecord::*fields[] = {&RunRecord::rt_per_s,
                                 &RunRecord::cycles_per_s,
                                 &RunRecord::p50_us,
                                 &RunRecord::p99_us,
                                 &RunRecord::p999_us,
                                 &RunRecord::cycle_p50_us,
                                 &RunRecord::cycle_p99_us,
                                 &RunRecord::server_cpu_us_per_rt,
                                 &RunRecord::client_cpu_us_per_rt};
  for (auto f : fields) {
    std::vector<double> v;
    for (const RunRecord* r : match) v.push_back(r->*f);
    cell.median.*f = MedianOf(v);
  }
  cell.median.errors = 0;
  for (const RunRecord* r : match) {
    cell.median.errors += r->errors;
    if (cell.median.first_error.empty()) cell.median.first_error = r->first_error;
  }
  return cell;
}

std::optional<double> Report::MedianRatio(const std::string& scenario, int clients,
                                          const std::string& num, const std::string& den,
                                          double RunRecord::*field) const {
  std::map<int, double> nums, dens;
  for (const auto& r : runs_) {
    if (r.scenario != scenario || r.clients != clients) continue;
    if (r.target == num) nums[r.repeat] = r.*field;
    if (r.target == den) dens[r.repeat] = r.*field;
  }
  std::vector<double> ratios;
  for (const auto& [repeat, n] : nums) {
    auto d = dens.find(repeat);
    if (d != dens.end() && d->second > 0 && n > 0) ratios.push_back(n / d->second);
  }
  if (ratios.empty()) return std::nullopt;
  return MedianOf(ratios);
}

const RunRecord* Report::Find(const std::string& scenario, int clients, const std::string& target,
                              int repeat) const {
  for (const auto& r : runs_) {
    if (r.scenario == scenario && r.clients == clients && r.target == target &&
        r.repeat == repeat) {
      return &r;
    }
  }
  return nullptr;
}

std::optional<double> Report::Lease10PerQueryRatio(int clients, int one_shot_clients,
                                                   const std::string& target) const {
  std::vector<double> ratios;
  for (const auto& lease : runs_) {
    if (lease.scenario != "lease10" || lease.clients != clients || lease.target != target) continue;
    const RunRecord* one_shot = Find("point_select", one_shot_clients, target, lease.repeat);
    if (!one_shot || one_shot->server_cpu_us_per_rt <= 0 || lease.cycles_per_s <= 0) continue;
    double per_query = lease.server_cpu_us_per_rt * lease.rt_per_s / lease.cycles_per_s /
                       static_cast<double>(kLease10Queries);
    if (per_query > 0) ratios.push_back(per_query / one_shot->server_cpu_us_per_rt);
  }
  if (ratios.empty()) return std::nullopt;
  return MedianOf(ratios);
}

void Report::PrintTable(std::ostream& out, const std::vector<std::string>& scenarios,
                        const std::vector<int>& clients,
                        const std::vector<std::string>& targets) const {
  char line[256];
  std::snprintf(line, sizeof(line), "%-16s %4s %-12s %10s %10s %8s %8s %9s %9s %8s %8s %6s\n",
                "scenario", "conn", "target", "rt/s", "cycles/s", "p50_us", "p99_us", "p99.9_us",
                "cyc_p99", "srv_us", "cli_us", "errors");
  out << line;
  for (const auto& s : scenarios) {
    for (int c : clients) {
      for (const auto& t : targets) {
        auto cell = Median(s, c, t);
        if (!cell) continue;
        const RunRecord& m = cell->median;
        std::snprintf(line, sizeof(line),
                      "%-16s %4d %-12s %10.0f %10.0f %8.1f %8.1f %9.1f %9.1f %8.1f %8.1f %6llu\n",
                      s.c_str(), c, t.c_str(), m.rt_per_s, m.cycles_per_s, m.p50_us, m.p99_us,
                      m.p999_us, m.cycle_p99_us, m.server_cpu_us_per_rt, m.client_cpu_us_per_rt,
                      static_cast<unsigned long long>(m.errors));
        out << line;
      }
    }
  }
}

void Report::PrintRatios(std::ostream& out, const std::vector<std::string>& scenarios,
                         const std::vector<int>& clients, const std::vector<std::string>& targets,
                         const std::map<int, double>& pgbench_tps) const {
  nlohmann::ordered_json ratios = RatiosJson(scenarios, clients, targets, pgbench_tps);
  for (const auto& row : ratios) {
    std::string text =
        row["scenario"].get<std::string>() + " @" + std::to_string(row["clients"].get<int>()) + ":";
    for (const auto& [name, value] : row["ratios"].items()) {
      text += "  " + name + " " + Fixed(value.get<double>(), 2);
    }
    out << text << "\n";
  }
}

nlohmann::ordered_json Report::MediansJson(const std::vector<std::string>& scenarios,
                                           const std::vector<int>& clients,
                                           const std::vector<std::string>& targets) const {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& s : scenarios) {
    for (int c : clients) {
      for (const auto& t : targets) {
        if (auto cell = Median(s, c, t)) {
          nlohmann::ordered_json j = ToJson(cell->median);
          j.erase("repeat");
          j["runs"] = cell->runs;
          out.push_back(j);
        }
      }
    }
  }
  return out;
}

void Report::AddLease10Ratios(int clients, const std::vector<std::string>& targets,
                              nlohmann::ordered_json* ratios) const {
  // A lease holds its read handle between round trips, so at most
  // max_readers cycles run at once: with more clients than that, lease10
  // runs as few requests in flight as one-shots from max_readers clients.
  int in_flight = max_readers_ > 0 ? std::min(clients, max_readers_) : clients;
  for (const char* target : {"litepoold", "baseline"}) {
    if (std::find(targets.begin(), targets.end(), target) == targets.end()) continue;
    std::string name = std::string(target) + " lease10/one-shot cpu per query";
    if (auto r = Lease10PerQueryRatio(clients, clients, target)) (*ratios)[name] = *r;
    if (in_flight == clients) continue;
    if (auto r = Lease10PerQueryRatio(clients, in_flight, target)) {
      (*ratios)[name + " (one-shots @" + std::to_string(in_flight) + ")"] = *r;
    }
  }
}

nlohmann::ordered_json Report::RatiosJson(const std::vector<std::string>& scenarios,
                                          const std::vector<int>& clients,
                                          const std::vector<std::string>& targets,
                                          const std::map<int, double>& pgbench_tps) const {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& s : scenarios) {
    for (int c : clients) {
      nlohmann::ordered_json ratios = nlohmann::ordered_json::object();
      for (const RatioDef& d : kRatios) {
        if (std::find(targets.begin(), targets.end(), d.num) == targets.end()) continue;
        if (auto r = MedianRatio(s, c, d.num, d.den, d.field)) ratios[d.name] = *r;
      }
      auto pg = pgbench_tps.find(c);
      if (s == "point_select" && pg != pgbench_tps.end() && pg->second > 0) {
        if (auto cell = Median(s, c, "litepoold")) {
          ratios["litepoold/pgbouncer tps"] = cell->median.rt_per_s / pg->second;
        }
        if (auto cell = Median(s, c, "baseline")) {
          ratios["baseline/pgbouncer tps"] = cell->median.rt_per_s / pg->second;
        }
      }
      if (s == "lease10") AddLease10Ratios(c, targets, &ratios);
      if (!ratios.empty()) out.push_back({{"scenario", s}, {"clients", c}, {"ratios", ratios}});
    }
  }
  return out;
}

}  // namespace litepool::bench
