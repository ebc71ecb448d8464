// Reply serialization.
#include "server/reply.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "server/base64.h"

namespace litepool::server {
namespace {

// Length of the valid UTF-8 sequence at s[0], or 0 if it is not one.
size_t Utf8Length(const unsigned char* s, size_t left) {
  unsigned char c = s[0];
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (n > left) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

void AppendEscaped(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Copy the longest run that needs no escaping in one append.
    size_t run = i;
    while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\') ++run;
    out->append(s.data() + i, run - i);
    i = run;
    if (i >= n) break;
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t len = Utf8Length(p + i, n - i);
      if (len == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD: the reply must stay valid JSON
        ++i;
      } else {
        out->append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
    ++i;
  }
}

}  // namespace

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
  AppendEscaped(out_, key);
  out_->append("\":");
  need_comma_ = false;
  return *this;
}

ReplyWriter& ReplyWriter::String(std::string_view s) {
  Separate();
  out_->push_back('"');
  AppendEscaped(out_, s);
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
    case ValueType::kNull: return Null();
    case ValueType::kInteger: return Int(v.integer);
    case ValueType::kReal: return Double(v.real);
    case ValueType::kText: return String(v.bytes);
    case ValueType::kBlob:
      Separate();
      out_->append("{\"$blob\":\"");
      Base64Encode(v.bytes, out_);
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
  out.append("\"ok\":false,\"error\":{\"code\":\"").append(CodeName(status.code()));
  out.append("\",\"message\":\"");
  AppendEscaped(&out, status.message());
  out.push_back('"');
  if (status.code() == Code::kSqlError || status.sqlite_code() != 0) {
    out.append(",\"sqlite_code\":").append(std::to_string(status.sqlite_code()));
  }
  out.append("}}\n");
  return out;
}

}  // namespace litepool::server
