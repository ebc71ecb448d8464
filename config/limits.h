// The pool-limit keys (docs/configuration.md) that `defaults` and every database share.
// Internal to config/.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/json_reader.h"

namespace litepool::config::internal {

// Durations stop at a year so that now() + limit cannot overflow a 64-bit
// clock counting nanoseconds (it would near 292 years, sooner once a
// duration in ms is multiplied into ns by code that does not saturate).
constexpr int64_t kMaxDurationMs = 365LL * 24 * 3600 * 1000;

// Every PoolLimits key, for RefuseUnknownKeys.
const std::vector<std::string_view>& PoolLimitKeys();

// Reads the PoolLimits keys present in the reader's object over *limits,
// checking each against its own range.
void ReadPoolLimits(ObjectReader* reader, PoolLimits* limits);

// Rules between keys, checked on a database's limits once `defaults` are
// merged under them (a database may set min_idle and inherit the sizes).
void CheckPoolShape(ObjectReader* reader, const PoolLimits& limits);

}  // namespace litepool::config::internal
