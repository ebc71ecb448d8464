// Reply parsing: tolerant of extra fields, strict about the ones it needs,
// since a reply that lacks them means client and daemon disagree.
#include "client/reply.h"

#include <optional>
#include <string>
#include <vector>

#include "client/value_json.h"

namespace litepool::client::internal {
namespace {

using nlohmann::json;

Error Malformed(const std::string& what) {
  return Error{std::string(kIoError), "malformed reply: " + what, 0};
}

// The member `name` of `object`, or null if it has none (or is no object).
const json* Member(const json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

// An optional integer field; `fallback` when absent.
bool IntField(const json& reply, const char* name, int64_t fallback, int64_t* out) {
  auto it = reply.find(name);
  if (it == reply.end()) {
    *out = fallback;
    return true;
  }
  if (!it->is_number_integer()) return false;
  *out = it->get<int64_t>();
  return true;
}

bool StringList(const json& j, std::vector<std::string>* out) {
  if (!j.is_array()) return false;
  for (const json& item : j) {
    if (!item.is_string()) return false;
    out->push_back(item.get<std::string>());
  }
  return true;
}

// `decltypes`: one string or null per column.
bool DeclTypeList(const json& j, size_t columns, std::vector<std::optional<std::string>>* out) {
  if (!j.is_array() || j.size() != columns) return false;
  for (const json& item : j) {
    if (item.is_null()) {
      out->emplace_back();
    } else if (item.is_string()) {
      out->emplace_back(item.get<std::string>());
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

ReplyKind ClassifyReply(const json& reply, Error* error) {
  const json* ok = Member(reply, "ok");
  if (ok == nullptr || !ok->is_boolean()) {
    error->code = kIoError;
    error->message = "malformed reply: no boolean \"ok\"";
    return ReplyKind::kMalformed;
  }
  if (ok->get<bool>()) return ReplyKind::kOk;
  const json* err = Member(reply, "error");
  const json* code = err != nullptr ? Member(*err, "code") : nullptr;
  if (code == nullptr || !code->is_string()) {
    error->code = kIoError;
    error->message = "malformed reply: \"ok\": false without error.code";
    return ReplyKind::kMalformed;
  }
  error->code = code->get<std::string>();
  const json* message = Member(*err, "message");
  error->message = message != nullptr && message->is_string() ? message->get<std::string>() : "";
  const json* sqlite_code = Member(*err, "sqlite_code");
  error->sqlite_code =
      sqlite_code != nullptr && sqlite_code->is_number_integer() ? sqlite_code->get<int>() : 0;
  return ReplyKind::kError;
}

Result<QueryResult> ParseQueryResult(const json& reply) {
  QueryResult result;
  auto columns = reply.find("columns");
  if (columns == reply.end() || !StringList(*columns, &result.columns)) {
    return Malformed("\"columns\" is not a list of strings");
  }
  // Present only when the request asked for it ("decltypes": true).
  auto decltypes = reply.find("decltypes");
  if (decltypes != reply.end() &&
      !DeclTypeList(*decltypes, result.columns.size(), &result.decltypes)) {
    return Malformed("\"decltypes\" is not one string or null per column");
  }
  auto rows = reply.find("rows");
  if (rows == reply.end() || !rows->is_array()) return Malformed("\"rows\" is not an array");
  result.rows.reserve(rows->size());
  for (const json& row : *rows) {
    if (!row.is_array() || row.size() != result.columns.size()) {
      return Malformed("a row is not an array of one value per column");
    }
    Row& out = result.rows.emplace_back();
    out.reserve(row.size());
    for (const json& cell : row) {
      if (!ValueFromJson(cell, &out.emplace_back())) {
        return Malformed("not a value: " + cell.dump().substr(0, 100));
      }
    }
  }
  if (!IntField(reply, "changes", 0, &result.changes) ||
      !IntField(reply, "last_insert_rowid", 0, &result.last_insert_rowid)) {
    return Malformed("\"changes\" or \"last_insert_rowid\" is not an integer");
  }
  return result;
}

Result<HelloInfo> ParseHello(const json& reply) {
  HelloInfo info;
  int64_t protocol = 0;
  const json* server = Member(reply, "server");
  const json* version = Member(reply, "version");
  const json* databases = Member(reply, "databases");
  if (server == nullptr || !server->is_string() || version == nullptr || !version->is_string() ||
      !IntField(reply, "protocol", 0, &protocol) || databases == nullptr ||
      !StringList(*databases, &info.databases)) {
    return Malformed("hello reply lacks server, version, protocol or databases");
  }
  info.server = server->get<std::string>();
  info.version = version->get<std::string>();
  info.protocol = static_cast<int>(protocol);
  return info;
}

Result<ExecResult> ParseExecResult(const json& reply) {
  ExecResult result;
  if (!IntField(reply, "changes", 0, &result.changes) ||
      !IntField(reply, "last_insert_rowid", 0, &result.last_insert_rowid)) {
    return Malformed("\"changes\" or \"last_insert_rowid\" is not an integer");
  }
  return result;
}

}  // namespace litepool::client::internal
