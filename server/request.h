// Decoding of one request line (docs/protocol.md) into a typed Request. Every way a
// line can be wrong ends here as bad_request, unknown_op or request-level
// errors with a message naming the field; nothing downstream sees JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "pool/lease_table.h"
#include "pool/pool_events.h"
#include "pool/value.h"

namespace litepool::server {

enum class Op { kHello, kPing, kAcquire, kQuery, kExec, kRelease, kStats, kLeases, kBackup };

struct Request {
  Op op = Op::kPing;
  std::string id_json;  // the request's `id`, re-serialized; empty when absent
  std::string db;
  Mode mode = Mode::kWrite;
  bool auto_mode = false;  // a one-shot in mode auto: `mode` is where it starts
  bool decltypes = false;  // query: the reply lists each column's declared type
  std::optional<int64_t> wait_ms;
  std::optional<int64_t> lease_ms;
  std::string tag;
  bool has_lease = false;
  LeaseId lease = 0;
  bool lease_well_formed = false;  // false: answers unknown_lease, never bad_request
  std::string sql;
  Params params;
  std::string file;  // backup: where the copy lands, inside backup_dir
};

// Parses `line`. On failure the returned status is the error to answer and
// *out->id_json is still filled when the id could be read, so the error
// reply carries it.
Status DecodeRequest(std::string_view line, Request* out);

}  // namespace litepool::server
