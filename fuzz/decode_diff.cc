#include "fuzz/decode_diff.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <variant>

#include "fuzz/reference_decoder.h"
#include "server/json_reader.h"
#include "server/request.h"
#include "wire/error_code.h"

namespace litepool::fuzz {
namespace {

using server::Request;

struct Decoded {
  Status status;
  Request request;
};

Decoded DecodeNew(std::string_view line) {
  Decoded d;
  d.status = server::DecodeRequest(line, &d.request);
  return d;
}

Decoded DecodeOld(std::string_view line) {
  Decoded d;
  d.status = ReferenceDecodeRequest(line, &d.request);
  return d;
}

// The deepest nesting of brackets outside strings, up to the first NUL byte
// (where both decoders stop reading); for a line that is not JSON, of the
// brackets before it goes wrong at least.
int Depth(std::string_view line) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < line.size() && line[i] != '\0'; ++i) {
    char c = line[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped byte
      in_string = c != '"';
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// Doubles bit for bit, so that -0.0 and 0.0 differ.
bool SameValue(const Value& a, const Value& b) {
  if (a.index() != b.index()) return false;
  if (const double* x = std::get_if<double>(&a)) {
    return std::bit_cast<uint64_t>(*x) == std::bit_cast<uint64_t>(std::get<double>(b));
  }
  return a == b;
}

bool SameParams(const Params& a, const Params& b) {
  if (a.named != b.named || a.positional.size() != b.positional.size() ||
      a.by_name.size() != b.by_name.size()) {
    return false;
  }
  for (size_t i = 0; i < a.positional.size(); ++i) {
    if (!SameValue(a.positional[i], b.positional[i])) return false;
  }
  for (size_t i = 0; i < a.by_name.size(); ++i) {
    if (a.by_name[i].first != b.by_name[i].first ||
        !SameValue(a.by_name[i].second, b.by_name[i].second)) {
      return false;
    }
  }
  return true;
}

// The echoes may be written differently (the reference re-serializes, the
// new decoder strips white space), never mean something different. The new
// one must be JSON on one line.
bool SameId(const std::string& old_id, const std::string& new_id) {
  if (old_id.empty() || new_id.empty()) return old_id.empty() && new_id.empty();
  if (new_id.find_first_of("\r\n") != std::string::npos) return false;
  auto a = nlohmann::json::parse(old_id, nullptr, false);
  auto b = nlohmann::json::parse(new_id, nullptr, false);
  return !a.is_discarded() && !b.is_discarded() && a == b;
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string CompareFields(const Request& a, const Request& b) {
  if (a.op != b.op) return "op";
  if (a.db != b.db) return "db: " + Quote(a.db) + " vs " + Quote(b.db);
  if (a.mode != b.mode || a.auto_mode != b.auto_mode) return "mode";
  if (a.decltypes != b.decltypes) return "decltypes";
  if (a.wait_ms != b.wait_ms) return "wait_ms";
  if (a.lease_ms != b.lease_ms) return "lease_ms";
  if (a.tag != b.tag) return "tag: " + Quote(a.tag) + " vs " + Quote(b.tag);
  if (a.has_lease != b.has_lease || a.lease != b.lease ||
      a.lease_well_formed != b.lease_well_formed) {
    return "lease";
  }
  if (a.sql != b.sql) return "sql: " + Quote(a.sql) + " vs " + Quote(b.sql);
  if (a.file != b.file) return "file: " + Quote(a.file) + " vs " + Quote(b.file);
  if (!SameParams(a.params, b.params)) return "params";
  return "";
}

// What the reference decoder answered (old) against the new one (now).
std::string Compare(const Decoded& old, const Decoded& now) {
  if (old.status.code() != now.status.code() || old.status.message() != now.status.message()) {
    return std::string("status: ") + wire::CodeName(old.status.code()) + " " +
           Quote(old.status.message()) + " vs " + wire::CodeName(now.status.code()) + " " +
           Quote(now.status.message());
  }
  if (!SameId(old.request.id_json, now.request.id_json)) {
    return "id: " + old.request.id_json + " vs " + now.request.id_json;
  }
  return old.status.ok() ? CompareFields(old.request, now.request) : "";
}

}  // namespace

std::string DecodeDifference(std::string_view line) {
  Decoded now = DecodeNew(line);
  if (Depth(line) > server::JsonReader::kMaxDepth) {
    return now.status.code() == Code::kBadRequest ? "" : "a line nested too deep was accepted";
  }
  return Compare(DecodeOld(line), now);
}

}  // namespace litepool::fuzz
