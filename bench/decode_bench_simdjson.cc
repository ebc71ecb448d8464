// The simdjson side of bench/decode_bench.cc, in a file of its own because
// simdjson 3.0's On-Demand API picks its kernel when compiled: a baseline
// x86-64 build (what the daemon ships as) gets the scalar fallback, and
// only -march=haswell gets AVX2. bench/CMakeLists.txt builds this file both
// ways, the second time (decode_bench_simdjson_avx2.cc) under another class
// name.
#include <simdjson.h>

#include <string>
#include <string_view>
#include <utility>

#include "server/request.h"
#include "wire/base64.h"

#ifndef LITEPOOL_SIMDJSON_DECODER
#define LITEPOOL_SIMDJSON_DECODER SimdjsonDecoder
#endif

namespace litepool {

bool ToOp(std::string_view name, server::Op* op);

namespace {

using server::Request;
namespace od = simdjson::ondemand;

bool SimdValue(od::value v, Value* out) {
  od::json_type type;
  if (v.type().get(type)) return false;
  switch (type) {
    case od::json_type::null:
      *out = Value{};
      return true;
    case od::json_type::boolean: {
      bool b = false;
      if (v.get_bool().get(b)) return false;
      *out = int64_t{b ? 1 : 0};
      return true;
    }
    case od::json_type::number: {
      od::number n;
      if (v.get_number().get(n)) return false;
      if (n.is_int64()) {
        *out = n.get_int64();
      } else if (n.is_double()) {
        *out = n.get_double();
      } else {
        return false;
      }
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      *out = std::string(s);
      return true;
    }
    case od::json_type::object: {
      std::string_view s;
      Blob blob;
      if (v["$blob"].get_string().get(s) || !wire::Base64Decode(s, &blob.bytes)) return false;
      *out = std::move(blob);
      return true;
    }
    case od::json_type::array:
      return false;
  }
  return false;
}

bool DecodeSimd(od::parser& parser, std::string_view line, Request* out) {
  od::document doc;
  if (parser.iterate(line.data(), line.size(), line.size() + simdjson::SIMDJSON_PADDING).get(doc)) {
    return false;
  }
  od::object object;
  if (doc.get_object().get(object)) return false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    od::value value = field.value();
    std::string_view s;
    if (key == "op") {
      if (value.get_string().get(s) || !ToOp(s, &out->op)) return false;
    } else if (key == "db" || key == "sql" || key == "tag") {
      if (value.get_string().get(s)) return false;
      (key == "db" ? out->db : key == "sql" ? out->sql : out->tag) = std::string(s);
    } else if (key == "mode") {
      if (value.get_string().get(s)) return false;
      out->mode = s == "read" ? Mode::kRead : Mode::kWrite;
    } else if (key == "wait_ms" || key == "lease_ms") {
      int64_t n = 0;
      if (value.get_int64().get(n)) return false;
      (key == "wait_ms" ? out->wait_ms : out->lease_ms) = n;
    } else if (key == "params") {
      od::array array;
      if (value.get_array().get(array)) return false;
      for (auto element : array) {
        od::value v;
        if (element.get(v) || !SimdValue(v, &out->params.positional.emplace_back())) return false;
      }
    } else if (key == "id") {
      out->id_json = std::string(value.raw_json_token());  // these lines' ids are scalars
    }
  }
  return true;  // simdjson 3.0's On-Demand has no check for trailing data
}

}  // namespace

class LITEPOOL_SIMDJSON_DECODER {
 public:
  LITEPOOL_SIMDJSON_DECODER();
  ~LITEPOOL_SIMDJSON_DECODER();
  bool Decode(std::string_view padded_line, server::Request* out);

 private:
  struct Impl;
  Impl* impl_;
};

struct LITEPOOL_SIMDJSON_DECODER::Impl {
  od::parser parser;
};

LITEPOOL_SIMDJSON_DECODER::LITEPOOL_SIMDJSON_DECODER() : impl_(new Impl) {}
LITEPOOL_SIMDJSON_DECODER::~LITEPOOL_SIMDJSON_DECODER() { delete impl_; }

bool LITEPOOL_SIMDJSON_DECODER::Decode(std::string_view padded_line, Request* out) {
  return DecodeSimd(impl_->parser, padded_line, out);
}

}  // namespace litepool
