// Writes a decoded Request back as a request line and compares two
// Requests field by field: what the decoder's property fuzzer
// (fuzz/decode_fuzzer.cc) and its unit test check a decoded line against.
#pragma once

#include <string>

#include "server/request.h"

namespace litepool::fuzz {

// A line that must decode to `request` again: the fields its op reads,
// written by nlohmann::json (an encoder independent of the decoder), with
// non-ASCII text as \u escapes when `ascii`, else as UTF-8. The id is
// written as its echo text. `request` was decoded, so its strings are UTF-8.
std::string EncodeRequestLine(const server::Request& request, bool ascii);

// "" when the two are the same request (doubles bit for bit, so that -0.0
// is not 0.0; the lease number only when well formed), else the first
// field that differs.
std::string RequestDifference(const server::Request& a, const server::Request& b);

}  // namespace litepool::fuzz
