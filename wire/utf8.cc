// UTF-8 validation.
#include "wire/utf8.h"

namespace litepool::wire {

size_t Utf8SequenceLength(std::string_view s) {
  if (s.empty()) return 0;
  auto byte = [s](size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0; };
  unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  // The lead byte gives the length; the bounds of the second byte rule out
  // overlong forms (E0, F0), surrogates (ED) and values past U+10FFFF (F4).
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;  // a continuation byte, C0/C1 (always overlong) or F5 and up
  }
  unsigned char second = byte(1);
  if (second < low || second > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    unsigned char next = byte(i);
    if (next < 0x80 || next > 0xBF) return 0;
  }
  return length;
}

bool IsValidUtf8(std::string_view s) {
  while (!s.empty()) {
    size_t n = Utf8SequenceLength(s);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

}  // namespace litepool::wire
