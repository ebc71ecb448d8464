// The inside of a JSON string as every writer in the product spells it:
// replies (server/reply), the structured log (log/) and whatever else emits
// JSON by hand. One spelling keeps log lines and replies byte-identical for
// the same text.
#pragma once

#include <string>
#include <string_view>

namespace litepool::wire {

// Appends `s` to `out` escaped for a JSON string (quotes not added): `"` and
// `\` and control characters escaped (\n \r \t by name, the rest \u00XX),
// everything else as it is. Bytes that are not UTF-8 (wire/utf8.h) become
// U+FFFD, so the output is always valid JSON.
void AppendJsonEscaped(std::string_view s, std::string* out);

}  // namespace litepool::wire
