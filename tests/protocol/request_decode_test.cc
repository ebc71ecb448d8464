// Tests of the request decoder (server/request.h): a table of lines and the
// status each must get, the Request fields of the valid ones, and the same
// lines (with every prefix of them), the fuzz seeds and the protocol vectors
// decoded by the nlohmann-based decoder it replaced (fuzz/decode_diff.h),
// which must agree.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/decode_diff.h"
#include "server/request.h"

namespace litepool::server {
namespace {

using namespace std::string_literals;

constexpr char kNotJson[] = "the line is not valid JSON";
constexpr char kTooDeep[] = "the line nests deeper than 64 levels";
constexpr char kOutOfRange[] = "an integer is out of the signed 64-bit range";
constexpr char kNotObject[] = "a request is a JSON object";
constexpr char kNotBlob[] = ": an object value must be {\"$blob\": \"<base64>\"}";

struct Case {
  std::string line;
  Code code;
  std::string message;  // the exact message; empty when ok
};

Case Ok(std::string line) { return {std::move(line), Code::kOk, ""}; }
Case Bad(std::string line, std::string message) {
  return {std::move(line), Code::kBadRequest, std::move(message)};
}

// A query on a one-shot lease with `params` set to the given JSON.
std::string Query(const std::string& params) {
  return R"({"op":"query","db":"main","sql":"SELECT ?","params":)" + params + "}";
}

// A ping carrying one more (ignored) member `x`.
std::string PingWith(const std::string& x) { return R"({"op":"ping","x":)" + x + "}"; }

std::string Nested(int depth) {
  return R"({"op":"ping","id":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
}

std::vector<Case> Table() {
  return {
      // Every op, every field.
      Ok(R"({"op":"hello"})"),
      Ok(R"({"op":"ping"})"),
      Ok(R"({"op":"stats"})"),
      Ok(R"({"op":"leases"})"),
      Ok(R"({"op":"acquire","db":"main"})"),
      Ok(R"({"op":"acquire","db":"main","mode":"read","wait_ms":10,"lease_ms":2000,"tag":"t"})"),
      Ok(R"({"op":"acquire","db":"main","wait_ms":null,"lease_ms":null,"tag":null,"mode":null})"),
      Ok(R"({"op":"acquire","db":"main","wait_ms":-0})"),
      Ok(R"({"op":"query","lease":"3fa1c2d4e5f60718","sql":"SELECT 1"})"),
      Ok(R"({"op":"query","db":"main","mode":"auto","sql":"SELECT 1","decltypes":true})"),
      Ok(R"({"op":"exec","db":"main","mode":"auto","sql":"SELECT 1"})"),
      Ok(R"({"op":"query","lease":"3fa1c2d4e5f60718","sql":"SELECT 1","decltypes":null})"),
      Ok(R"({"op":"query","lease":"3fa1c2d4e5f60718","db":null,"mode":7,"sql":"SELECT 1"})"),
      Ok(R"({"op":"query","db":"main","mode":"read","sql":"SELECT ?","params":[1]})"),
      Ok(R"j({"op":"exec","db":"main","sql":"CREATE TABLE t(x)"})j"),
      Ok(R"({"op":"exec","lease":"3fa1c2d4e5f60718","sql":"BEGIN"})"),
      Ok(R"({"op":"release","lease":"3fa1c2d4e5f60718"})"),
      Ok(R"({"op":"release","lease":"NOT-A-LEASE"})"),
      Ok(R"({"op":"ping","params":5,"db":3,"sql":[]})"),
      // Values of every type.
      Ok(Query(R"([null,true,false,0,-0,1,-1,9223372036854775807,-9223372036854775808])")),
      Ok(Query(R"([-0.0,0.5,1E2,1e-2,-1.5e+3,1.7976931348623157e308,5e-324,1e-400])")),
      Ok(Query(R"(["", "a\"b\\c\/d\b\f\n\r\t", "\u00e9\uD83D\uDE00 é 😀", "\u0000"])")),
      Ok(Query(R"([{"$blob":""},{"$blob":"AQI="},{"\u0024blob":"AQ\u003d="}])")),
      Ok(Query(R"([{"$blob":1,"$blob":"AQ=="}])")),
      Ok(Query(R"({"a":1,"b":"x","c":null,"d":2.5,"e":true,"f":{"$blob":"AQI="}})")),
      Ok(Query(R"({"b":1,"a":2,"b":3})")),
      Ok(Query(R"({"a":[1],"a":2})")),
      Ok(Query(R"({})")),
      Ok(Query(R"([])")),
      Ok(Query("null")),
      Ok(Query(R"([1],"params":[2])")),
      // JSON that is fine however it looks.
      Ok(" \t\r\n{ \"op\" : \"ping\" , \"id\" : [ 1 , { \"a\" : 2 } ] } \r\n"),
      Ok("\xEF\xBB\xBF{\"op\":\"ping\"}"),
      Ok(R"({"op":"ping","extra":{"a":[1,2,{"b":null}],"c":true,"d":{}}})"),
      Ok(R"({"op":"ping","op":"hello"})"),
      Ok(R"({"\u006fp":"ping"})"),
      Ok(R"({"op":"p\u0069ng"})"),
      Ok(R"({"op":"ping","id":9223372036854775807})"),
      Ok(R"({"op":"ping","id":18446744073709551615})"),
      Ok(PingWith("18446744073709551615")),
      Ok(PingWith("-9223372036854775808")),
      Ok(PingWith("1e-400")),
      Ok(PingWith("123456789012345678901234567890.5")),
      Ok(PingWith("\"\\uDBFF\\uDFFF \\u007f \\u07ff \\uffff \xF4\x8F\xBF\xBF\"")),
      Ok(PingWith("\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xF0\x90\x80\x80\"")),
      Ok(Nested(63)),
      // nlohmann::json ends the text at a NUL byte, and so does the decoder.
      Ok("{\"op\":\"ping\"}\0"s),
      Ok("{\"op\":\"ping\"} \0 trailing {"s),
      Ok("{\"op\":\"ping\"}\0"s + std::string(100, '[')),
      Bad("\0{\"op\":\"ping\"}"s, kNotJson),
      Bad("{\"op\":\"ping\",\0}"s, kNotJson),
      // Not JSON.
      Bad("", kNotJson),
      Bad("   ", kNotJson),
      Bad(R"({"op":"ping"} x)", kNotJson),
      Bad(R"({"op":"ping"}{})", kNotJson),
      Bad(R"({"op":"ping",})", kNotJson),
      Bad(R"({"op":"ping" "id":1})", kNotJson),
      Bad(R"({"op" "ping"})", kNotJson),
      Bad(R"({'op':'ping'})", kNotJson),
      Bad(R"({op:"ping"})", kNotJson),
      Bad(R"({"op":"ping"])", kNotJson),
      Bad(R"({"op":"ping")", kNotJson),
      Bad(R"({"op":"ping","x":"abc)", kNotJson),
      Bad(R"(/* c */{"op":"ping"})", kNotJson),
      Bad("\xEF\xBB{\"op\":\"ping\"}", kNotJson),
      Bad(" \xEF\xBB\xBF{\"op\":\"ping\"}", kNotJson),
      Bad("{\"op\":\"ping\"}\f", kNotJson),
      Bad(PingWith("01"), kNotJson),
      Bad(PingWith("-01"), kNotJson),
      Bad(PingWith("-"), kNotJson),
      Bad(PingWith("1."), kNotJson),
      Bad(PingWith(".5"), kNotJson),
      Bad(PingWith("+1"), kNotJson),
      Bad(PingWith("1e"), kNotJson),
      Bad(PingWith("1e+"), kNotJson),
      Bad(PingWith("0x10"), kNotJson),
      Bad(PingWith("tru"), kNotJson),
      Bad(PingWith("nul"), kNotJson),
      Bad(PingWith("True"), kNotJson),
      Bad(PingWith("NaN"), kNotJson),
      Bad(PingWith("Infinity"), kNotJson),
      Bad(PingWith("1e400"), kNotJson),
      Bad(PingWith("-1e400"), kNotJson),
      Bad(PingWith("1" + std::string(400, '0')), kNotJson),
      Bad(PingWith("[1,2}"), kNotJson),
      Bad(PingWith("[1,]"), kNotJson),
      Bad(PingWith("[,1]"), kNotJson),
      Bad(PingWith(R"({"a"})"), kNotJson),
      Bad(PingWith(R"({1:2})"), kNotJson),
      Bad(PingWith(R"("\x")"), kNotJson),
      Bad(PingWith(R"("\u12")"), kNotJson),
      Bad(PingWith(R"("\u12G4")"), kNotJson),
      Bad(PingWith(R"("\U0041")"), kNotJson),
      Bad(PingWith("\"a\tb\""), kNotJson),
      Bad(PingWith("\"a\x1f\""), kNotJson),
      Bad(PingWith("\"a\0b\""s), kNotJson),
      Bad(PingWith(R"("\ud800")"), kNotJson),
      Bad(PingWith(R"("\udc00")"), kNotJson),
      Bad(PingWith(R"("\ud800\u0041")"), kNotJson),
      Bad(PingWith(R"("\ud800\ud800")"), kNotJson),
      Bad(PingWith(R"("\udc00\ud800")"), kNotJson),
      Bad(PingWith("\"\xC0\xAF\""), kNotJson),          // overlong
      Bad(PingWith("\"\xC1\xBF\""), kNotJson),          // overlong
      Bad(PingWith("\"\xE0\x80\xAF\""), kNotJson),      // overlong
      Bad(PingWith("\"\xF0\x80\x80\xAF\""), kNotJson),  // overlong
      Bad(PingWith("\"\xED\xA0\x80\""), kNotJson),      // a surrogate
      Bad(PingWith("\"\xF4\x90\x80\x80\""), kNotJson),  // above U+10FFFF
      Bad(PingWith("\"\xF5\x80\x80\x80\""), kNotJson),
      Bad(PingWith("\"\xFF\""), kNotJson),
      Bad(PingWith("\"\x80\""), kNotJson),  // a lone continuation byte
      Bad(PingWith("\"\xC3\""), kNotJson),  // truncated
      Bad(PingWith("\"\xE2\x82\""), kNotJson),
      Bad(PingWith("\"\xC3(\""), kNotJson),
      // Nested too deep: refused, whatever nlohmann would say.
      Bad(Nested(64), kTooDeep),
      Bad(std::string(65, '['), kTooDeep),
      // Integers that fit no 64-bit type, wherever they are.
      Bad(PingWith("18446744073709551616"), kOutOfRange),
      Bad(PingWith("-9223372036854775809"), kOutOfRange),
      Bad(R"({"id":99999999999999999999,"op":"ping"})", kOutOfRange),
      Bad("[99999999999999999999]", kOutOfRange),
      // Not an object.
      Bad("[1,2]", kNotObject),
      Bad(R"("ping")", kNotObject),
      Bad("null", kNotObject),
      Bad("0", kNotObject),
      // The op.
      Bad("{}", "op: missing"),
      Bad(R"({"id":1})", "op: missing"),
      Bad(R"({"op":5})", "op: expected a string"),
      Bad(R"({"op":null})", "op: expected a string"),
      Bad(R"({"op":["ping"]})", "op: expected a string"),
      {R"({"op":"PING"})", Code::kUnknownOp, "unknown op: PING"},
      {R"({"op":"ping\u0000"})", Code::kUnknownOp, "unknown op: ping\0"s},
      {R"({"op":")" + std::string(100, 'x') + R"("})", Code::kUnknownOp,
       "unknown op: " + std::string(64, 'x')},
      // Fields.
      Bad(R"({"op":"acquire"})", "db: missing"),
      Bad(R"({"op":"acquire","db":null})", "db: expected a string"),
      Bad(R"({"op":"acquire","db":1})", "db: expected a string"),
      Bad(R"({"op":"acquire","db":"main","mode":"sideways"})",
          "mode: expected \"write\" or \"read\" (auto is for one-shots)"),
      Bad(R"({"op":"acquire","db":"main","mode":"READ"})",
          "mode: expected \"write\" or \"read\" (auto is for one-shots)"),
      Bad(R"({"op":"acquire","db":"main","mode":"auto"})",
          "mode: expected \"write\" or \"read\" (auto is for one-shots)"),
      Bad(R"({"op":"acquire","db":"main","mode":1})", "mode: expected a string"),
      Bad(R"({"op":"acquire","db":"main","wait_ms":-1})",
          "wait_ms: expected a non-negative integer of milliseconds"),
      Bad(R"({"op":"acquire","db":"main","wait_ms":1.0})",
          "wait_ms: expected a non-negative integer of milliseconds"),
      Bad(R"({"op":"acquire","db":"main","wait_ms":true})",
          "wait_ms: expected a non-negative integer of milliseconds"),
      Bad(R"({"op":"acquire","db":"main","lease_ms":"5"})",
          "lease_ms: expected a non-negative integer of milliseconds"),
      Bad(R"({"op":"acquire","db":"main","lease_ms":9223372036854775808})",
          "lease_ms: expected a non-negative integer of milliseconds"),
      Bad(R"({"op":"acquire","db":"main","tag":")" + std::string(129, 'x') + R"("})",
          "tag: longer than 128 bytes"),
      Bad(R"({"op":"acquire","db":"main","tag":7})", "tag: expected a string"),
      Bad(R"({"op":"query","sql":"x"})", "give either lease or db"),
      Bad(R"({"op":"query","db":"main","lease":"3fa1c2d4e5f60718","sql":"x"})",
          "give either lease or db"),
      Bad(R"({"op":"query","db":null,"lease":null,"sql":"x"})", "give either lease or db"),
      Bad(R"({"op":"exec","lease":5,"sql":"x"})", "lease: expected a string"),
      Bad(R"({"op":"query","db":"main","mode":"x","sql":"x"})",
          "mode: expected \"write\", \"read\" or \"auto\""),
      Bad(R"({"op":"query","db":"main","sql":"x","decltypes":1})",
          "decltypes: expected true or false"),
      Bad(R"({"op":"query","db":"main","sql":"x","decltypes":"yes"})",
          "decltypes: expected true or false"),
      Bad(R"({"op":"query","db":"main"})", "sql: missing"),
      Bad(R"({"op":"query","db":"main","sql":null})", "sql: expected a string"),
      Bad(R"({"op":"query","db":"main","sql":"x","tag":false})", "tag: expected a string"),
      Bad(R"({"op":"exec","db":"main","sql":"x","params":[]})",
          "params: exec takes no parameters; use query"),
      Bad(R"({"op":"exec","db":"main","sql":"x","params":null})",
          "params: exec takes no parameters; use query"),
      Bad(Query("5"), "params: expected an array or an object"),
      Bad(Query(R"("a")"), "params: expected an array or an object"),
      Bad(Query(R"([1,[2],{"a":1}])"), "params[1]: arrays are not SQL values"),
      Bad(Query(R"([{"a":1}])"), "params[0]"s + kNotBlob),
      Bad(Query(R"([{}])"), "params[0]"s + kNotBlob),
      Bad(Query(R"([{"$blob":"AQ==","x":1}])"), "params[0]"s + kNotBlob),
      Bad(Query(R"([{"$blob":"AQ==","$blob":1}])"), "params[0]"s + kNotBlob),
      Bad(Query(R"([{"$blob":"!!"}])"), "params[0]: $blob is not valid base64"),
      Bad(Query("[1,9223372036854775808]"), "params[1]: integer out of 64-bit range"),
      Bad(Query(R"({"z":[1],"a":{"x":1}})"), "params.a"s + kNotBlob),
      Bad(Query(R"({"a":1,"a":[2]})"), "params.a: arrays are not SQL values"),
      Bad(R"({"op":"release"})", "lease: missing"),
      Bad(R"({"op":"release","lease":null})", "lease: expected a string"),
  };
}

TEST(RequestDecodeTest, TableStatuses) {
  std::vector<Case> table = Table();
  EXPECT_GE(table.size(), 60u);
  for (const Case& c : table) {
    Request req;
    Status st = DecodeRequest(c.line, &req);
    EXPECT_EQ(st.code(), c.code) << c.line << ": " << st.message();
    EXPECT_EQ(st.message(), c.message) << c.line;
  }
}

Request MustDecode(std::string_view line) {
  Request req;
  Status st = DecodeRequest(line, &req);
  EXPECT_TRUE(st.ok()) << line << ": " << st.message();
  return req;
}

TEST(RequestDecodeTest, AcquireFields) {
  Request req = MustDecode(
      R"({"op":"acquire","db":"main","mode":"read","wait_ms":10,"lease_ms":2000,"tag":"t\u00e9"})");
  EXPECT_EQ(req.op, Op::kAcquire);
  EXPECT_EQ(req.db, "main");
  EXPECT_EQ(req.mode, Mode::kRead);
  EXPECT_EQ(req.wait_ms, 10);
  EXPECT_EQ(req.lease_ms, 2000);
  EXPECT_EQ(req.tag, "t\xC3\xA9");
  EXPECT_TRUE(req.id_json.empty());

  req = MustDecode(R"({"op":"acquire","db":"main","wait_ms":-0,"lease_ms":null})");
  EXPECT_EQ(req.mode, Mode::kWrite);
  EXPECT_EQ(req.wait_ms, 0);
  EXPECT_FALSE(req.lease_ms.has_value());
}

TEST(RequestDecodeTest, LeaseTargets) {
  Request req = MustDecode(R"({"op":"query","lease":"3fa1c2d4e5f60718","sql":"SELECT 1"})");
  EXPECT_EQ(req.op, Op::kQuery);
  EXPECT_TRUE(req.has_lease);
  EXPECT_TRUE(req.lease_well_formed);
  EXPECT_EQ(req.lease, 0x3fa1c2d4e5f60718u);
  EXPECT_EQ(req.sql, "SELECT 1");
  EXPECT_TRUE(req.db.empty());

  req = MustDecode(R"({"op":"release","lease":"3FA1C2D4E5F60718"})");
  EXPECT_EQ(req.op, Op::kRelease);
  EXPECT_TRUE(req.has_lease);
  EXPECT_FALSE(req.lease_well_formed);

  req = MustDecode(R"({"op":"exec","db":"main","mode":"write","sql":"A;\nB"})");
  EXPECT_EQ(req.op, Op::kExec);
  EXPECT_FALSE(req.has_lease);
  EXPECT_EQ(req.db, "main");
  EXPECT_EQ(req.sql, "A;\nB");
}

TEST(RequestDecodeTest, AutoModeAndDeclTypes) {
  // A query in mode auto starts on a read handle; an exec, on the writer.
  Request req = MustDecode(R"({"op":"query","db":"main","mode":"auto","sql":"S","decltypes":true})");
  EXPECT_TRUE(req.auto_mode);
  EXPECT_EQ(req.mode, Mode::kRead);
  EXPECT_TRUE(req.decltypes);
  req = MustDecode(R"({"op":"exec","db":"main","mode":"auto","sql":"S"})");
  EXPECT_TRUE(req.auto_mode);
  EXPECT_EQ(req.mode, Mode::kWrite);
  EXPECT_FALSE(req.decltypes);
  req = MustDecode(R"({"op":"query","db":"main","mode":"read","sql":"S","decltypes":false})");
  EXPECT_FALSE(req.auto_mode);
  EXPECT_FALSE(req.decltypes);
}

TEST(RequestDecodeTest, PositionalValues) {
  Request req = MustDecode(Query(
      R"([null,true,false,-0,-9223372036854775808,-0.0,1E2,1e-400,"a\u00e9\ud83d\ude00\n",{"$blob":"AQI="}])"));
  const std::vector<Value>& v = req.params.positional;
  ASSERT_EQ(v.size(), 10u);
  EXPECT_FALSE(req.params.named);
  EXPECT_EQ(v[0], Value{});
  EXPECT_EQ(v[1], Value{int64_t{1}});
  EXPECT_EQ(v[2], Value{int64_t{0}});
  EXPECT_EQ(v[3], Value{int64_t{0}});
  EXPECT_EQ(v[4], Value{INT64_MIN});
  ASSERT_TRUE(std::holds_alternative<double>(v[5]));
  EXPECT_EQ(std::bit_cast<uint64_t>(std::get<double>(v[5])), std::bit_cast<uint64_t>(-0.0));
  EXPECT_EQ(v[6], Value{100.0});
  EXPECT_EQ(v[7], Value{0.0});
  EXPECT_EQ(v[8], Value{std::string("a\xC3\xA9\xF0\x9F\x98\x80\n")});
  EXPECT_EQ(v[9], Value{Blob{"\x01\x02"}});
}

TEST(RequestDecodeTest, NamedValuesSortedLastWins) {
  Request req = MustDecode(Query(R"({"b":1,"a":"x","b":{"$blob":"AQ=="},"c":[1],"c":null})"));
  EXPECT_TRUE(req.params.named);
  ASSERT_EQ(req.params.by_name.size(), 3u);
  EXPECT_EQ(req.params.by_name[0].first, "a");
  EXPECT_EQ(req.params.by_name[0].second, Value{std::string("x")});
  EXPECT_EQ(req.params.by_name[1].first, "b");
  EXPECT_EQ(req.params.by_name[1].second, Value{Blob{"\x01"}});
  EXPECT_EQ(req.params.by_name[2].first, "c");
  EXPECT_EQ(req.params.by_name[2].second, Value{});
}

TEST(RequestDecodeTest, IdEchoedCompact) {
  auto id = [](const std::string& id_text) {
    Request req;
    DecodeRequest(R"({"id":)" + id_text + R"(,"op":"ping"})", &req);
    return req.id_json;
  };
  EXPECT_EQ(id("7"), "7");
  EXPECT_EQ(id("1.50"), "1.50");
  EXPECT_EQ(id(R"("\u0041")"), R"("\u0041")");
  EXPECT_EQ(id(" [ 1 ,\t{ \"a b\" : \"c \\\" d\" } ]\r"), R"([1,{"a b":"c \" d"}])");
  EXPECT_EQ(id("null"), "null");

  Request req;
  DecodeRequest(R"({"id":1,"id":"two","op":"frobnicate"})", &req);
  EXPECT_EQ(req.id_json, R"("two")");
  req = Request{};
  DecodeRequest(R"({"op":"acquire","id":{"k":[]}})", &req);
  EXPECT_EQ(req.id_json, R"({"k":[]})");
  req = Request{};
  DecodeRequest(R"({"id":1,"op":"ping")", &req);  // not JSON: no id to echo
  EXPECT_TRUE(req.id_json.empty());
  req = Request{};
  // Valid JSON with an integer out of range elsewhere: refused, id echoed.
  Status st = DecodeRequest(R"({"id":1,"op":"ping","x":99999999999999999999})", &req);
  EXPECT_EQ(st.message(), kOutOfRange);
  EXPECT_EQ(req.id_json, "1");
}

// A line of nothing but brackets must be refused without deep recursion.
TEST(RequestDecodeTest, HugeNestingRefused) {
  for (const std::string& open : {"["s, "{\"a\":"s, "{\"op\":\"ping\",\"id\":["s}) {
    std::string line;
    while (line.size() < (1u << 20)) line += open;
    Request req;
    Status st = DecodeRequest(line, &req);
    EXPECT_EQ(st.code(), Code::kBadRequest);
    EXPECT_EQ(st.message(), kTooDeep);
  }
}

// The differential part: the old decoder must agree on everything above,
// on every prefix of it (an error at each position of each line) ...
TEST(RequestDecodeTest, AgreesWithReferenceOnTable) {
  for (const Case& c : Table()) {
    EXPECT_EQ(fuzz::DecodeDifference(c.line), "") << c.line;
    for (size_t n = 0; n < c.line.size(); ++n) {
      std::string_view prefix = std::string_view(c.line).substr(0, n);
      EXPECT_EQ(fuzz::DecodeDifference(prefix), "") << prefix;
    }
  }
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// ... on the fuzz seeds, each a file of request lines ...
TEST(RequestDecodeTest, AgreesWithReferenceOnFuzzCorpus) {
  size_t lines = 0;
  for (const char* dir : {"/fuzz/corpus", "/fuzz/decode_corpus"}) {
    for (const auto& entry :
         std::filesystem::directory_iterator(LITEPOOL_SOURCE_DIR + std::string(dir))) {
      std::string text = ReadFile(entry.path());
      EXPECT_EQ(fuzz::DecodeDifference(text), "") << entry.path();
      std::istringstream in(text);
      for (std::string line; std::getline(in, line); ++lines) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        EXPECT_EQ(fuzz::DecodeDifference(line), "") << entry.path() << ": " << line;
      }
    }
  }
  EXPECT_GT(lines, 50u);
}

// ... and on the requests of the protocol vectors, compact and indented.
TEST(RequestDecodeTest, AgreesWithReferenceOnProtocolVectors) {
  auto vectors = nlohmann::json::parse(
      ReadFile(LITEPOOL_SOURCE_DIR "/tests/vectors/protocol_vectors.json"), nullptr, false);
  ASSERT_TRUE(vectors.is_array());
  size_t requests = 0;
  for (const auto& vector : vectors) {
    std::vector<nlohmann::json> all = {vector["request"]};
    if (vector.contains("setup"))
      all.insert(all.end(), vector["setup"].begin(), vector["setup"].end());
    for (const auto& request : all) {
      for (int indent : {-1, 2}) {
        std::string line = request.dump(indent);
        for (size_t at; (at = line.find("$lease")) != std::string::npos;) {
          line.replace(at, 6, "3fa1c2d4e5f60718");
        }
        EXPECT_EQ(fuzz::DecodeDifference(line), "") << line;
        ++requests;
      }
    }
  }
  EXPECT_GT(requests, 100u);
}

}  // namespace
}  // namespace litepool::server
