// The load generator's results: one record per run, medians over repeats,
// ratios between targets measured side by side, as a table and as JSON.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "bench/load_driver.h"

namespace litepool::bench {

// One measured run, reduced to the figures the report uses.
struct RunRecord {
  std::string scenario;
  int clients = 0;
  std::string target;  // echo, litepoold, workers, litepoold_lib
  int repeat = 0;
  double rt_per_s = 0;      // round trips per second
  double cycles_per_s = 0;  // scenario cycles per second
  double p50_us = 0, p99_us = 0, p999_us = 0;
  double cycle_p50_us = 0, cycle_p99_us = 0;
  double server_cpu_us_per_rt = 0;
  double client_cpu_us_per_rt = 0;
  uint64_t errors = 0;
  std::string first_error;
};

RunRecord MakeRecord(const std::string& scenario, int clients, const std::string& target,
                     int repeat, const LoadResult& r);

nlohmann::ordered_json ToJson(const RunRecord& r);

// Medians over repeats of one (scenario, clients, target) cell.
struct Cell {
  RunRecord median;  // every figure is its own median
  int runs = 0;
};

class Report {
 public:
  void Add(const RunRecord& r) { runs_.push_back(r); }
  const std::vector<RunRecord>& runs() const { return runs_; }

  // The median cell, if any run of it was recorded.
  std::optional<Cell> Median(const std::string& scenario, int clients,
                             const std::string& target) const;

  // The median over repeats of a per-repeat ratio of `num` to `den` for
  // the figure `field` (runs of one repeat were measured back to back).
  std::optional<double> MedianRatio(const std::string& scenario, int clients,
                                    const std::string& num, const std::string& den,
                                    double RunRecord::*field) const;

  // A lease10 cycle's server CPU per query (the cycle's CPU over its
  // kLease10Queries) against a one-shot point select's at `one_shot_clients`,
  // the median of per-repeat ratios of `target`'s runs.
  std::optional<double> Lease10PerQueryRatio(int clients, int one_shot_clients,
                                             const std::string& target) const;

  // The daemon's max_readers: at most that many leases hold a read handle
  // at once, so lease10 is also compared with one-shots at that many clients.
  void set_max_readers(int n) { max_readers_ = n; }

  void PrintTable(std::ostream& out, const std::vector<std::string>& scenarios,
                  const std::vector<int>& clients, const std::vector<std::string>& targets) const;
  void PrintRatios(std::ostream& out, const std::vector<std::string>& scenarios,
                   const std::vector<int>& clients, const std::vector<std::string>& targets,
                   const std::map<int, double>& pgbench_tps) const;

  nlohmann::ordered_json MediansJson(const std::vector<std::string>& scenarios,
                                     const std::vector<int>& clients,
                                     const std::vector<std::string>& targets) const;
  nlohmann::ordered_json RatiosJson(const std::vector<std::string>& scenarios,
                                    const std::vector<int>& clients,
                                    const std::vector<std::string>& targets,
                                    const std::map<int, double>& pgbench_tps) const;

 private:
  void AddLease10Ratios(int clients, const std::vector<std::string>& targets,
                        nlohmann::ordered_json* ratios) const;
  const RunRecord* Find(const std::string& scenario, int clients, const std::string& target,
                        int repeat) const;

  std::vector<RunRecord> runs_;
  int max_readers_ = 0;
};

}  // namespace litepool::bench
