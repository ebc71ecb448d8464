// JSON string escaping.
#include "wire/json_escape.h"

#include "wire/hex.h"
#include "wire/utf8.h"

namespace litepool::wire {

void AppendJsonEscaped(std::string_view s, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Copy the longest run that needs no escaping in one append: replies
    // are mostly plain ASCII.
    size_t run = i;
    while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\') ++run;
    out->append(s.data() + i, run - i);
    i = run;
    if (i >= n) break;
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(s.substr(i));
      if (len == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD: the line must stay valid JSON
        ++i;
      } else {
        out->append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        AppendHexByte(c, out);
    }
    ++i;
  }
}

}  // namespace litepool::wire
