// A strict (RFC 8259) pull reader of one JSON text, made for the request
// decoder: it walks the text once, validates everything it passes over
// (skipped values included) and allocates nothing. Strings come back as
// views of their raw bytes, decoded only when the caller wants the value.
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

// A number literal, told apart the way a protocol of 64-bit integers needs.
struct JsonNumber {
  enum class Kind {
    kInteger,     // no fraction or exponent, fits int64_t: `integer`
    kUnsigned,    // no fraction or exponent, fits only uint64_t
    kOutOfRange,  // no fraction or exponent, fits neither
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

  enum class Error { kNone, kSyntax, kTooDeep };

  // Views `text`, which must outlive the reader. A leading UTF-8 byte order
  // mark is skipped, as nlohmann::json does.
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

  // Succeeds when only white space is left after the value, up to the end
  // of the text or a NUL byte (what follows a NUL is not read).
  bool Finish();

  bool ok() const { return error_ == Error::kNone; }
  Error error() const { return error_; }

  // Whether a number without fraction or exponent outside [INT64_MIN,
  // UINT64_MAX] was read or skipped: such a literal is not an error of JSON,
  // but a request containing one is refused.
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
  bool ToInteger(std::string_view literal, JsonNumber* number);
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
