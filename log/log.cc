// Formatting and writing of log events.
#include "log/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "wire/error_code.h"
#include "wire/json_escape.h"
#include "wire/lease_id.h"

namespace litepool::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_format{static_cast<int>(Format::kJson)};

void AppendTimestamp(std::string* out) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm;
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  out->append(buf);
}

// Text values are quoted only when they would otherwise be ambiguous.
bool NeedsQuotes(std::string_view s) {
  if (s.empty()) return true;
  for (char c : s) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

}  // namespace

void Configure(Level level, Format format) {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
  g_format.store(static_cast<int>(format), std::memory_order_relaxed);
}

bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

Event::Event(Level level, std::string_view event)
    : enabled_(Enabled(level)),
      format_(static_cast<Format>(g_format.load(std::memory_order_relaxed))) {
  if (!enabled_) return;
  line_.reserve(256);
  if (format_ == Format::kJson) {
    line_.append("{\"ts\":\"");
    AppendTimestamp(&line_);
    line_.append("\",\"level\":\"").append(LevelName(level));
    line_.append("\",\"event\":\"");
    wire::AppendJsonEscaped(event, &line_);
    line_.push_back('"');
  } else {
    AppendTimestamp(&line_);
    line_.push_back(' ');
    line_.append(LevelName(level));
    line_.append(" event=").append(event);
  }
}

Event::~Event() {
  if (!enabled_) return;
  line_.append(format_ == Format::kJson ? "}\n" : "\n");
  // One write per line keeps lines from different threads whole.
  const char* p = line_.data();
  size_t left = line_.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void Event::Key(std::string_view key) {
  if (format_ == Format::kJson) {
    line_.append(",\"").append(key).append("\":");
  } else {
    line_.push_back(' ');
    line_.append(key).push_back('=');
  }
}

Event& Event::Str(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  Key(key);
  if (format_ == Format::kJson || NeedsQuotes(value)) {
    line_.push_back('"');
    wire::AppendJsonEscaped(value, &line_);
    line_.push_back('"');
  } else {
    line_.append(value);
  }
  return *this;
}

Event& Event::Int(std::string_view key, int64_t value) {
  if (!enabled_) return *this;
  Key(key);
  line_.append(std::to_string(value));
  return *this;
}

Event& Event::Bool(std::string_view key, bool value) {
  if (!enabled_) return *this;
  Key(key);
  line_.append(value ? "true" : "false");
  return *this;
}

Event& Event::Code(std::string_view key, litepool::Code code) {
  return Str(key, wire::CodeName(code));
}

Event& Event::LeaseId(std::string_view key, uint64_t id) {
  if (!enabled_) return *this;
  return Str(key, wire::FormatLeaseId(id));
}

}  // namespace litepool::log
