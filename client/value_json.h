// Conversion between client Values and their JSON form on the wire (docs/protocol.md).
#pragma once

#include <nlohmann/json.hpp>

#include "litepool/client_result.h"
#include "litepool/client_value.h"

namespace litepool::client::internal {

// null, integer, float, string or {"$blob": base64}. "bad_request" for a
// NaN or an infinity, which JSON cannot carry (nlohmann would write null).
Result<nlohmann::json> ValueToJson(const Value& value);

// A JSON array for positional parameters, an object for named ones.
Result<nlohmann::json> ParamsToJson(const Params& params);

// The inverse of ValueToJson; false if `json` is none of the five forms.
bool ValueFromJson(const nlohmann::json& json, Value* value);

}  // namespace litepool::client::internal
