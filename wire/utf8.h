// UTF-8 as RFC 3629 defines it: shortest form, no surrogates, nothing past
// U+10FFFF. JSON text on the wire must be UTF-8 (docs/protocol.md), so the
// request reader checks it and every writer of JSON replaces what is not.
#pragma once

#include <cstddef>
#include <string_view>

namespace litepool::wire {

// Length of the well-formed sequence `s` starts with: 1 for ASCII, 2 to 4
// for the rest; 0 when there is none (empty, a continuation byte, a
// truncated sequence, an overlong form, a surrogate, past U+10FFFF).
size_t Utf8SequenceLength(std::string_view s);

bool IsValidUtf8(std::string_view s);

}  // namespace litepool::wire
