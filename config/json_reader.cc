// Typed reads of configuration keys.
#include "config/json_reader.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "config/formats.h"

namespace litepool::config::internal {
namespace {

constexpr int64_t kMaxUid = 4294967294;

// The integer in `value`, or false when it is not a JSON integer or does
// not fit in int64_t (*too_big tells which).
bool AsInt64(const Json& value, int64_t* out, bool* too_big) {
  *too_big = false;
  if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(kNoLimit)) {
      *too_big = true;
      return false;
    }
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (value.is_number_integer()) {
    *out = value.get<int64_t>();
    return true;
  }
  return false;
}

bool IsHugeWholeNumber(const Json& value) {
  if (!value.is_number_float()) return false;
  double d = value.get<double>();
  return std::isfinite(d) && std::trunc(d) == d && std::fabs(d) >= 9223372036854775808.0;
}

}  // namespace

std::string TypeName(const Json& value) {
  if (value.is_boolean()) return "boolean";
  if (value.is_number_float()) return "float";
  if (value.is_number()) return "integer";
  if (value.is_string()) return "string";
  if (value.is_array()) return "array";
  if (value.is_object()) return "object";
  if (value.is_null()) return "null";
  return value.type_name();
}

ObjectReader::ObjectReader(const Json& object, std::string path, std::string* error)
    : object_(object), path_(std::move(path)), error_(error) {}

std::string ObjectReader::KeyPath(std::string_view key) const {
  std::string escaped = Escape(key);
  return path_.empty() ? escaped : path_ + "." + escaped;
}

void ObjectReader::Fail(std::string_view key, std::string_view what) {
  if (!ok()) return;
  std::string where = KeyPath(key);
  *error_ = where.empty() ? std::string(what) : where + ": " + std::string(what);
}

void ObjectReader::RefuseUnknownKeys(const std::vector<std::string_view>& known) {
  if (!ok()) return;
  for (const auto& [key, value] : object_.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      Fail(key, "unknown key");
      return;
    }
  }
}

const Json* ObjectReader::Find(std::string_view key) const {
  if (!ok()) return nullptr;
  auto it = object_.find(std::string(key));
  return it == object_.end() ? nullptr : &*it;
}

const Json* ObjectReader::Typed(std::string_view key, bool (Json::*is)() const noexcept,
                                std::string_view expected) {
  const Json* value = Find(key);
  if (value == nullptr) return nullptr;
  if (!(value->*is)()) {
    Fail(key, "expected " + std::string(expected) + ", got " + TypeName(*value));
    return nullptr;
  }
  return value;
}

void ObjectReader::Int64(std::string_view key, int64_t min, int64_t max, int64_t* out) {
  const Json* value = Find(key);
  if (value == nullptr) return;
  int64_t n = 0;
  bool too_big = false;
  // Booleans and floats are refused rather than converted: `true` or `1.5`
  // for a size is a mistake, not a request for 1.
  if (!AsInt64(*value, &n, &too_big)) {
    if (too_big) {
      Fail(key, "must be <= " + std::to_string(max) + ", got " + value->dump());
    } else if (IsHugeWholeNumber(*value)) {
      // The parser turns integers beyond 64 bits into floats; say what the
      // writer will recognise.
      bool negative = value->get<double>() < 0;
      Fail(key, negative ? "must be >= " + std::to_string(min) + ", got a number below -2^63"
                         : "must be <= " + std::to_string(max) + ", got a number above 2^63");
    } else {
      Fail(key, "expected an integer, got " + TypeName(*value));
    }
    return;
  }
  if (n < min) {
    Fail(key, "must be >= " + std::to_string(min) + ", got " + std::to_string(n));
  } else if (n > max) {
    Fail(key, "must be <= " + std::to_string(max) + ", got " + std::to_string(n));
  } else {
    *out = n;
  }
}

void ObjectReader::Bool(std::string_view key, bool* out) {
  const Json* value = Typed(key, &Json::is_boolean, "a boolean");
  if (value != nullptr) *out = value->get<bool>();
}

void ObjectReader::String(std::string_view key, std::string* out) {
  const Json* value = Typed(key, &Json::is_string, "a string");
  if (value != nullptr) *out = value->get<std::string>();
}

void ObjectReader::UidList(std::string_view key, std::vector<uint32_t>* out) {
  const Json* list = Typed(key, &Json::is_array, "an array of uids");
  if (list == nullptr) return;
  std::vector<uint32_t> uids;
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& item = (*list)[i];
    std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    int64_t uid = 0;
    bool too_big = false;
    if (!AsInt64(item, &uid, &too_big)) {
      Fail(item_key, too_big ? "must be <= " + std::to_string(kMaxUid) + ", got " + item.dump()
                             : "expected a uid (an integer), got " + TypeName(item));
      return;
    }
    if (uid < 0 || uid > kMaxUid) {
      Fail(item_key, "must be a uid between 0 and " + std::to_string(kMaxUid) + ", got " +
                         std::to_string(uid));
      return;
    }
    uids.push_back(static_cast<uint32_t>(uid));
  }
  *out = std::move(uids);
}

void ObjectReader::StringList(std::string_view key, std::vector<std::string>* out) {
  const Json* list = Typed(key, &Json::is_array, "an array of strings");
  if (list == nullptr) return;
  std::vector<std::string> strings;
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& item = (*list)[i];
    if (!item.is_string()) {
      Fail(std::string(key) + "[" + std::to_string(i) + "]",
           "expected a string, got " + TypeName(item));
      return;
    }
    strings.push_back(item.get<std::string>());
  }
  *out = std::move(strings);
}

const Json* ObjectReader::Object(std::string_view key) {
  return Typed(key, &Json::is_object, "an object");
}

}  // namespace litepool::config::internal
