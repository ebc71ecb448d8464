// Formatting and writing of log events.
#include "log/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

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

// Length of the valid UTF-8 sequence at s[0], or 0 if it is not one.
size_t Utf8Length(const unsigned char* s, size_t left) {
  unsigned char c = s[0];
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (n > left) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

}  // namespace

void AppendJsonEscaped(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Copy the longest run that needs no escaping in one append.
    size_t run = i;
    while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\') ++run;
    out->append(s.data() + i, run - i);
    i = run;
    if (i >= n) break;
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t len = Utf8Length(p + i, n - i);
      if (len == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD: the reply must stay valid JSON
        ++i;
      } else {
        out->append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
    ++i;
  }
}


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
    line_.append("\",\"level\":\"").append(config::LogLevelName(level));
    line_.append("\",\"event\":\"");
    AppendJsonEscaped(&line_, event);
    line_.push_back('"');
  } else {
    AppendTimestamp(&line_);
    line_.push_back(' ');
    line_.append(config::LogLevelName(level));
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
    AppendJsonEscaped(&line_, value);
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

}  // namespace litepool::log
