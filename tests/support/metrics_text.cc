// Parsing of Prometheus text-format scrapes for the metrics tests.
#include "tests/support/metrics_text.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace litepool::testing {
namespace {

// Parses `{a="x",b="y"}` starting at text[*pos] == '{'; false if malformed.
bool ParseLabels(const std::string& text, size_t* pos, std::map<std::string, std::string>* labels) {
  size_t i = *pos + 1;
  while (i < text.size() && text[i] != '}') {
    size_t eq = text.find('=', i);
    if (eq == std::string::npos || eq + 1 >= text.size() || text[eq + 1] != '"') return false;
    std::string name = text.substr(i, eq - i);
    std::string value;
    size_t j = eq + 2;
    for (; j < text.size() && text[j] != '"'; ++j) {
      if (text[j] == '\\' && j + 1 < text.size()) {
        ++j;
        value.push_back(text[j] == 'n' ? '\n' : text[j]);
      } else {
        value.push_back(text[j]);
      }
    }
    if (j >= text.size()) return false;
    (*labels)[name] = value;
    i = j + 1;
    if (i < text.size() && text[i] == ',') ++i;
  }
  if (i >= text.size()) return false;
  *pos = i + 1;
  return true;
}

double ParseValue(const std::string& s, bool* ok) {
  if (s == "+Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  if (s == "NaN") return NAN;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  *ok = !s.empty() && end == s.c_str() + s.size();
  return v;
}

}  // namespace

std::optional<double> Scrape::Value(const std::string& name,
                                    const std::map<std::string, std::string>& labels) const {
  for (const Sample& sample : samples) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  return std::nullopt;
}

std::vector<Sample> Scrape::Find(const std::string& name) const {
  std::vector<Sample> found;
  for (const Sample& sample : samples) {
    if (sample.name == name) found.push_back(sample);
  }
  return found;
}

Scrape ParseMetrics(const std::string& text) {
  Scrape scrape;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, family;
      words >> hash >> kind >> family;
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (kind == "HELP") scrape.help[family] = rest;
      if (kind == "TYPE") scrape.type[family] = rest;
      continue;
    }
    Sample sample;
    size_t pos = line.find_first_of("{ ");
    if (pos == std::string::npos) {
      scrape.errors.push_back(line);
      continue;
    }
    sample.name = line.substr(0, pos);
    if (line[pos] == '{' && !ParseLabels(line, &pos, &sample.labels)) {
      scrape.errors.push_back(line);
      continue;
    }
    while (pos < line.size() && line[pos] == ' ') ++pos;
    size_t end = line.find(' ', pos);  // an optional timestamp follows
    bool ok = false;
    sample.value = ParseValue(line.substr(pos, end - pos), &ok);
    if (!ok) {
      scrape.errors.push_back(line);
      continue;
    }
    scrape.samples.push_back(std::move(sample));
  }
  return scrape;
}

}  // namespace litepool::testing
