// Hex digits.
#include "wire/hex.h"

namespace litepool::wire {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

}  // namespace

void AppendHexByte(uint8_t byte, std::string* out) {
  out->push_back(kDigits[byte >> 4]);
  out->push_back(kDigits[byte & 15]);
}

void AppendHex(std::string_view bytes, std::string* out) {
  out->reserve(out->size() + 2 * bytes.size());
  for (char c : bytes) AppendHexByte(static_cast<uint8_t>(c), out);
}

int LowerHexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace litepool::wire
