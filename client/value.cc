// Value accessors and the human-readable rendering the CLI's tables use.
#include <cassert>
#include <cstdio>
#include <cstdlib>

#include "litepool/client_value.h"
#include "wire/hex.h"

namespace litepool::client {

const char* ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kNull:
      return "null";
    case ValueType::kInteger:
      return "integer";
    case ValueType::kReal:
      return "real";
    case ValueType::kText:
      return "text";
    case ValueType::kBlob:
      return "blob";
  }
  return "?";
}

int64_t Value::integer() const {
  assert(type() == ValueType::kInteger);
  return *std::get_if<int64_t>(&v_);
}

double Value::real() const {
  assert(type() == ValueType::kReal);
  return *std::get_if<double>(&v_);
}

const std::string& Value::text() const {
  assert(type() == ValueType::kText);
  return *std::get_if<std::string>(&v_);
}

const Blob& Value::blob() const {
  assert(type() == ValueType::kBlob);
  return *std::get_if<Blob>(&v_);
}

std::string Value::ToString() const {
  switch (type()) {
    case ValueType::kNull:
      return "NULL";
    case ValueType::kInteger:
      return std::to_string(integer());
    case ValueType::kReal: {
      // Shortest form that reads back to the same double, and always
      // recognisable as REAL ("2.0", not "2").
      char buf[32];
      for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof(buf), "%.*g", precision, real());
        if (std::strtod(buf, nullptr) == real()) break;
      }
      std::string s = buf;
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // n: inf, nan
      return s;
    }
    case ValueType::kText:
      return text();
    case ValueType::kBlob: {
      const std::vector<uint8_t>& bytes = blob().bytes;
      std::string s = "x'";
      wire::AppendHex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                      &s);
      s.push_back('\'');
      return s;
    }
  }
  return "";
}

}  // namespace litepool::client
