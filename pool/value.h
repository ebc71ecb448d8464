// SQLite's five storage classes as plain C++ values, and the borrowed view of
// a result cell that a RowSink receives.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace litepool {

// Bytes of a BLOB (kept apart from TEXT so the two never mix).
struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

// NULL, INTEGER, REAL, TEXT or BLOB.
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;

// Parameters of one statement: either positional (?, ?NNN) or named (:x, @x,
// $x, bound by name without the prefix).
struct Params {
  bool named = false;
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> by_name;
};

enum class ValueType { kNull, kInteger, kReal, kText, kBlob };

// One cell of a result row; `bytes` points into SQLite's memory and is valid
// only until the sink returns.
struct ValueView {
  ValueType type = ValueType::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string_view bytes;
};

}  // namespace litepool
