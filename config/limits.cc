// The pool-limit keys as a declarative table: name, field, range.
#include "config/limits.h"

#include <string>
#include <variant>

#include "config/formats.h"

namespace litepool::config::internal {
namespace {

struct IntKey {
  std::string_view name;
  std::variant<int PoolLimits::*, int64_t PoolLimits::*> field;
  int64_t min;
  int64_t max;
};

const IntKey kIntKeys[] = {
    {"max_writers", &PoolLimits::max_writers, 0, kMaxInt},
    {"max_readers", &PoolLimits::max_readers, 0, kMaxInt},
    {"min_idle", &PoolLimits::min_idle, 0, kMaxInt},
    {"max_waiters", &PoolLimits::max_waiters, 0, kMaxInt},
    {"max_leases_per_client", &PoolLimits::max_leases_per_client, 1, kMaxInt},
    {"acquire_timeout_ms", &PoolLimits::acquire_timeout_ms, 0, kMaxDurationMs},
    {"lease_timeout_ms", &PoolLimits::lease_timeout_ms, 1, kMaxDurationMs},
    {"leak_warn_ms", &PoolLimits::leak_warn_ms, 0, kMaxDurationMs},
    {"max_lifetime_ms", &PoolLimits::max_lifetime_ms, 1, kMaxDurationMs},
    {"idle_timeout_ms", &PoolLimits::idle_timeout_ms, 1, kMaxDurationMs},
    {"statement_timeout_ms", &PoolLimits::statement_timeout_ms, 0, kMaxDurationMs},
    // sqlite3_busy_timeout() takes an int.
    {"busy_timeout_ms", &PoolLimits::busy_timeout_ms, 0, kMaxInt},
    // SQLite counts WAL frames in an int.
    {"checkpoint_frames", &PoolLimits::checkpoint_frames, 1, kMaxInt},
    {"checkpoint_idle_ms", &PoolLimits::checkpoint_idle_ms, 10, kMaxDurationMs},
    {"wal_truncate_bytes", &PoolLimits::wal_truncate_bytes, 0, kNoLimit},
};

constexpr std::string_view kClientPragmas = "client_pragmas";

}  // namespace

const std::vector<std::string_view>& PoolLimitKeys() {
  static const std::vector<std::string_view>* const keys = [] {
    auto* names = new std::vector<std::string_view>;
    for (const IntKey& key : kIntKeys) names->push_back(key.name);
    names->push_back(kClientPragmas);
    return names;
  }();
  return *keys;
}

void ReadPoolLimits(ObjectReader* reader, PoolLimits* limits) {
  for (const IntKey& key : kIntKeys) {
    std::visit([&](auto field) { reader->Int(key.name, key.min, key.max, &(limits->*field)); },
               key.field);
  }
  std::vector<std::string> pragmas = limits->client_pragmas;
  reader->StringList(kClientPragmas, &pragmas);
  for (size_t i = 0; i < pragmas.size() && reader->ok(); ++i) {
    if (!IsPragmaName(pragmas[i])) {
      reader->Fail(std::string(kClientPragmas) + "[" + std::to_string(i) + "]",
                   "expected a PRAGMA name ([A-Za-z_][A-Za-z0-9_]*), got " + Quote(pragmas[i]));
    }
    pragmas[i] = LowerAscii(pragmas[i]);
  }
  if (reader->ok()) limits->client_pragmas = std::move(pragmas);
}

void CheckPoolShape(ObjectReader* reader, const PoolLimits& limits) {
  // Both are at most INT_MAX, so the sum fits in int64_t.
  int64_t size = int64_t{limits.max_writers} + limits.max_readers;
  if (size < 1) {
    reader->Fail("max_readers", "max_writers + max_readers must be >= 1, got 0");
  } else if (limits.min_idle > size) {
    reader->Fail("min_idle", "must be <= max_writers + max_readers (" + std::to_string(size) +
                                 "), got " + std::to_string(limits.min_idle));
  }
}

}  // namespace litepool::config::internal
