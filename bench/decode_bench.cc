// Is the hand-written request reader (server/json_reader.h) worth keeping?
// Decodes the same request lines into the same server::Request three ways:
// DecodeRequest, nlohmann::json's SAX parser and (when the build found it)
// simdjson's On-Demand API. The two library decoders fill the fields these
// lines use and nothing else: no field checks, no error messages, so they
// are a lower bound of what a full decoder on that library would cost.
// Results and the command: bench/RESULTS.md, "Request decoder".
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/request.h"
#include "wire/base64.h"

namespace litepool {

bool ToOp(std::string_view name, server::Op* op);

#ifdef LITEPOOL_BENCH_SIMDJSON
// bench/decode_bench_simdjson.cc, built for baseline x86-64 and (the Avx2
// one) for -march=haswell. Decode needs `line` followed by SIMDJSON_PADDING
// readable bytes. One per thread: each owns a simdjson parser.
#define LITEPOOL_DECLARE_SIMDJSON_DECODER(Name)                      \
  class Name {                                                       \
   public:                                                           \
    Name();                                                          \
    ~Name();                                                         \
    bool Decode(std::string_view padded_line, server::Request* out); \
                                                                     \
   private:                                                          \
    struct Impl;                                                     \
    Impl* impl_;                                                     \
  }
LITEPOOL_DECLARE_SIMDJSON_DECODER(SimdjsonDecoder);
LITEPOOL_DECLARE_SIMDJSON_DECODER(SimdjsonAvx2Decoder);
#endif

namespace {

using server::Op;
using server::Request;

// Representative lines (docs/protocol.md): a ping, an acquire, a one-shot
// query with 3 parameters, one with a 4 KiB text parameter, and a 64 KiB
// BLOB insert. The protocol's `exec` takes no parameters, so the BLOB goes
// in a write one-shot `query`, as the Go driver sends an Exec.
std::string Ping() { return R"({"id":1,"op":"ping"})"; }

std::string Acquire() {
  return R"({"id":2,"op":"acquire","db":"main","mode":"read","wait_ms":1000,"tag":"bench"})";
}

std::string Query3() {
  return R"({"id":3,"op":"query","db":"main","mode":"read",)"
         R"("sql":"SELECT a, b FROM t WHERE x = ? AND y = ? AND z > ?","params":[42,"two",3.5]})";
}

// Prose with what a text column holds: quotes, newlines, accented letters.
std::string Text4K() {
  std::string text;
  while (text.size() < 4096) text += R"(Le \"café\" est prêt à 7 h.\nLorem ipsum dolor sit amet. )";
  return R"j({"id":4,"op":"query","db":"main","sql":"INSERT INTO notes(body) VALUES (?)","params":[")j" +
         text + R"("]})";
}

std::string Blob64K() {
  std::string bytes(64 * 1024, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 + 7);
  std::string encoded;
  wire::Base64Encode(bytes, &encoded);
  return R"j({"id":5,"op":"query","db":"main","sql":"INSERT INTO files(data) VALUES (?)",)j"
         R"("params":[{"$blob":")" +
         encoded + R"("}]})";
}

}  // namespace

bool ToOp(std::string_view name, Op* op) {
  static const std::pair<std::string_view, Op> kOps[] = {
      {"hello", Op::kHello}, {"ping", Op::kPing},     {"acquire", Op::kAcquire},
      {"query", Op::kQuery}, {"exec", Op::kExec},     {"release", Op::kRelease},
      {"stats", Op::kStats}, {"leases", Op::kLeases}, {"backup", Op::kBackup}};
  for (const auto& [n, o] : kOps) {
    if (n == name) {
      *op = o;
      return true;
    }
  }
  return false;
}

namespace {

// nlohmann's SAX events into a Request: the top-level members by key, the
// `params` array's values, a {"$blob": ...} object inside it. Owned by one
// benchmark thread.
class SaxRequest : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit SaxRequest(Request* out) : out_(out) {}

  bool null() override { return Scalar(Value{}); }
  bool boolean(bool b) override { return Scalar(Value{int64_t{b ? 1 : 0}}); }
  bool number_integer(number_integer_t n) override { return Number(n); }
  bool number_unsigned(number_unsigned_t n) override {
    return n <= static_cast<uint64_t>(INT64_MAX) && Number(static_cast<int64_t>(n));
  }
  bool number_float(number_float_t d, const string_t&) override { return Scalar(Value{d}); }
  bool string(string_t& s) override {
    if (depth_ == 1) {
      if (key_ == "op") return ToOp(s, &out_->op);
      if (key_ == "db") out_->db = std::move(s);
      if (key_ == "sql") out_->sql = std::move(s);
      if (key_ == "tag") out_->tag = std::move(s);
      if (key_ == "mode") out_->mode = s == "read" ? Mode::kRead : Mode::kWrite;
      return true;
    }
    if (in_blob_) return wire::Base64Decode(s, &blob_.bytes);
    return Scalar(Value{std::move(s)});
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    if (in_params_ && depth_ == 2) in_blob_ = true;
    ++depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    --depth_;
    if (in_blob_ && depth_ == 2) {
      in_blob_ = false;
      out_->params.positional.emplace_back(std::move(blob_));
      blob_ = Blob{};
    }
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 1 && key_ == "params") in_params_ = true;
    ++depth_;
    return true;
  }
  bool end_array() override {
    if (--depth_ == 1) in_params_ = false;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool Number(int64_t n) {
    if (depth_ == 1) {
      if (key_ == "wait_ms") out_->wait_ms = n;
      if (key_ == "lease_ms") out_->lease_ms = n;
      return true;
    }
    return Scalar(Value{n});
  }
  bool Scalar(Value v) {
    if (in_params_ && depth_ == 2) out_->params.positional.push_back(std::move(v));
    return true;
  }

  Request* out_;
  int depth_ = 0;
  std::string key_;
  bool in_params_ = false;
  bool in_blob_ = false;
  Blob blob_;
};

bool DecodeSax(std::string_view line, Request* out) {
  SaxRequest handler(out);
  return nlohmann::json::sax_parse(line, &handler);
}

enum class Decoder { kHand, kNlohmannSax, kSimdjson, kSimdjsonAvx2 };

void BM_Decode(benchmark::State& state, Decoder decoder, std::string (*make)()) {
  std::string line = make();
#ifdef LITEPOOL_BENCH_SIMDJSON
  std::string padded = line + std::string(64, ' ');  // simdjson reads past the end
  SimdjsonDecoder simd;
  SimdjsonAvx2Decoder simd_avx2;
#endif
  for (auto _ : state) {
    Request req;
    bool ok = false;
    switch (decoder) {
      case Decoder::kHand:
        ok = server::DecodeRequest(line, &req).ok();
        break;
      case Decoder::kNlohmannSax:
        ok = DecodeSax(line, &req);
        break;
      case Decoder::kSimdjson:
#ifdef LITEPOOL_BENCH_SIMDJSON
        ok = simd.Decode(std::string_view(padded.data(), line.size()), &req);
#endif
        break;
      case Decoder::kSimdjsonAvx2:
#ifdef LITEPOOL_BENCH_SIMDJSON
        ok = simd_avx2.Decode(std::string_view(padded.data(), line.size()), &req);
#endif
        break;
    }
    if (!ok) {
      state.SkipWithError("the line did not decode");
      break;
    }
    benchmark::DoNotOptimize(req);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}

#define LITEPOOL_DECODE_BENCH(decoder, name)                               \
  BENCHMARK_CAPTURE(BM_Decode, name##_ping, Decoder::decoder, Ping);       \
  BENCHMARK_CAPTURE(BM_Decode, name##_acquire, Decoder::decoder, Acquire); \
  BENCHMARK_CAPTURE(BM_Decode, name##_query3, Decoder::decoder, Query3);   \
  BENCHMARK_CAPTURE(BM_Decode, name##_text4k, Decoder::decoder, Text4K);   \
  BENCHMARK_CAPTURE(BM_Decode, name##_blob64k, Decoder::decoder, Blob64K)

LITEPOOL_DECODE_BENCH(kHand, hand);
LITEPOOL_DECODE_BENCH(kNlohmannSax, nlohmann_sax);
#ifdef LITEPOOL_BENCH_SIMDJSON
LITEPOOL_DECODE_BENCH(kSimdjson, simdjson);
LITEPOOL_DECODE_BENCH(kSimdjsonAvx2, simdjson_avx2);
#endif

}  // namespace
}  // namespace litepool
