// Lowercase hexadecimal, as the wire and the logs write bytes: lease ids,
// \u00XX escapes in JSON strings, x'..' blob literals in the CLI, \xXX in
// config error messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace litepool::wire {

// Appends the two lowercase hex digits of `byte`.
void AppendHexByte(uint8_t byte, std::string* out);

// Appends two lowercase hex digits per byte of `bytes`.
void AppendHex(std::string_view bytes, std::string* out);

// The value of a lowercase hex digit, or -1 for anything else (uppercase
// too: what we write is lowercase, and lease ids accept only that form).
int LowerHexDigit(char c);

}  // namespace litepool::wire
