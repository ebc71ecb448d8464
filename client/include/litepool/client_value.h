// SQLite values as the litepool client sends and receives them (docs/protocol.md:
// null, integer, float, string, {"$blob": base64}) and statement parameters.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace litepool::client {

// The bytes of a BLOB; a type of its own so that bytes never pass for TEXT.
struct Blob {
  std::vector<uint8_t> bytes;
  bool operator==(const Blob&) const = default;
};

// The order matches Value's variant index.
enum class ValueType { kNull, kInteger, kReal, kText, kBlob };

// "null", "integer", "real", "text" or "blob" (SQLite's typeof() words).
const char* ValueTypeName(ValueType type);

// One SQLite value: NULL, INTEGER (64-bit), REAL, TEXT or BLOB. A plain value
// type; copyable and safe to share between threads when not mutated.
//
// Any C++ integer (bool included, as 0/1) becomes INTEGER; an unsigned value
// above INT64_MAX wraps, as SQLite has no unsigned type. Any floating-point
// value becomes REAL and round-trips bit for bit, an integral one like 2.0
// included (it goes on the wire as `2.0`, so SQLite stores REAL, not
// INTEGER). NaN and infinities have no JSON form: sending one fails with
// "bad_request" before anything is written.
class Value {
 public:
  using Variant = std::variant<std::monostate, int64_t, double, std::string, Blob>;

  Value() = default;  // NULL
  Value(std::nullptr_t) {}
  template <std::integral T>
  Value(T v) : v_(static_cast<int64_t>(v)) {}
  template <std::floating_point T>
  Value(T v) : v_(static_cast<double>(v)) {}
  Value(std::string v) : v_(std::move(v)) {}
  Value(std::string_view v) : v_(std::string(v)) {}
  Value(const char* v) : v_(std::string(v)) {}
  Value(Blob v) : v_(std::move(v)) {}

  ValueType type() const { return static_cast<ValueType>(v_.index()); }
  bool is_null() const { return type() == ValueType::kNull; }

  // The value; calling the accessor of another type is a bug (asserted).
  int64_t integer() const;
  double real() const;
  const std::string& text() const;
  const Blob& blob() const;

  const Variant& variant() const { return v_; }

  // For people, not for parsing: NULL, 42, 2.0, text as is, x'0aff' for blobs.
  std::string ToString() const;

  // Same type and same value; REALs compare with ==, so -0.0 == 0.0.
  bool operator==(const Value&) const = default;

 private:
  Variant v_;
};

using Row = std::vector<Value>;
using NamedParams = std::vector<std::pair<std::string, Value>>;

// The parameters of one statement: none, positional (bound to ?, ?NNN in
// order) or named (sent as a JSON object; the name is given without its
// prefix, {"id", 1} binds :id, @id or $id). A plain value type like Value.
//
//   lease.Query("SELECT ?, ?", {42, "text"});           // positional
//   lease.Query("SELECT :id, :name", {{"id", 42}, {"name", "x"}});  // named
//
// Vectors convert explicitly only (Params(values), Params::Named(pairs)), so
// that a braced list is never read as the other kind.
class Params {
 public:
  Params() = default;
  Params(std::initializer_list<Value> positional) : positional_(positional) {}
  Params(std::initializer_list<std::pair<std::string, Value>> named)
      : named_(named), is_named_(true) {}
  explicit Params(std::vector<Value> positional) : positional_(std::move(positional)) {}
  explicit Params(NamedParams named) : named_(std::move(named)), is_named_(true) {}

  static Params Named(NamedParams named) { return Params(std::move(named)); }

  bool empty() const { return positional_.empty() && named_.empty(); }
  bool is_named() const { return is_named_; }
  const std::vector<Value>& positional() const { return positional_; }
  const NamedParams& named() const { return named_; }

 private:
  std::vector<Value> positional_;
  NamedParams named_;
  bool is_named_ = false;
};

}  // namespace litepool::client
