#include "server/json_reader.h"

#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <system_error>

#include "wire/utf8.h"

namespace litepool::server {
namespace {

bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

bool IsWhitespace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Bytes a string may hold as they are: printable ASCII but the quote and the
// backslash. Everything else needs a closer look.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

int HexDigit(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits of a \u escape at s[at].
bool ReadHex4(std::string_view s, size_t at, uint32_t* unit) {
  if (at > s.size() || s.size() - at < 4) return false;
  uint32_t value = 0;
  for (size_t i = at; i < at + 4; ++i) {
    int digit = HexDigit(s[i]);
    if (digit < 0) return false;
    value = value << 4 | static_cast<uint32_t>(digit);
  }
  *unit = value;
  return true;
}

bool IsHighSurrogate(uint32_t unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool IsLowSurrogate(uint32_t unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

void AppendUtf8(uint32_t code_point, std::string* out) {
  auto byte = [out](uint32_t b) { out->push_back(static_cast<char>(b)); };
  if (code_point < 0x80) {
    byte(code_point);
  } else if (code_point < 0x800) {
    byte(0xC0 | code_point >> 6);
    byte(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    byte(0xE0 | code_point >> 12);
    byte(0x80 | (code_point >> 6 & 0x3F));
    byte(0x80 | (code_point & 0x3F));
  } else {
    byte(0xF0 | code_point >> 18);
    byte(0x80 | (code_point >> 12 & 0x3F));
    byte(0x80 | (code_point >> 6 & 0x3F));
    byte(0x80 | (code_point & 0x3F));
  }
}

// Decodes the validated \u escape (or surrogate pair) whose hex digits start
// at s[at]; returns the index past it.
size_t AppendEscapedUnit(std::string_view s, size_t at, std::string* out) {
  uint32_t unit = 0;
  ReadHex4(s, at, &unit);
  at += 4;
  if (IsHighSurrogate(unit)) {
    uint32_t low = 0;
    ReadHex4(s, at + 2, &low);  // past the "\u"
    at += 6;
    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
  }
  AppendUtf8(unit, out);
  return at;
}

char EscapedChar(char c) {
  switch (c) {
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    default:
      return c;  // '"', '\\' and '/' stand for themselves
  }
}

// For a real literal from_chars found out of range: whether it is too large
// (rather than too small) for a double. Its decimal exponent (that of its
// first significant digit) is >= 308 then, and <= -324 otherwise, so the
// sign is enough; the written exponent saturates to stay in range.
bool TooLarge(std::string_view literal) {
  size_t i = literal[0] == '-' ? 1 : 0;
  size_t int_start = i;
  while (i < literal.size() && IsDigit(literal[i])) ++i;
  int64_t magnitude = static_cast<int64_t>(i - int_start) - 1;
  if (literal[int_start] == '0' && i < literal.size() && literal[i] == '.') {
    magnitude = -1;
    for (++i; i < literal.size() && literal[i] == '0'; ++i) --magnitude;
  }
  while (i < literal.size() && (IsDigit(literal[i]) || literal[i] == '.')) ++i;
  int64_t exponent = 0;
  bool negative = false;
  if (i < literal.size()) {  // at 'e' or 'E'
    negative = literal[++i] == '-';
    if (literal[i] == '-' || literal[i] == '+') ++i;
    for (; i < literal.size(); ++i) {
      if (exponent < 1'000'000'000) exponent = exponent * 10 + (literal[i] - '0');
    }
  }
  return magnitude + (negative ? -exponent : exponent) > 0;
}

}  // namespace

size_t FindBadByte(std::string_view text, bool* nul) {
  size_t i = 0;
  while (i < text.size()) {
    // Eight bytes at a time while they are ASCII and none is NUL: a BLOB's
    // base64 is all ASCII, and this pass must not cost more than reading it.
    while (text.size() - i >= 8) {
      uint64_t word;
      std::memcpy(&word, text.data() + i, 8);
      constexpr uint64_t kOnes = 0x0101010101010101, kHighs = 0x8080808080808080;
      if (((word - kOnes) & ~word & kHighs) != 0 || (word & kHighs) != 0) break;
      i += 8;
    }
    if (i == text.size()) break;
    unsigned char c = text[i];
    if (c == 0) {
      *nul = true;
      return i;
    }
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = wire::Utf8SequenceLength(text.substr(i));
    if (length == 0) {
      *nul = false;
      return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

void AppendUnescaped(JsonString text, std::string* out) {
  std::string_view s = text.raw;
  if (!text.escaped) {
    out->append(s);
    return;
  }
  size_t i = 0;
  while (i < s.size()) {
    size_t slash = s.find('\\', i);
    out->append(s.substr(i, slash - i));
    if (slash == std::string_view::npos) return;
    if (s[slash + 1] == 'u') {
      i = AppendEscapedUnit(s, slash + 2, out);
    } else {
      out->push_back(EscapedChar(s[slash + 1]));
      i = slash + 2;
    }
  }
}

std::string_view Unescaped(JsonString text, std::string* scratch) {
  if (!text.escaped) return text.raw;
  scratch->clear();
  AppendUnescaped(text, scratch);
  return *scratch;
}

void AppendCompact(std::string_view raw, std::string* out) {
  if (raw.empty() || (raw[0] != '[' && raw[0] != '{')) {
    out->append(raw);
    return;
  }
  out->reserve(out->size() + raw.size());
  bool in_string = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (in_string) {
      if (c == '\\') {
        out->push_back(c);
        c = raw[++i];  // the escaped byte, never a closing quote
      } else if (c == '"') {
        in_string = false;
      }
    } else if (IsWhitespace(c)) {
      continue;
    } else if (c == '"') {
      in_string = true;
    }
    out->push_back(c);
  }
}

JsonReader::JsonReader(std::string_view text) : text_(text) {
  if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
}

bool JsonReader::Fail(Error error) {
  if (error_ == Error::kNone) error_ = error;
  return false;
}

void JsonReader::SkipWhitespace() {
  while (pos_ < text_.size() && IsWhitespace(text_[pos_])) ++pos_;
}

bool JsonReader::Expect(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) return Fail();
  pos_ += word.size();
  return true;
}

bool JsonReader::Peek(JsonType* type) {
  if (!ok()) return false;
  SkipWhitespace();
  unsigned char c = At(pos_);
  if (c == '"') {
    *type = JsonType::kString;
  } else if (c == '-' || IsDigit(c)) {
    *type = JsonType::kNumber;
  } else if (c == '{') {
    *type = JsonType::kObject;
  } else if (c == '[') {
    *type = JsonType::kArray;
  } else if (c == 't' || c == 'f') {
    *type = JsonType::kBool;
  } else if (c == 'n') {
    *type = JsonType::kNull;
  } else {
    return Fail();
  }
  return true;
}

bool JsonReader::ReadNull() {
  if (!ok()) return false;
  SkipWhitespace();
  return Expect("null");
}

bool JsonReader::ReadBool(bool* value) {
  if (!ok()) return false;
  SkipWhitespace();
  *value = At(pos_) == 't';
  return Expect(*value ? "true" : "false");
}

bool JsonReader::SkipDigits() {
  size_t start = pos_;
  while (IsDigit(At(pos_))) ++pos_;
  return pos_ > start;
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; what follows is the
// caller's business ("01" fails there, at the "1").
bool JsonReader::ReadNumber(JsonNumber* number) {
  if (!ok()) return false;
  SkipWhitespace();
  size_t start = pos_;
  if (At(pos_) == '-') ++pos_;
  if (At(pos_) == '0') {
    ++pos_;
  } else if (!SkipDigits()) {
    return Fail();
  }
  bool integral = true;
  if (At(pos_) == '.') {
    integral = false;
    ++pos_;
    if (!SkipDigits()) return Fail();
  }
  if (At(pos_) == 'e' || At(pos_) == 'E') {
    integral = false;
    ++pos_;
    if (At(pos_) == '+' || At(pos_) == '-') ++pos_;
    if (!SkipDigits()) return Fail();
  }
  std::string_view literal = text_.substr(start, pos_ - start);
  if (!integral) return ToReal(literal, number);
  ToInteger(literal, number);
  return true;
}

// One rule for every integer literal of the line (docs/protocol.md,
// "Request lines"): it fits int64_t or the request is refused, however far
// out it is.
void JsonReader::ToInteger(std::string_view literal, JsonNumber* number) {
  bool negative = literal[0] == '-';
  uint64_t magnitude = 0;
  for (char c : literal.substr(negative ? 1 : 0)) {
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      magnitude = std::numeric_limits<uint64_t>::max();
      break;
    }
    magnitude = magnitude * 10 + digit;
  }
  constexpr uint64_t kMaxPositive = std::numeric_limits<int64_t>::max();
  if (magnitude <= (negative ? kMaxPositive + 1 : kMaxPositive)) {
    number->kind = JsonNumber::Kind::kInteger;
    number->integer = static_cast<int64_t>(negative ? 0 - magnitude : magnitude);  // modular
    return;
  }
  number->kind = JsonNumber::Kind::kOutOfRange;
  out_of_range_ = true;
}

bool JsonReader::ToReal(std::string_view literal, JsonNumber* number) {
  const char* end = literal.data() + literal.size();
  number->kind = JsonNumber::Kind::kReal;
  auto result = std::from_chars(literal.data(), end, number->real);
  if (result.ec == std::errc() && result.ptr == end) return true;
  if (result.ec != std::errc::result_out_of_range) return Fail();
  if (TooLarge(literal)) return Fail(Error::kHugeNumber);
  // Nearer zero than half the least denormal: rounding to nearest gives
  // zero, of the literal's sign.
  number->real = literal[0] == '-' ? -0.0 : 0.0;
  return true;
}

bool JsonReader::ReadString(JsonString* text) {
  if (!ok()) return false;
  SkipWhitespace();
  if (At(pos_) != '"') return Fail();
  size_t start = ++pos_;
  bool escaped = false;
  for (;;) {
    while (pos_ < text_.size() && kPlain[static_cast<unsigned char>(text_[pos_])]) ++pos_;
    unsigned char c = At(pos_);
    if (c == '"') break;
    if (c == '\\') {
      escaped = true;
      if (!ScanEscape()) return false;
    } else if (c < 0x20) {
      return Fail();  // a control character, or the end of the text
    } else if (!ScanUtf8()) {
      return Fail();
    }
  }
  text->raw = text_.substr(start, pos_ - start);
  text->escaped = escaped;
  ++pos_;
  return true;
}

// One escape at the backslash. A \u escape of a surrogate must be a high one
// followed by a \u escape of a low one: a lone half is no character, and
// could not be written as UTF-8 (docs/protocol.md, "Request lines").
bool JsonReader::ScanEscape() {
  unsigned char c = At(pos_ + 1);
  if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
      c == 't') {
    pos_ += 2;
    return true;
  }
  uint32_t unit = 0;
  if (c != 'u' || !ReadHex4(text_, pos_ + 2, &unit)) return Fail();
  if (IsLowSurrogate(unit)) return Fail(Error::kLoneSurrogate);
  pos_ += 6;
  if (!IsHighSurrogate(unit)) return true;
  if (At(pos_) != '\\' || At(pos_ + 1) != 'u') return Fail(Error::kLoneSurrogate);
  if (!ReadHex4(text_, pos_ + 2, &unit)) return Fail();
  if (!IsLowSurrogate(unit)) return Fail(Error::kLoneSurrogate);
  pos_ += 6;
  return true;
}

// One UTF-8 sequence at a byte >= 0x80, as RFC 3629 allows it. Checked
// here as well as by FindBadByte, so that the reader is sound on its own.
bool JsonReader::ScanUtf8() {
  size_t length = wire::Utf8SequenceLength(text_.substr(pos_));
  pos_ += length;
  return length > 0;
}

bool JsonReader::Enter(char open) {
  if (!ok()) return false;
  SkipWhitespace();
  if (At(pos_) != static_cast<unsigned char>(open)) return Fail();
  if (++depth_ > kMaxDepth) return Fail(Error::kTooDeep);
  ++pos_;
  at_open_ = true;
  return true;
}

bool JsonReader::Next(char close) {
  if (!ok()) return false;
  SkipWhitespace();
  bool first = at_open_;
  at_open_ = false;
  if (At(pos_) == static_cast<unsigned char>(close)) {
    ++pos_;
    --depth_;
    return false;
  }
  if (first) return true;
  if (At(pos_) != ',') return Fail();
  ++pos_;
  return true;
}

bool JsonReader::BeginArray() { return Enter('['); }

bool JsonReader::NextElement() { return Next(']'); }

bool JsonReader::BeginObject() { return Enter('{'); }

bool JsonReader::NextMember(JsonString* key) {
  if (!Next('}') || !ReadString(key)) return false;
  SkipWhitespace();
  if (At(pos_) != ':') return Fail();
  ++pos_;
  return true;
}

bool JsonReader::SkipContainer(bool object) {
  if (object) {
    JsonString key;
    if (!BeginObject()) return false;
    while (NextMember(&key)) {
      if (!SkipValue()) return false;
    }
  } else {
    if (!BeginArray()) return false;
    while (NextElement()) {
      if (!SkipValue()) return false;
    }
  }
  return ok();
}

bool JsonReader::SkipValue(std::string_view* raw) {
  JsonType type;
  if (!Peek(&type)) return false;
  size_t start = pos_;
  bool done = false;
  switch (type) {
    case JsonType::kNull:
      done = ReadNull();
      break;
    case JsonType::kBool: {
      bool value;
      done = ReadBool(&value);
      break;
    }
    case JsonType::kNumber: {
      JsonNumber number;
      done = ReadNumber(&number);
      break;
    }
    case JsonType::kString: {
      JsonString text;
      done = ReadString(&text);
      break;
    }
    case JsonType::kArray:
      done = SkipContainer(false);
      break;
    case JsonType::kObject:
      done = SkipContainer(true);
      break;
  }
  if (done && raw != nullptr) *raw = text_.substr(start, pos_ - start);
  return done;
}

bool JsonReader::Finish() {
  if (!ok()) return false;
  SkipWhitespace();
  return pos_ == text_.size() || Fail(Error::kTrailing);
}

}  // namespace litepool::server
