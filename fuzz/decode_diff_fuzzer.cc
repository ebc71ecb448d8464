// libFuzzer target: each input is one request line, decoded by
// server::DecodeRequest and by the nlohmann-based reference decoder it
// replaced (fuzz/reference_decoder.h). Any difference in what they accept,
// the error they give or the Request they fill aborts (fuzz/decode_diff.h
// tells the one difference that is intended). No pool, no SQL: this
// target is fast, so it explores the JSON grammar far more than
// request_fuzzer can.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/decode_diff.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  std::string diff = litepool::fuzz::DecodeDifference(line);
  if (!diff.empty()) {
    std::fprintf(stderr, "decode_diff_fuzzer: the decoders differ: %s\nline: %.*s\n", diff.c_str(),
                 static_cast<int>(line.size()), line.data());
    std::abort();
  }
  return 0;
}
