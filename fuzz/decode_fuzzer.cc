// libFuzzer target: each input is one request line, decoded by
// server::DecodeRequest, the daemon's only decoder. No pool, no SQL: it is
// fast, so it explores the grammar (docs/protocol.md, "Request lines") far
// more than request_fuzzer can. Aborts when a property of the decoder
// fails:
//   - a line that is not UTF-8, or holds a NUL byte, is refused, and says so;
//   - a refusal is bad_request, or unknown_op for a line that is JSON,
//     with a message;
//   - an accepted line, written again by another encoder (nlohmann::json,
//     fuzz/request_line.h) with and without \u escapes, decodes to the same
//     Request.
// Crashes, leaks and undefined behaviour are the sanitizers' to report.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/request_line.h"
#include "server/request.h"

namespace {

using litepool::Code;
using litepool::Status;
using litepool::server::DecodeRequest;
using litepool::server::Request;

[[noreturn]] void Broken(const char* what, std::string_view line, const std::string& detail) {
  std::fprintf(stderr, "decode_fuzzer: %s: %s\nline: %.*s\n", what, detail.c_str(),
               static_cast<int>(line.size()), line.data());
  std::abort();
}

// Whether `s` is UTF-8 without NUL, decoded code point by code point: a
// second, plain reading of RFC 3629, apart from the decoder's own.
bool PlainUtf8WithoutNul(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t k = 1; k < n; ++k) {
      auto t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xC0) != 0x80) return false;
      cp = cp << 6 | (t & 0x3F);
    }
    static constexpr uint32_t kLeast[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kLeast[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  Request req;
  Status st = DecodeRequest(line, &req);
  bool text = PlainUtf8WithoutNul(line);
  if (!text) {
    if (st.ok()) Broken("accepted a line that is not UTF-8 or holds a NUL", line, "");
    std::string_view m = st.message();
    if (!m.starts_with("the line is not valid UTF-8") && !m.starts_with("the line holds a NUL")) {
      Broken("the refusal does not name the encoding", line, st.message());
    }
  }
  if (!st.ok()) {
    if (st.code() != Code::kBadRequest && st.code() != Code::kUnknownOp) {
      Broken("refused with a code other than bad_request", line, st.message());
    }
    if (st.message().empty()) Broken("refused without a message", line, "");
    return 0;
  }
  for (bool ascii : {false, true}) {
    std::string again = litepool::fuzz::EncodeRequestLine(req, ascii);
    Request back;
    Status st2 = DecodeRequest(again, &back);
    if (!st2.ok()) Broken("its re-encoding was refused", line, again + ": " + st2.message());
    std::string diff = litepool::fuzz::RequestDifference(req, back);
    if (!diff.empty()) Broken("its re-encoding decodes differently", line, again + ": " + diff);
  }
  return 0;
}
