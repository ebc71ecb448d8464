// Request decoding in one pass over the line (server/json_reader.h), without
// a DOM, after one pass for the encoding. The fields are gathered first and
// checked after the whole line has been validated, in a fixed order, so
// that which error a bad request gets does not depend on the order of its
// keys. The grammar and that order are docs/protocol.md, "Request lines";
// tests/vectors/request_lines.json holds the decoder to them.
#include "server/request.h"

#include <algorithm>
#include <numeric>
#include <utility>
#include <vector>

#include "server/json_reader.h"
#include "wire/base64.h"
#include "wire/lease_id.h"

namespace litepool::server {
namespace {

constexpr size_t kMaxTagBytes = 128;

Status Bad(std::string message) { return Status(Code::kBadRequest, std::move(message)); }

struct OpName {
  std::string_view name;
  Op op;
};
constexpr OpName kOps[] = {
    {"hello", Op::kHello}, {"ping", Op::kPing},     {"acquire", Op::kAcquire},
    {"query", Op::kQuery}, {"exec", Op::kExec},     {"release", Op::kRelease},
    {"stats", Op::kStats}, {"leases", Op::kLeases}, {"backup", Op::kBackup},
};

// A top-level member as last seen on the line (of duplicate keys the last
// wins, as JSON parsers commonly do). Strings and numbers keep their value;
// other values only their type, which is all a check needs of them.
struct Member {
  bool present = false;
  JsonType type = JsonType::kNull;
  JsonString text;
  JsonNumber number;
  bool boolean = false;

  bool given() const { return present && type != JsonType::kNull; }
};

// Why a parameter value is refused. Only recorded while reading: the
// message is built if the request gets as far as its parameters.
enum class ValueError : uint8_t { kNone, kArray, kNotBlob, kBadBase64 };

Status ValueStatus(std::string where, ValueError error) {
  switch (error) {
    case ValueError::kNone:
      break;
    case ValueError::kArray:
      return Bad(where + ": arrays are not SQL values");
    case ValueError::kNotBlob:
      return Bad(where + ": an object value must be {\"$blob\": \"<base64>\"}");
    case ValueError::kBadBase64:
      return Bad(where + ": $blob is not valid base64");
  }
  return Status();
}

// Named parameters as a JSON object holds them: sorted by name, the last of
// duplicate names winning. Binding needs the latter (a duplicate would be an
// extra parameter); which bad parameter a request reports follows the
// former. `errors` is empty or parallel to `items`.
void SortByName(std::vector<std::pair<std::string, Value>>* items,
                std::vector<ValueError>* errors) {
  auto& v = *items;
  auto not_ascending = [](const auto& a, const auto& b) { return !(a.first < b.first); };
  if (std::adjacent_find(v.begin(), v.end(), not_ascending) == v.end()) return;
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&v](size_t a, size_t b) { return v[a].first < v[b].first; });
  std::vector<std::pair<std::string, Value>> sorted;
  std::vector<ValueError> sorted_errors;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i + 1 < order.size() && v[order[i]].first == v[order[i + 1]].first) continue;
    sorted.push_back(std::move(v[order[i]]));
    if (!errors->empty()) sorted_errors.push_back((*errors)[order[i]]);
  }
  *items = std::move(sorted);
  *errors = std::move(sorted_errors);
}

// Decodes one line. Owns the reader over the line and what it gathers until
// the checks run: views into the line for the top-level members, and the
// parameters, which are decoded while read and handed to the Request last.
class RequestParser {
 public:
  explicit RequestParser(std::string_view line) : line_(line), reader_(line) {}

  Status Decode(Request* out);

 private:
  bool ReadRequest();
  bool ReadMember(std::string_view key);
  Member* Find(std::string_view key);
  bool ReadField(Member* member);
  bool ReadParams();
  bool ReadPositional();
  bool ReadNamed();
  bool ReadValue(Value* value, ValueError* error);
  bool ReadNumber(Value* value, ValueError* error);
  bool ReadBlob(Value* value, ValueError* error);

  Status CheckOp(Request* out);
  Status CheckFields(Request* out);
  Status CheckString(const Member& m, const char* key, bool required, std::string* out);
  Status CheckMillis(const Member& m, const char* key, std::optional<int64_t>* out);
  Status CheckMode(Request* out, bool one_shot);
  Status CheckDeclTypes(Request* out);
  Status CheckTag(Request* out);
  Status CheckLease(Request* out);
  Status CheckTarget(Request* out);
  Status TakeParams(Params* out);

  std::string_view line_;
  JsonReader reader_;
  Member op_, db_, mode_, wait_ms_, lease_ms_, tag_, lease_, sql_, decltypes_, file_;
  bool has_id_ = false;
  std::string_view id_;
  Member params_;  // its presence and type; the values are in params_value_
  Params params_value_;
  ValueError positional_error_ = ValueError::kNone;  // the first one
  size_t positional_error_at_ = 0;
  std::vector<ValueError> named_errors_;  // empty until a named value is bad
  std::string scratch_;                   // keys and field values that had escapes, decoded
};

// Why the reader stopped, as the reply says it (docs/protocol.md, "Request
// lines").
Status ReaderStatus(JsonReader::Error error) {
  switch (error) {
    case JsonReader::Error::kNone:
      break;
    case JsonReader::Error::kSyntax:
      return Bad("the line is not valid JSON");
    case JsonReader::Error::kTooDeep:
      return Bad("the line nests deeper than " + std::to_string(JsonReader::kMaxDepth) + " levels");
    case JsonReader::Error::kLoneSurrogate:
      return Bad("a \\u escape is a lone surrogate");
    case JsonReader::Error::kHugeNumber:
      return Bad("a number is too large for a double");
    case JsonReader::Error::kTrailing:
      return Bad("the line goes on after its JSON value");
  }
  return Status();
}

Status RequestParser::Decode(Request* out) {
  // The encoding first, over the whole line: a request is UTF-8 text, and a
  // NUL byte ends nothing (docs/protocol.md, "Request lines").
  bool nul = false;
  size_t bad = FindBadByte(line_, &nul);
  if (bad != std::string_view::npos) {
    return Bad(std::string(nul ? "the line holds a NUL byte" : "the line is not valid UTF-8") +
               " (at byte " + std::to_string(bad) + ")");
  }
  JsonType type = JsonType::kNull;
  bool is_object = reader_.Peek(&type) && type == JsonType::kObject;
  if (is_object ? ReadRequest() : reader_.SkipValue()) reader_.Finish();
  if (!reader_.ok()) return ReaderStatus(reader_.error());
  // The line is valid JSON: whatever is wrong with it, the reply carries its id.
  if (is_object && has_id_) AppendCompact(id_, &out->id_json);
  if (reader_.saw_out_of_range()) return Bad("an integer is out of the signed 64-bit range");
  if (!is_object) return Bad("a request is a JSON object");
  Status st = CheckOp(out);
  return st.ok() ? CheckFields(out) : st;
}

bool RequestParser::ReadRequest() {
  JsonString key;
  if (!reader_.BeginObject()) return false;
  while (reader_.NextMember(&key)) {
    if (!ReadMember(Unescaped(key, &scratch_))) return false;
  }
  return reader_.ok();
}

// Unknown keys are skipped, yet validated like the rest of the line.
bool RequestParser::ReadMember(std::string_view key) {
  if (key == "id") {
    has_id_ = true;
    return reader_.SkipValue(&id_);
  }
  if (key == "params") return ReadParams();
  Member* member = Find(key);
  return member != nullptr ? ReadField(member) : reader_.SkipValue();
}

Member* RequestParser::Find(std::string_view key) {
  if (key == "op") return &op_;
  if (key == "db") return &db_;
  if (key == "sql") return &sql_;
  if (key == "lease") return &lease_;
  if (key == "mode") return &mode_;
  if (key == "tag") return &tag_;
  if (key == "wait_ms") return &wait_ms_;
  if (key == "lease_ms") return &lease_ms_;
  if (key == "decltypes") return &decltypes_;
  if (key == "file") return &file_;
  return nullptr;
}

bool RequestParser::ReadField(Member* member) {
  *member = Member{};
  member->present = true;
  if (!reader_.Peek(&member->type)) return false;
  switch (member->type) {
    case JsonType::kString:
      return reader_.ReadString(&member->text);
    case JsonType::kNumber:
      return reader_.ReadNumber(&member->number);
    case JsonType::kBool:
      return reader_.ReadBool(&member->boolean);
    default:
      return reader_.SkipValue();
  }
}

bool RequestParser::ReadParams() {
  params_ = Member{};
  params_.present = true;
  params_value_ = Params{};
  positional_error_ = ValueError::kNone;
  named_errors_.clear();
  if (!reader_.Peek(&params_.type)) return false;
  switch (params_.type) {
    case JsonType::kArray:
      return ReadPositional();
    case JsonType::kObject:
      return ReadNamed();
    default:
      return reader_.SkipValue();
  }
}

bool RequestParser::ReadPositional() {
  std::vector<Value>& values = params_value_.positional;
  if (!reader_.BeginArray()) return false;
  while (reader_.NextElement()) {
    ValueError error = ValueError::kNone;
    if (!ReadValue(&values.emplace_back(), &error)) return false;
    if (error != ValueError::kNone && positional_error_ == ValueError::kNone) {
      positional_error_ = error;
      positional_error_at_ = values.size() - 1;
    }
  }
  return reader_.ok();
}

bool RequestParser::ReadNamed() {
  auto& values = params_value_.by_name;
  params_value_.named = true;
  JsonString key;
  if (!reader_.BeginObject()) return false;
  while (reader_.NextMember(&key)) {
    auto& [name, value] = values.emplace_back();
    AppendUnescaped(key, &name);
    ValueError error = ValueError::kNone;
    if (!ReadValue(&value, &error)) return false;
    if (error != ValueError::kNone) {
      named_errors_.resize(values.size());
      named_errors_.back() = error;
    }
  }
  if (!named_errors_.empty()) named_errors_.resize(values.size());
  return reader_.ok();
}

// null, true/false (as 1/0), a number, a string or a BLOB object.
bool RequestParser::ReadValue(Value* value, ValueError* error) {
  JsonType type;
  if (!reader_.Peek(&type)) return false;
  switch (type) {
    case JsonType::kNull:
      return reader_.ReadNull();
    case JsonType::kBool: {
      bool b = false;
      if (!reader_.ReadBool(&b)) return false;
      *value = int64_t{b ? 1 : 0};
      return true;
    }
    case JsonType::kNumber:
      return ReadNumber(value, error);
    case JsonType::kString: {
      JsonString text;
      if (!reader_.ReadString(&text)) return false;
      AppendUnescaped(text, &value->emplace<std::string>());
      return true;
    }
    case JsonType::kArray:
      *error = ValueError::kArray;
      return reader_.SkipValue();
    case JsonType::kObject:
      return ReadBlob(value, error);
  }
  return false;
}

bool RequestParser::ReadNumber(Value* value, ValueError* error) {
  JsonNumber number;
  if (!reader_.ReadNumber(&number)) return false;
  switch (number.kind) {
    case JsonNumber::Kind::kInteger:
      *value = number.integer;
      break;
    case JsonNumber::Kind::kReal:
      *value = number.real;
      break;
    case JsonNumber::Kind::kOutOfRange:
      break;  // the whole line is refused
  }
  return true;
}

// {"$blob": "<base64>"}. With duplicate keys the last one counts, so every
// key must be "$blob" and the last value a string.
bool RequestParser::ReadBlob(Value* value, ValueError* error) {
  bool any = false, only_blob = true, last_is_string = false;
  JsonString key, text;
  if (!reader_.BeginObject()) return false;
  while (reader_.NextMember(&key)) {
    any = true;
    if (Unescaped(key, &scratch_) != "$blob") only_blob = false;
    JsonType type;
    if (!reader_.Peek(&type)) return false;
    last_is_string = type == JsonType::kString;
    if (!(last_is_string ? reader_.ReadString(&text) : reader_.SkipValue())) return false;
  }
  if (!reader_.ok()) return false;
  if (!any || !only_blob || !last_is_string) {
    *error = ValueError::kNotBlob;
    return true;
  }
  Blob blob;
  if (!wire::Base64Decode(Unescaped(text, &scratch_), &blob.bytes)) {
    *error = ValueError::kBadBase64;
    return true;
  }
  *value = std::move(blob);
  return true;
}

Status RequestParser::CheckOp(Request* out) {
  if (!op_.present) return Bad("op: missing");
  if (op_.type != JsonType::kString) return Bad("op: expected a string");
  std::string_view name = Unescaped(op_.text, &scratch_);
  for (const OpName& o : kOps) {
    if (name == o.name) {
      out->op = o.op;
      return Status();
    }
  }
  return Status(Code::kUnknownOp, "unknown op: " + std::string(name.substr(0, 64)));
}

Status RequestParser::CheckString(const Member& m, const char* key, bool required,
                                  std::string* out) {
  if (!m.present || (m.type == JsonType::kNull && !required)) {
    return required ? Bad(std::string(key) + ": missing") : Status();
  }
  if (m.type != JsonType::kString) return Bad(std::string(key) + ": expected a string");
  out->clear();
  AppendUnescaped(m.text, out);
  return Status();
}

Status RequestParser::CheckMillis(const Member& m, const char* key, std::optional<int64_t>* out) {
  if (!m.given()) return Status();
  if (m.type != JsonType::kNumber || m.number.kind != JsonNumber::Kind::kInteger ||
      m.number.integer < 0) {
    return Bad(std::string(key) + ": expected a non-negative integer of milliseconds");
  }
  *out = m.number.integer;
  return Status();
}

// `auto` (docs/protocol.md, "One-shot"): a one-shot query starts on a read
// handle and moves to the writer if its statement writes; exec runs on the
// writer.
Status RequestParser::CheckMode(Request* out, bool one_shot) {
  out->mode = Mode::kWrite;
  if (!mode_.given()) return Status();
  if (mode_.type != JsonType::kString) return Bad("mode: expected a string");
  std::string_view mode = Unescaped(mode_.text, &scratch_);
  if (mode == "auto" && one_shot) {
    out->auto_mode = true;
    out->mode = out->op == Op::kQuery ? Mode::kRead : Mode::kWrite;
    return Status();
  }
  if (mode != "write" && mode != "read") {
    return Bad(one_shot ? "mode: expected \"write\", \"read\" or \"auto\""
                        : "mode: expected \"write\" or \"read\" (auto is for one-shots)");
  }
  out->mode = mode == "read" ? Mode::kRead : Mode::kWrite;
  return Status();
}

Status RequestParser::CheckDeclTypes(Request* out) {
  if (!decltypes_.given()) return Status();
  if (decltypes_.type != JsonType::kBool) return Bad("decltypes: expected true or false");
  out->decltypes = decltypes_.boolean;
  return Status();
}

Status RequestParser::CheckTag(Request* out) {
  Status st = CheckString(tag_, "tag", false, &out->tag);
  if (st.ok() && out->tag.size() > kMaxTagBytes) st = Bad("tag: longer than 128 bytes");
  return st;
}

// A malformed lease id is not a bad request: it answers unknown_lease.
Status RequestParser::CheckLease(Request* out) {
  if (!lease_.present) return Bad("lease: missing");
  if (lease_.type != JsonType::kString) return Bad("lease: expected a string");
  out->has_lease = true;
  out->lease_well_formed = wire::ParseLeaseId(Unescaped(lease_.text, &scratch_), &out->lease);
  return Status();
}

Status RequestParser::CheckTarget(Request* out) {
  if (lease_.given() == db_.given()) return Bad("give either lease or db");
  if (lease_.given()) return CheckLease(out);
  Status st = CheckString(db_, "db", true, &out->db);
  return st.ok() ? CheckMode(out, true) : st;
}

Status RequestParser::TakeParams(Params* out) {
  switch (params_.type) {
    case JsonType::kNull:
      return Status();
    case JsonType::kArray:
      if (positional_error_ != ValueError::kNone) {
        return ValueStatus("params[" + std::to_string(positional_error_at_) + "]",
                           positional_error_);
      }
      break;
    case JsonType::kObject:
      SortByName(&params_value_.by_name, &named_errors_);
      for (size_t i = 0; i < named_errors_.size(); ++i) {
        if (named_errors_[i] != ValueError::kNone) {
          return ValueStatus("params." + params_value_.by_name[i].first, named_errors_[i]);
        }
      }
      break;
    default:
      return Bad("params: expected an array or an object");
  }
  *out = std::move(params_value_);
  return Status();
}

Status RequestParser::CheckFields(Request* out) {
  Status st;
  switch (out->op) {
    case Op::kHello:
    case Op::kPing:
    case Op::kStats:
    case Op::kLeases:
      return Status();
    case Op::kAcquire:
      st = CheckString(db_, "db", true, &out->db);
      if (st.ok()) st = CheckMode(out, false);
      if (st.ok()) st = CheckMillis(wait_ms_, "wait_ms", &out->wait_ms);
      if (st.ok()) st = CheckMillis(lease_ms_, "lease_ms", &out->lease_ms);
      if (st.ok()) st = CheckTag(out);
      return st;
    case Op::kQuery:
    case Op::kExec:
      st = CheckTarget(out);
      if (st.ok()) st = CheckString(sql_, "sql", true, &out->sql);
      if (st.ok()) st = CheckTag(out);
      if (st.ok() && out->op == Op::kQuery) st = CheckDeclTypes(out);
      if (st.ok() && params_.present) {
        if (out->op == Op::kExec) return Bad("params: exec takes no parameters; use query");
        st = TakeParams(&out->params);
      }
      return st;
    case Op::kRelease:
      return CheckLease(out);
    case Op::kBackup:
      st = CheckString(db_, "db", true, &out->db);
      if (st.ok()) st = CheckString(file_, "file", true, &out->file);
      return st;
  }
  return Status();
}

}  // namespace

Status DecodeRequest(std::string_view line, Request* out) {
  return RequestParser(line).Decode(out);
}

}  // namespace litepool::server
