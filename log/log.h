// Structured event log (docs/operations.md): one event per line on stderr, as a JSON
// object or as key=value text. Thread-safe; each line is one write(2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"

namespace litepool::log {

using Level = config::LogLevel;
using Format = config::LogFormat;

// Process-wide settings; set at start and on reload (atomic, so any thread
// may log while they change).
void Configure(Level level, Format format);
bool Enabled(Level level);

// Builds one event and writes it when destroyed:
//   log::Warn("lease_leak_warning").Str("db", db).Int("pid", pid);
// An event below the configured level costs one atomic load and formats
// nothing.
class Event {
 public:
  Event(Level level, std::string_view event);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  Event& Str(std::string_view key, std::string_view value);
  Event& Int(std::string_view key, int64_t value);
  Event& Bool(std::string_view key, bool value);

 private:
  void Key(std::string_view key);

  bool enabled_;
  Format format_;
  std::string line_;
};

inline Event Debug(std::string_view event) { return Event(Level::kDebug, event); }
inline Event Info(std::string_view event) { return Event(Level::kInfo, event); }
inline Event Warn(std::string_view event) { return Event(Level::kWarn, event); }
inline Event Error(std::string_view event) { return Event(Level::kError, event); }

// Appends `s` to `out` as the inside of a JSON string (quotes not added).
// Bytes that are not valid UTF-8 become U+FFFD, so the output is always
// valid JSON; the reply writer uses it too.
void AppendJsonEscaped(std::string* out, std::string_view s);

}  // namespace litepool::log
