// Values to and from JSON: the one place that knows the wire value mapping.
#include "client/value_json.h"

#include <cmath>

#include "wire/base64.h"
#include "wire/error_code.h"

namespace litepool::client::internal {

using nlohmann::json;

Result<json> ValueToJson(const Value& value) {
  switch (value.type()) {
    case ValueType::kNull:
      return json(nullptr);
    case ValueType::kInteger:
      return json(value.integer());
    case ValueType::kReal:
      // nlohmann writes doubles in their shortest round-trip form and keeps a
      // ".0" on integral ones, so 2.0 stays a float on the wire and SQLite
      // stores REAL. It would write NaN and infinities as null, silently.
      if (!std::isfinite(value.real())) {
        return Error{wire::CodeName(Code::kBadRequest), "a NaN or infinite REAL has no JSON form",
                     0};
      }
      return json(value.real());
    case ValueType::kText:
      return json(value.text());
    case ValueType::kBlob: {
      const std::vector<uint8_t>& bytes = value.blob().bytes;
      std::string text;
      wire::Base64Encode(
          std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), &text);
      return json{{"$blob", std::move(text)}};
    }
  }
  return Error{wire::CodeName(Code::kBadRequest), "unknown value type", 0};
}

Result<json> ParamsToJson(const Params& params) {
  if (params.is_named()) {
    json object = json::object();
    for (const auto& [name, value] : params.named()) {
      Result<json> encoded = ValueToJson(value);
      if (!encoded.ok()) return encoded;
      object[name] = std::move(encoded).value();
    }
    return object;
  }
  json array = json::array();
  for (const Value& value : params.positional()) {
    Result<json> encoded = ValueToJson(value);
    if (!encoded.ok()) return encoded;
    array.push_back(std::move(encoded).value());
  }
  return array;
}

bool ValueFromJson(const json& j, Value* value) {
  switch (j.type()) {
    case json::value_t::null:
      *value = Value();
      return true;
    case json::value_t::number_integer:
      *value = Value(j.get<int64_t>());
      return true;
    case json::value_t::number_unsigned: {
      // nlohmann parses every non-negative integer as unsigned.
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return false;
      *value = Value(static_cast<int64_t>(u));
      return true;
    }
    case json::value_t::number_float:
      *value = Value(j.get<double>());
      return true;
    case json::value_t::string:
      *value = Value(j.get<std::string>());
      return true;
    case json::value_t::object: {
      auto blob = j.find("$blob");
      if (j.size() != 1 || blob == j.end() || !blob->is_string()) return false;
      std::vector<uint8_t> bytes;
      if (!wire::Base64Decode(blob->get_ref<const std::string&>(), &bytes)) return false;
      *value = Value(Blob{std::move(bytes)});
      return true;
    }
    default:
      return false;
  }
}

}  // namespace litepool::client::internal
