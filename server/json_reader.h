// A strict (RFC 8259) pull reader of one JSON text, made for the request
// decoder: it walks the text once, validates everything it passes over
// (skipped values included) and allocates nothing. Strings come back as
// views of their raw bytes, decoded only when the caller wants the value.
// The grammar it holds lines to is docs/protocol.md, "Request lines".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace litepool::server {

// A string as written between its quotes, already validated; `escaped` says
// whether decoding it is more than a copy.
struct JsonString {
  std::string_view raw;
  bool escaped = false;
};

// Appends the decoded (UTF-8) value of a validated string.
void AppendUnescaped(JsonString text, std::string* out);

// The decoded value of a validated string: its raw bytes when nothing is
// escaped (no copy), else decoded into *scratch.
std::string_view Unescaped(JsonString text, std::string* scratch);

// Appends a validated value without the white space between its tokens, so
// that it fits on one line. Strings and numbers are kept as written.
void AppendCompact(std::string_view raw, std::string* out);

// Where the first byte that is not UTF-8 (RFC 3629: shortest form, no
// surrogates, nothing above U+10FFFF) or is a NUL sits in `text`, or npos.
// *nul tells which of the two it is.
size_t FindBadByte(std::string_view text, bool* nul);

// A number literal, told apart the way a protocol of 64-bit integers needs.
struct JsonNumber {
  enum class Kind {
    kInteger,     // no fraction or exponent, fits int64_t: `integer`
    kOutOfRange,  // no fraction or exponent, does not fit int64_t
    kReal,        // a fraction or an exponent: `real`
  };
  Kind kind = Kind::kInteger;
  int64_t integer = 0;
  double real = 0;
};

enum class JsonType { kNull, kBool, kNumber, kString, kArray, kObject };

// Reads values in document order. Owns nothing but its place in the text,
// which the caller keeps alive. Each Read/Skip/Begin/Next call consumes
// leading white space; a call that fails records the first error and every
// later call fails too, so callers may test ok() once at the end.
//
//   reader.BeginObject();
//   while (reader.NextMember(&key)) { ...read or skip the value... }
//   if (!reader.ok()) ...
class JsonReader {
 public:
  // Requests never nest deeply; the bound keeps recursion (SkipValue) and
  // hostile lines of brackets harmless.
  static constexpr int kMaxDepth = 64;

  enum class Error {
    kNone,
    kSyntax,         // not JSON
    kTooDeep,        // nested deeper than kMaxDepth
    kLoneSurrogate,  // a \u escape of a surrogate that is not half of a pair
    kHugeNumber,     // a number with a fraction or exponent beyond a double
    kTrailing,       // more than white space after the value
  };

  // Views `text`, which must outlive the reader. A leading UTF-8 byte order
  // mark is skipped (RFC 8259 lets a parser ignore it). The reader assumes
  // nothing of the bytes: callers wanting the line's encoding rules checked
  // first use FindBadByte.
  explicit JsonReader(std::string_view text);

  JsonReader(const JsonReader&) = delete;
  JsonReader& operator=(const JsonReader&) = delete;

  // The type of the next value, by its first byte (nothing consumed).
  bool Peek(JsonType* type);

  bool ReadNull();
  bool ReadBool(bool* value);
  bool ReadNumber(JsonNumber* number);
  bool ReadString(JsonString* text);
  // Validates and passes over one value of any type; *raw (if given) is its
  // text, from its first byte to its last.
  bool SkipValue(std::string_view* raw = nullptr);

  // Containers. After Begin, call Next before each element or member: true
  // means one follows (for an object its key is read, and the colon); false
  // means the container ended, or an error (see ok()).
  bool BeginArray();
  bool NextElement();
  bool BeginObject();
  bool NextMember(JsonString* key);

  // Succeeds when only white space is left after the value.
  bool Finish();

  bool ok() const { return error_ == Error::kNone; }
  Error error() const { return error_; }

  // Whether a number without fraction or exponent outside the int64_t range
  // was read or skipped: such a literal is not an error of JSON, but a
  // request containing one is refused once the line is known to be JSON.
  bool saw_out_of_range() const { return out_of_range_; }

 private:
  unsigned char At(size_t i) const { return i < text_.size() ? text_[i] : 0; }
  bool Fail(Error error = Error::kSyntax);
  void SkipWhitespace();
  bool Expect(std::string_view word);
  bool Enter(char open);
  bool Next(char close);
  bool SkipDigits();
  bool ScanEscape();
  bool ScanUtf8();
  void ToInteger(std::string_view literal, JsonNumber* number);
  bool ToReal(std::string_view literal, JsonNumber* number);
  bool SkipContainer(bool object);

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool at_open_ = false;  // the last token was '[' or '{'
  bool out_of_range_ = false;
  Error error_ = Error::kNone;
};

}  // namespace litepool::server
