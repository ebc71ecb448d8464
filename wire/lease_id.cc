// Lease id text.
#include "wire/lease_id.h"

#include "wire/hex.h"

namespace litepool::wire {

namespace {
constexpr size_t kDigits = 16;
}  // namespace

std::string FormatLeaseId(uint64_t id) {
  std::string text;
  text.reserve(kDigits);
  for (int shift = 56; shift >= 0; shift -= 8)
    AppendHexByte(static_cast<uint8_t>(id >> shift), &text);
  return text;
}

bool ParseLeaseId(std::string_view text, uint64_t* id) {
  if (text.size() != kDigits) return false;
  uint64_t value = 0;
  for (char c : text) {
    int digit = LowerHexDigit(c);
    if (digit < 0) return false;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  *id = value;
  return true;
}

}  // namespace litepool::wire
