// The request decoder litepool used before server/json_reader.h: nlohmann::json
// building a DOM. Kept only as a test oracle for the new decoder.
#include "fuzz/reference_decoder.h"

#include <nlohmann/json.hpp>

#include "wire/base64.h"
#include "wire/lease_id.h"

namespace litepool::fuzz {
namespace {

using server::Op;
using server::Request;

using json = nlohmann::json;

constexpr size_t kMaxTagBytes = 128;

// The DOM parser, plus one check it lacks: an integer literal too large for
// 64 bits would otherwise silently become a double.
struct IntegerCheckingParser : nlohmann::detail::json_sax_dom_parser<json> {
  explicit IntegerCheckingParser(json& out)
      : nlohmann::detail::json_sax_dom_parser<json>(out, /*allow_exceptions=*/false) {}
  bool number_float(double value, const std::string& text) {
    if (text.find_first_of(".eE") == std::string::npos) out_of_range = true;
    return nlohmann::detail::json_sax_dom_parser<json>::number_float(value, text);
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }
  bool out_of_range = false;
};

Status Bad(std::string message) { return Status(Code::kBadRequest, std::move(message)); }

struct OpName {
  const char* name;
  Op op;
};
constexpr OpName kOps[] = {
    {"hello", Op::kHello},     {"ping", Op::kPing},   {"acquire", Op::kAcquire},
    {"query", Op::kQuery},     {"exec", Op::kExec},   {"release", Op::kRelease},
    {"stats", Op::kStats},     {"leases", Op::kLeases}, {"backup", Op::kBackup},
};

Status ToValue(const json& j, const std::string& where, Value* out) {
  switch (j.type()) {
    case json::value_t::null: *out = std::monostate{}; return Status();
    case json::value_t::boolean: *out = int64_t{j.get<bool>() ? 1 : 0}; return Status();
    case json::value_t::number_integer: *out = j.get<int64_t>(); return Status();
    case json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Bad(where + ": integer out of 64-bit range");
      *out = static_cast<int64_t>(u);
      return Status();
    }
    case json::value_t::number_float: *out = j.get<double>(); return Status();
    case json::value_t::string: *out = j.get<std::string>(); return Status();
    case json::value_t::object: {
      auto it = j.find("$blob");
      if (j.size() != 1 || it == j.end() || !it->is_string()) {
        return Bad(where + ": an object value must be {\"$blob\": \"<base64>\"}");
      }
      Blob blob;
      if (!wire::Base64Decode(it->get_ref<const std::string&>(), &blob.bytes)) {
        return Bad(where + ": $blob is not valid base64");
      }
      *out = std::move(blob);
      return Status();
    }
    default:
      return Bad(where + ": arrays are not SQL values");
  }
}

Status ReadParams(const json& j, Params* out) {
  if (j.is_array()) {
    out->named = false;
    out->positional.resize(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
      Status st = ToValue(j[i], "params[" + std::to_string(i) + "]", &out->positional[i]);
      if (!st.ok()) return st;
    }
    return Status();
  }
  if (j.is_object()) {
    out->named = true;
    for (const auto& [key, value] : j.items()) {
      out->by_name.emplace_back(key, Value{});
      Status st = ToValue(value, "params." + key, &out->by_name.back().second);
      if (!st.ok()) return st;
    }
    return Status();
  }
  if (j.is_null()) return Status();
  return Bad("params: expected an array or an object");
}

Status ReadString(const json& req, const char* key, bool required, std::string* out) {
  auto it = req.find(key);
  if (it == req.end() || (it->is_null() && !required)) {
    return required ? Bad(std::string(key) + ": missing") : Status();
  }
  if (!it->is_string()) return Bad(std::string(key) + ": expected a string");
  *out = it->get<std::string>();
  return Status();
}

Status ReadMillis(const json& req, const char* key, std::optional<int64_t>* out) {
  auto it = req.find(key);
  if (it == req.end() || it->is_null()) return Status();
  if (!it->is_number_integer() || it->get<int64_t>() < 0) {
    return Bad(std::string(key) + ": expected a non-negative integer of milliseconds");
  }
  *out = it->get<int64_t>();
  return Status();
}

Status ReadMode(const json& req, Request* out, bool one_shot) {
  std::string mode = "write";
  Status st = ReadString(req, "mode", false, &mode);
  if (!st.ok()) return st;
  if (mode == "auto" && one_shot) {
    out->auto_mode = true;
    out->mode = out->op == Op::kQuery ? Mode::kRead : Mode::kWrite;
  } else if (mode == "write") {
    out->mode = Mode::kWrite;
  } else if (mode == "read") {
    out->mode = Mode::kRead;
  } else {
    return Bad(one_shot ? "mode: expected \"write\", \"read\" or \"auto\""
                        : "mode: expected \"write\" or \"read\" (auto is for one-shots)");
  }
  return Status();
}

Status ReadDeclTypes(const json& req, Request* out) {
  auto it = req.find("decltypes");
  if (it == req.end() || it->is_null()) return Status();
  if (!it->is_boolean()) return Bad("decltypes: expected true or false");
  out->decltypes = it->get<bool>();
  return Status();
}

Status ReadTarget(const json& req, Request* out) {
  bool has_lease = req.contains("lease") && !req["lease"].is_null();
  bool has_db = req.contains("db") && !req["db"].is_null();
  if (has_lease == has_db) return Bad("give either lease or db");
  if (has_db) {
    Status st = ReadString(req, "db", true, &out->db);
    if (st.ok()) st = ReadMode(req, out, true);
    return st;
  }
  std::string lease;
  Status st = ReadString(req, "lease", true, &lease);
  if (!st.ok()) return st;
  out->has_lease = true;
  out->lease_well_formed = wire::ParseLeaseId(lease, &out->lease);
  return Status();
}

Status DecodeOp(const json& req, Request* out) {
  Status st;
  switch (out->op) {
    case Op::kHello:
    case Op::kPing:
    case Op::kStats:
    case Op::kLeases:
      return Status();
    case Op::kAcquire:
      st = ReadString(req, "db", true, &out->db);
      if (st.ok()) st = ReadMode(req, out, false);
      if (st.ok()) st = ReadMillis(req, "wait_ms", &out->wait_ms);
      if (st.ok()) st = ReadMillis(req, "lease_ms", &out->lease_ms);
      if (st.ok()) st = ReadString(req, "tag", false, &out->tag);
      if (st.ok() && out->tag.size() > kMaxTagBytes) st = Bad("tag: longer than 128 bytes");
      return st;
    case Op::kQuery:
    case Op::kExec:
      st = ReadTarget(req, out);
      if (st.ok()) st = ReadString(req, "sql", true, &out->sql);
      if (st.ok()) st = ReadString(req, "tag", false, &out->tag);
      if (st.ok() && out->tag.size() > kMaxTagBytes) st = Bad("tag: longer than 128 bytes");
      if (st.ok() && out->op == Op::kQuery) st = ReadDeclTypes(req, out);
      if (st.ok() && req.contains("params")) {
        if (out->op == Op::kExec) return Bad("params: exec takes no parameters; use query");
        st = ReadParams(req["params"], &out->params);
      }
      return st;
    case Op::kRelease: {
      std::string lease;
      st = ReadString(req, "lease", true, &lease);
      if (!st.ok()) return st;
      out->has_lease = true;
      out->lease_well_formed = wire::ParseLeaseId(lease, &out->lease);
      return Status();
    }
    case Op::kBackup:
      st = ReadString(req, "db", true, &out->db);
      if (st.ok()) st = ReadString(req, "file", true, &out->file);
      return st;
  }
  return Status();
}

}  // namespace

Status ReferenceDecodeRequest(std::string_view line, Request* out) {
  json req;
  IntegerCheckingParser sax(req);
  if (!json::sax_parse(line.begin(), line.end(), &sax)) return Bad("the line is not valid JSON");
  // Since the fast decoder: the id is echoed even when an integer elsewhere
  // is out of range (the request fuzzer found it missing).
  if (req.is_object()) {
    if (auto id = req.find("id"); id != req.end()) {
      out->id_json = id->dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  if (sax.out_of_range) return Bad("an integer is out of the signed 64-bit range");
  if (!req.is_object()) return Bad("a request is a JSON object");
  auto op = req.find("op");
  if (op == req.end()) return Bad("op: missing");
  if (!op->is_string()) return Bad("op: expected a string");
  const std::string& name = op->get_ref<const std::string&>();
  bool known = false;
  for (const OpName& o : kOps) {
    if (name == o.name) {
      out->op = o.op;
      known = true;
      break;
    }
  }
  if (!known) return Status(Code::kUnknownOp, "unknown op: " + name.substr(0, 64));
  return DecodeOp(req, out);
}

}  // namespace litepool::fuzz
