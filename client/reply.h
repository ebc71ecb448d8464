// Reading the daemon's reply objects into the client's types.
#pragma once

#include <nlohmann/json.hpp>

#include "litepool/client.h"

namespace litepool::client::internal {

enum class ReplyKind { kOk, kError, kMalformed };

// kOk for {"ok": true}; kError for {"ok": false, "error": {...}} with the
// daemon's error in *error; kMalformed (what is wrong in error->message) for
// anything else.
ReplyKind ClassifyReply(const nlohmann::json& reply, Error* error);

// The fields of a successful reply; an io_error if the daemon's reply does
// not have them.
Result<QueryResult> ParseQueryResult(const nlohmann::json& reply);
Result<HelloInfo> ParseHello(const nlohmann::json& reply);
Result<ExecResult> ParseExecResult(const nlohmann::json& reply);

}  // namespace litepool::client::internal
