// Strict JSON parsing of configuration text. Internal to config/.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace litepool::config::internal {

// Keys keep the order of the file, so that pragmas are applied in the order
// they are written and "the first error" means the first in the file.
using Json = nlohmann::ordered_json;

// Parses `text` as exactly one JSON value. Besides malformed text it refuses
// a key repeated within one object, which nlohmann would accept by silently
// keeping the later value. On failure returns nullopt and sets *error to
// "invalid JSON at byte N (line L, column C): ..." or
// "<dotted.key>: duplicate key". Never throws on bad input.
std::optional<Json> ParseStrict(std::string_view text, std::string* error);

}  // namespace litepool::config::internal
