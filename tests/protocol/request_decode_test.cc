// Tests of the request decoder (server/request.h): the grammar's vectors
// (tests/vectors/request_lines.json, docs/protocol.md "Request lines"), a
// table of lines and the status each must get, the Request fields of the
// valid ones, and every accepted line written again by another encoder
// (fuzz/request_line.h), which must decode to the same Request.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/request_line.h"
#include "pool/lease_table.h"
#include "server/request.h"
#include "wire/base64.h"
#include "wire/error_code.h"
#include "wire/lease_id.h"

namespace litepool::server {
namespace {

using namespace std::string_literals;

constexpr char kNotJson[] = "the line is not valid JSON";
constexpr char kTooDeep[] = "the line nests deeper than 64 levels";
constexpr char kOutOfRange[] = "an integer is out of the signed 64-bit range";
constexpr char kNotObject[] = "a request is a JSON object";
constexpr char kTrailing[] = "the line goes on after its JSON value";
constexpr char kHuge[] = "a number is too large for a double";
constexpr char kLone[] = "a \\u escape is a lone surrogate";
constexpr char kBadUtf8At18[] = "the line is not valid UTF-8 (at byte 18)";
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
      Bad(R"({"op":"ping","id":18446744073709551615})", kOutOfRange),
      Bad(PingWith("18446744073709551615"), kOutOfRange),
      Ok(PingWith("-9223372036854775808")),
      Ok(PingWith("1e-400")),
      Ok(PingWith("123456789012345678901234567890.5")),
      Ok(PingWith("\"\\uDBFF\\uDFFF \\u007f \\u07ff \\uffff \xF4\x8F\xBF\xBF\"")),
      Ok(PingWith("\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xF0\x90\x80\x80\"")),
      Ok(Nested(63)),
      // A NUL byte ends nothing: it is refused wherever it is (it used to end
      // the text, as it did for nlohmann::json).
      Bad("{\"op\":\"ping\"}\0"s, "the line holds a NUL byte (at byte 13)"),
      Bad("{\"op\":\"ping\"} \0 trailing {"s, "the line holds a NUL byte (at byte 14)"),
      Bad("{\"op\":\"ping\"}\0"s + std::string(100, '['), "the line holds a NUL byte (at byte 13)"),
      Bad("\0{\"op\":\"ping\"}"s, "the line holds a NUL byte (at byte 0)"),
      Bad("{\"op\":\"ping\",\0}"s, "the line holds a NUL byte (at byte 13)"),
      // Not JSON.
      Bad("", kNotJson),
      Bad("   ", kNotJson),
      Bad(R"({"op":"ping"} x)", kTrailing),
      Bad(R"({"op":"ping"}{})", kTrailing),
      Bad(R"({"op":"ping",})", kNotJson),
      Bad(R"({"op":"ping" "id":1})", kNotJson),
      Bad(R"({"op" "ping"})", kNotJson),
      Bad(R"({'op':'ping'})", kNotJson),
      Bad(R"({op:"ping"})", kNotJson),
      Bad(R"({"op":"ping"])", kNotJson),
      Bad(R"({"op":"ping")", kNotJson),
      Bad(R"({"op":"ping","x":"abc)", kNotJson),
      Bad(R"(/* c */{"op":"ping"})", kNotJson),
      Bad("\xEF\xBB{\"op\":\"ping\"}", "the line is not valid UTF-8 (at byte 0)"),
      Bad(" \xEF\xBB\xBF{\"op\":\"ping\"}", kNotJson),
      Bad("{\"op\":\"ping\"}\f", kTrailing),
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
      Bad(PingWith("1e400"), kHuge),
      Bad(PingWith("-1e400"), kHuge),
      Bad(PingWith("1" + std::string(400, '0')), kOutOfRange),
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
      Bad(PingWith("\"a\0b\""s), "the line holds a NUL byte (at byte 19)"),
      Bad(PingWith(R"("\ud800")"), kLone),
      Bad(PingWith(R"("\udc00")"), kLone),
      Bad(PingWith(R"("\ud800\u0041")"), kLone),
      Bad(PingWith(R"("\ud800\ud800")"), kLone),
      Bad(PingWith(R"("\udc00\ud800")"), kLone),
      Bad(PingWith("\"\xC0\xAF\""), kBadUtf8At18),          // overlong
      Bad(PingWith("\"\xC1\xBF\""), kBadUtf8At18),          // overlong
      Bad(PingWith("\"\xE0\x80\xAF\""), kBadUtf8At18),      // overlong
      Bad(PingWith("\"\xF0\x80\x80\xAF\""), kBadUtf8At18),  // overlong
      Bad(PingWith("\"\xED\xA0\x80\""), kBadUtf8At18),      // a surrogate
      Bad(PingWith("\"\xF4\x90\x80\x80\""), kBadUtf8At18),  // above U+10FFFF
      Bad(PingWith("\"\xF5\x80\x80\x80\""), kBadUtf8At18),
      Bad(PingWith("\"\xFF\""), kBadUtf8At18),
      Bad(PingWith("\"\x80\""), kBadUtf8At18),  // a lone continuation byte
      Bad(PingWith("\"\xC3\""), kBadUtf8At18),  // truncated
      Bad(PingWith("\"\xE2\x82\""), kBadUtf8At18),
      Bad(PingWith("\"\xC3(\""), kBadUtf8At18),
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
      Bad(R"({"op":"acquire","db":"main","lease_ms":9223372036854775808})", kOutOfRange),
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
      Bad(Query("[1,9223372036854775808]"), kOutOfRange),
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
  Request req =
      MustDecode(R"({"op":"query","db":"main","mode":"auto","sql":"S","decltypes":true})");
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

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The bytes a vector stands for: "line" (its UTF-8) or "line_hex".
std::string VectorLine(const nlohmann::json& vector) {
  if (vector.contains("line")) return vector["line"].get<std::string>();
  std::string hex = vector["line_hex"].get<std::string>(), bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

Value VectorValue(const nlohmann::json& j) {
  if (j.is_null()) return Value{};
  if (j.is_number_integer()) return Value{j.get<int64_t>()};
  if (j.is_number_float()) return Value{j.get<double>()};
  if (j.is_string()) return Value{j.get<std::string>()};
  Blob blob;
  EXPECT_TRUE(wire::Base64Decode(j.at("$blob").get<std::string>(), &blob.bytes)) << j.dump();
  return Value{std::move(blob)};
}

// The Request a vector's "expect.request" describes: the fields it lists,
// the defaults for the others (tests/vectors/request_lines.json, top).
Request VectorRequest(const nlohmann::json& r, const nlohmann::json& expect) {
  static const std::pair<const char*, Op> kOps[] = {
      {"hello", Op::kHello}, {"ping", Op::kPing},     {"acquire", Op::kAcquire},
      {"query", Op::kQuery}, {"exec", Op::kExec},     {"release", Op::kRelease},
      {"stats", Op::kStats}, {"leases", Op::kLeases}, {"backup", Op::kBackup}};
  Request req;
  for (const auto& [name, op] : kOps) {
    if (r.at("op") == name) req.op = op;
  }
  req.id_json = expect.value("id", "");
  req.db = r.value("db", "");
  req.mode = r.value("mode", "write") == "read" ? Mode::kRead : Mode::kWrite;
  req.auto_mode = r.value("auto_mode", false);
  req.decltypes = r.value("decltypes", false);
  if (r.contains("wait_ms")) req.wait_ms = r["wait_ms"].get<int64_t>();
  if (r.contains("lease_ms")) req.lease_ms = r["lease_ms"].get<int64_t>();
  req.tag = r.value("tag", "");
  req.has_lease = r.contains("lease");
  req.lease_well_formed = r.value("lease_well_formed", false);
  if (req.lease_well_formed) wire::ParseLeaseId(r["lease"].get<std::string>(), &req.lease);
  req.sql = r.value("sql", "");
  req.file = r.value("file", "");
  if (r.contains("params") && r["params"].is_array()) {
    for (const auto& v : r["params"]) req.params.positional.push_back(VectorValue(v));
  } else if (r.contains("params")) {
    req.params.named = true;
    for (const auto& [name, v] : r["params"].items()) {
      req.params.by_name.emplace_back(name, VectorValue(v));
    }
  }
  return req;
}

// The grammar's vectors, the definition the daemon and the clients share:
// each line gets exactly the status, message, echoed id and fields listed.
TEST(RequestDecodeTest, RequestLineVectors) {
  auto vectors = nlohmann::json::parse(
      ReadFile(LITEPOOL_SOURCE_DIR "/tests/vectors/request_lines.json"), nullptr, false);
  ASSERT_TRUE(vectors.is_array());
  EXPECT_GE(vectors.size(), 100u);
  for (const auto& vector : vectors) {
    const std::string name = vector.at("name");
    const std::string line = VectorLine(vector);
    const auto& expect = vector.at("expect");
    EXPECT_EQ(line.find('\n'), std::string::npos) << name;
    Request req;
    Status st = DecodeRequest(line, &req);
    if (expect.contains("error")) {
      EXPECT_EQ(wire::CodeName(st.code()), expect["error"].get<std::string>()) << name;
      EXPECT_EQ(st.message(), expect["message"].get<std::string>()) << name;
      EXPECT_EQ(req.id_json, expect.value("id", "")) << name;
      continue;
    }
    ASSERT_TRUE(st.ok()) << name << ": " << st.message();
    EXPECT_EQ(fuzz::RequestDifference(VectorRequest(expect.at("request"), expect), req), "")
        << name;
  }
}

// Whatever the decoder accepts, another encoder's line for the same
// Request (UTF-8 or \u escapes) decodes to it again: the property
// fuzz/decode_fuzzer.cc checks on random lines, here on the table, the
// vectors and the protocol vectors' requests.
TEST(RequestDecodeTest, AcceptedLinesRoundTrip) {
  std::vector<std::string> lines;
  for (const Case& c : Table()) lines.push_back(c.line);
  auto vectors = nlohmann::json::parse(
      ReadFile(LITEPOOL_SOURCE_DIR "/tests/vectors/request_lines.json"), nullptr, false);
  for (const auto& vector : vectors) lines.push_back(VectorLine(vector));
  auto protocol = nlohmann::json::parse(
      ReadFile(LITEPOOL_SOURCE_DIR "/tests/vectors/protocol_vectors.json"), nullptr, false);
  ASSERT_TRUE(protocol.is_array());
  for (const auto& vector : protocol) lines.push_back(vector["request"].dump());
  size_t accepted = 0;
  for (const std::string& line : lines) {
    Request req;
    if (!DecodeRequest(line, &req).ok()) continue;
    ++accepted;
    for (bool ascii : {false, true}) {
      std::string again = fuzz::EncodeRequestLine(req, ascii);
      Request back;
      Status st = DecodeRequest(again, &back);
      ASSERT_TRUE(st.ok()) << line << " -> " << again << ": " << st.message();
      EXPECT_EQ(fuzz::RequestDifference(req, back), "") << line << " -> " << again;
    }
  }
  EXPECT_GT(accepted, 100u);
}

}  // namespace
}  // namespace litepool::server
