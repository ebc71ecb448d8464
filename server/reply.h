// Writes reply lines straight into a string, without building a JSON DOM:
// the reply path is the hot path of every request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "pool/value.h"

namespace litepool::server {

// Appends one JSON object. Usage:
//   ReplyWriter w(&line, id_json);   // writes {"id":..,"ok":true
//   w.Key("lease").String(id);       // ,"lease":"..."
//   w.Finish();                      // }\n
// Not thread-safe; one per reply.
class ReplyWriter {
 public:
  ReplyWriter(std::string* out, std::string_view id_json);

  ReplyWriter& Key(std::string_view key);
  ReplyWriter& String(std::string_view s);  // invalid UTF-8 is replaced with U+FFFD
  ReplyWriter& Int(int64_t v);
  ReplyWriter& Double(double v);  // shortest round-trip form, always with . or e
  ReplyWriter& Bool(bool v);
  ReplyWriter& Null();
  ReplyWriter& Cell(const ValueView& v);  // a SQL value as docs/protocol.md maps it
  ReplyWriter& BeginArray();
  ReplyWriter& EndArray();
  ReplyWriter& BeginObject();
  ReplyWriter& EndObject();
  void Finish();

  std::string* out() { return out_; }

 private:
  void Separate();

  std::string* out_;
  bool need_comma_ = true;
};

// A complete error reply line for `status`.
std::string ErrorReply(std::string_view id_json, const Status& status);

}  // namespace litepool::server
