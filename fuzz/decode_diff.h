// Runs a request line through server::DecodeRequest and the reference
// decoder (fuzz/reference_decoder.h) and tells how their results differ.
#pragma once

#include <string>
#include <string_view>

namespace litepool::fuzz {

// "" when both decoders give the same status (code and message) and, on
// success, the same Request; else a description of the first difference.
// The `id` echoes are compared as JSON values, not as text. One deliberate
// difference is allowed: the new decoder refuses (bad_request) lines nested
// deeper than JsonReader::kMaxDepth.
std::string DecodeDifference(std::string_view line);

}  // namespace litepool::fuzz
