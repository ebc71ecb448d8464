// A reader of the Prometheus text exposition format, for asserting on the
// daemon's /metrics output.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace litepool::testing {

struct Sample {
  std::string name;  // with its _bucket/_sum/_count/_total suffix
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The samples and the HELP/TYPE lines of one scrape.
struct Scrape {
  std::vector<Sample> samples;
  std::map<std::string, std::string> help;  // family -> HELP text
  std::map<std::string, std::string> type;  // family -> TYPE word
  std::vector<std::string> errors;          // lines that did not parse

  // The value of the sample with exactly this name and these labels.
  std::optional<double> Value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const;
  // All samples of this name.
  std::vector<Sample> Find(const std::string& name) const;
};

Scrape ParseMetrics(const std::string& text);

}  // namespace litepool::testing
