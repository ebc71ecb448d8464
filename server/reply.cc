// Reply serialization.
#include "server/reply.h"

#include <charconv>
#include <cmath>

#include "wire/base64.h"
#include "wire/error_code.h"
#include "wire/json_escape.h"

namespace litepool::server {

ReplyWriter::ReplyWriter(std::string* out, std::string_view id_json) : out_(out) {
  out_->push_back('{');
  if (!id_json.empty()) {
    out_->append("\"id\":").append(id_json).push_back(',');
  }
  out_->append("\"ok\":true");
}

void ReplyWriter::Separate() {
  if (need_comma_) out_->push_back(',');
  need_comma_ = true;
}

ReplyWriter& ReplyWriter::Key(std::string_view key) {
  Separate();
  out_->push_back('"');
  wire::AppendJsonEscaped(key, out_);
  out_->append("\":");
  need_comma_ = false;
  return *this;
}

ReplyWriter& ReplyWriter::String(std::string_view s) {
  Separate();
  out_->push_back('"');
  wire::AppendJsonEscaped(s, out_);
  out_->push_back('"');
  return *this;
}

ReplyWriter& ReplyWriter::Int(int64_t v) {
  Separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_->append(buf, r.ptr);
  return *this;
}

ReplyWriter& ReplyWriter::Double(double v) {
  Separate();
  if (!std::isfinite(v)) {
    // JSON has no infinity or NaN; SQLite stores no NaN (it becomes NULL).
    out_->append("null");
    return *this;
  }
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view text(buf, r.ptr - buf);
  out_->append(text);
  // "2" would come back as an INTEGER: keep it a float.
  if (text.find_first_of(".e") == std::string_view::npos) out_->append(".0");
  return *this;
}

ReplyWriter& ReplyWriter::Bool(bool v) {
  Separate();
  out_->append(v ? "true" : "false");
  return *this;
}

ReplyWriter& ReplyWriter::Null() {
  Separate();
  out_->append("null");
  return *this;
}

ReplyWriter& ReplyWriter::Cell(const ValueView& v) {
  switch (v.type) {
    case ValueType::kNull:
      return Null();
    case ValueType::kInteger:
      return Int(v.integer);
    case ValueType::kReal:
      return Double(v.real);
    case ValueType::kText:
      return String(v.bytes);
    case ValueType::kBlob:
      Separate();
      out_->append("{\"$blob\":\"");
      wire::Base64Encode(v.bytes, out_);
      out_->append("\"}");
      return *this;
  }
  return Null();
}

ReplyWriter& ReplyWriter::BeginArray() {
  Separate();
  out_->push_back('[');
  need_comma_ = false;
  return *this;
}

ReplyWriter& ReplyWriter::EndArray() {
  out_->push_back(']');
  need_comma_ = true;
  return *this;
}

ReplyWriter& ReplyWriter::BeginObject() {
  Separate();
  out_->push_back('{');
  need_comma_ = false;
  return *this;
}

ReplyWriter& ReplyWriter::EndObject() {
  out_->push_back('}');
  need_comma_ = true;
  return *this;
}

void ReplyWriter::Finish() { out_->append("}\n"); }

std::string ErrorReply(std::string_view id_json, const Status& status) {
  std::string out;
  out.reserve(96 + status.message().size());
  out.push_back('{');
  if (!id_json.empty()) out.append("\"id\":").append(id_json).push_back(',');
  out.append("\"ok\":false,\"error\":{\"code\":\"").append(wire::CodeName(status.code()));
  out.append("\",\"message\":\"");
  wire::AppendJsonEscaped(status.message(), &out);
  out.push_back('"');
  if (status.code() == Code::kSqlError || status.sqlite_code() != 0) {
    out.append(",\"sqlite_code\":").append(std::to_string(status.sqlite_code()));
  }
  out.append("}}\n");
  return out;
}

}  // namespace litepool::server
