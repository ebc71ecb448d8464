// Structured event log (docs/operations.md): one event per line on stderr, as a JSON
// object or as key=value text. Thread-safe; each line is one write(2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "log/level.h"

namespace litepool::log {

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
  // The stable name of an error code ("disk_full"), as replies and metric
  // labels spell it (wire/error_code.h).
  Event& Code(std::string_view key, litepool::Code code);
  // A lease id as the client sees it (wire/lease_id.h), so that a log line
  // can be matched with the `leases` op and the client's own records.
  Event& LeaseId(std::string_view key, uint64_t id);

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

}  // namespace litepool::log
