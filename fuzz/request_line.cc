#include "fuzz/request_line.h"

#include <bit>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <variant>

#include "wire/base64.h"
#include "wire/lease_id.h"

namespace litepool::fuzz {
namespace {

using json = nlohmann::json;
using server::Op;
using server::Request;

const char* OpName(Op op) {
  switch (op) {
    case Op::kHello:
      return "hello";
    case Op::kPing:
      return "ping";
    case Op::kAcquire:
      return "acquire";
    case Op::kQuery:
      return "query";
    case Op::kExec:
      return "exec";
    case Op::kRelease:
      return "release";
    case Op::kStats:
      return "stats";
    case Op::kLeases:
      return "leases";
    case Op::kBackup:
      return "backup";
  }
  return "?";
}

json ValueJson(const Value& v) {
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i;
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const std::string* s = std::get_if<std::string>(&v)) return *s;
  if (const Blob* b = std::get_if<Blob>(&v)) {
    std::string text;
    wire::Base64Encode(b->bytes, &text);
    return json{{"$blob", text}};
  }
  return nullptr;
}

json ParamsJson(const Params& p) {
  if (!p.named) {
    json array = json::array();
    for (const Value& v : p.positional) array.push_back(ValueJson(v));
    return array;
  }
  json object = json::object();
  for (const auto& [name, v] : p.by_name) object[name] = ValueJson(v);
  return object;
}

const char* ModeName(const Request& r) {
  if (r.auto_mode) return "auto";
  return r.mode == Mode::kRead ? "read" : "write";
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

}  // namespace

std::string EncodeRequestLine(const Request& r, bool ascii) {
  json fields = json::object();
  fields["op"] = OpName(r.op);
  switch (r.op) {
    case Op::kAcquire:
      fields["db"] = r.db;
      fields["mode"] = ModeName(r);
      if (r.wait_ms) fields["wait_ms"] = *r.wait_ms;
      if (r.lease_ms) fields["lease_ms"] = *r.lease_ms;
      if (!r.tag.empty()) fields["tag"] = r.tag;
      break;
    case Op::kQuery:
    case Op::kExec:
      if (r.has_lease) {
        fields["lease"] = r.lease_well_formed ? wire::FormatLeaseId(r.lease) : "not-a-lease";
      } else {
        fields["db"] = r.db;
        fields["mode"] = ModeName(r);
      }
      fields["sql"] = r.sql;
      if (!r.tag.empty()) fields["tag"] = r.tag;
      if (r.decltypes) fields["decltypes"] = true;
      if (r.params.named || !r.params.positional.empty()) fields["params"] = ParamsJson(r.params);
      break;
    case Op::kRelease:
      fields["lease"] = r.lease_well_formed ? wire::FormatLeaseId(r.lease) : "not-a-lease";
      break;
    case Op::kBackup:
      fields["db"] = r.db;
      fields["file"] = r.file;
      break;
    default:
      break;
  }
  std::string line = fields.dump(-1, ' ', ascii);
  if (!r.id_json.empty()) line.insert(1, "\"id\":" + r.id_json + ",");
  return line;
}

std::string RequestDifference(const Request& a, const Request& b) {
  if (a.op != b.op) return "op";
  if (a.id_json != b.id_json) return "id: " + a.id_json + " vs " + b.id_json;
  if (a.db != b.db) return "db";
  if (a.mode != b.mode || a.auto_mode != b.auto_mode) return "mode";
  if (a.decltypes != b.decltypes) return "decltypes";
  if (a.wait_ms != b.wait_ms) return "wait_ms";
  if (a.lease_ms != b.lease_ms) return "lease_ms";
  if (a.tag != b.tag) return "tag";
  if (a.has_lease != b.has_lease || a.lease_well_formed != b.lease_well_formed ||
      (a.lease_well_formed && a.lease != b.lease)) {
    return "lease";
  }
  if (a.sql != b.sql) return "sql";
  if (a.file != b.file) return "file";
  if (!SameParams(a.params, b.params)) return "params";
  return "";
}

}  // namespace litepool::fuzz
