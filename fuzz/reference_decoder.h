// The nlohmann::json request decoder that server/request.cc replaced, kept
// only as an oracle for the differential fuzzer and tests (fuzz/decode_diff.h).
#pragma once

#include <string_view>

#include "base/status.h"
#include "server/request.h"

namespace litepool::fuzz {

// DecodeRequest as it was: a DOM built through nlohmann's SAX parser.
Status ReferenceDecodeRequest(std::string_view line, server::Request* out);

}  // namespace litepool::fuzz
