// Typed reads of configuration keys, with the key's dotted path in every
// message. Internal to config/.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "config/json_parse.h"

namespace litepool::config::internal {

// "boolean", "integer", "float", "string", "array", "object" or "null".
std::string TypeName(const Json& value);

// Reads the keys of one JSON object. Only the first error is kept, in
// *error as "<dotted.key>: <what is wrong>"; once it is set every read is a
// no-op, so a caller reads a whole section and checks ok() once. Readers of
// nested objects share the same *error. A key that is absent leaves its
// output untouched: outputs start at their defaults.
//
// Borrows `object` and `error`, which must outlive the reader. Not
// thread-safe.
class ObjectReader {
 public:
  // `object` must be an object; `path` is its dotted path, "" at the top.
  ObjectReader(const Json& object, std::string path, std::string* error);

  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  bool ok() const { return error_->empty(); }
  // A reader for `object`, found at `key` of this one, sharing its error.
  ObjectReader Nested(std::string_view key, const Json& object) const {
    return ObjectReader(object, KeyPath(key), error_);
  }
  std::string KeyPath(std::string_view key) const;
  // Records "<path.key>: <what>" unless an error is already recorded.
  void Fail(std::string_view key, std::string_view what);

  // Refuses the first key, in file order, that is not in `known`. Called
  // before any read, so that a misspelt key is reported rather than a range
  // error its misspelling caused.
  void RefuseUnknownKeys(const std::vector<std::string_view>& known);

  // The value at `key`, or nullptr when absent or after an error.
  const Json* Find(std::string_view key) const;

  void Int64(std::string_view key, int64_t min, int64_t max, int64_t* out);
  template <typename T>
  void Int(std::string_view key, int64_t min, int64_t max, T* out) {
    int64_t value = *out;
    Int64(key, min, max, &value);
    *out = static_cast<T>(value);  // Int64 kept it within [min, max]
  }
  void Bool(std::string_view key, bool* out);
  void String(std::string_view key, std::string* out);
  // A list of uids: integers 0-4294967294 ((uid_t)-1 is no one's uid).
  void UidList(std::string_view key, std::vector<uint32_t>* out);
  void StringList(std::string_view key, std::vector<std::string>* out);
  // The object at `key`; nullptr when absent, after an error, or when the
  // value is not an object (which is recorded as an error).
  const Json* Object(std::string_view key);

 private:
  // The value at `key` if present and of the expected type, else nullptr
  // (recording "expected <expected>, got <type>" when present).
  const Json* Typed(std::string_view key, bool (Json::*is)() const noexcept,
                    std::string_view expected);

  const Json& object_;
  const std::string path_;
  std::string* const error_;
};

constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxInt = std::numeric_limits<int>::max();

}  // namespace litepool::config::internal
