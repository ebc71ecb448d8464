// The client's wire value mapping without a daemon: JSON forms of every
// value kind, and the checks that keep bad values off the wire. Base64
// itself is wire/'s (tests/wire/wire_test.cc).
#include "client/value_json.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "litepool/client.h"

namespace litepool::client {
namespace {

using internal::ParamsToJson;
using internal::ValueFromJson;
using internal::ValueToJson;
using nlohmann::json;

TEST(ValueJsonTest, WireForms) {
  EXPECT_EQ(ValueToJson(Value())->dump(), "null");
  EXPECT_EQ(ValueToJson(Value(std::numeric_limits<int64_t>::min()))->dump(),
            "-9223372036854775808");
  EXPECT_EQ(ValueToJson(Value(true))->dump(), "1");
  EXPECT_EQ(ValueToJson(Value("a\"b"))->dump(), R"("a\"b")");
  EXPECT_EQ(ValueToJson(Value(Blob{{0, 255}}))->dump(), R"({"$blob":"AP8="})");
}

TEST(ValueJsonTest, IntegralDoublesStayFloats) {
  // SQLite must see REAL: "2.0", never "2".
  EXPECT_EQ(ValueToJson(Value(2.0))->dump(), "2.0");
  EXPECT_EQ(ValueToJson(Value(-0.0))->dump(), "-0.0");
  EXPECT_TRUE(json::parse(ValueToJson(Value(1e17))->dump()).is_number_float());
  EXPECT_TRUE(json::parse(ValueToJson(Value(1e300))->dump()).is_number_float());
}

TEST(ValueJsonTest, DoublesRoundTripBitExact) {
  for (double v : {0.1, 2.0, -0.0, 1e300, 5e-324, 1.7976931348623157e308, 1.0 / 3.0,
                   2.2250738585072014e-308, 1e17, 123456789.123456789}) {
    json wire = json::parse(ValueToJson(Value(v))->dump());
    Value back;
    ASSERT_TRUE(ValueFromJson(wire, &back)) << v;
    ASSERT_EQ(back.type(), ValueType::kReal);
    EXPECT_EQ(std::bit_cast<uint64_t>(back.real()), std::bit_cast<uint64_t>(v)) << v;
  }
}

TEST(ValueJsonTest, NonFiniteDoublesAreRefused) {
  for (double v :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity()}) {
    Result<json> encoded = ValueToJson(Value(v));
    ASSERT_FALSE(encoded.ok());
    EXPECT_EQ(encoded.error().code, "bad_request");
  }
  EXPECT_FALSE(ParamsToJson({1, std::numeric_limits<double>::infinity()}).ok());
}

TEST(ValueJsonTest, FromJson) {
  Value v;
  ASSERT_TRUE(ValueFromJson(json::parse("9223372036854775807"), &v));
  EXPECT_EQ(v, Value(std::numeric_limits<int64_t>::max()));
  ASSERT_TRUE(ValueFromJson(json::parse("-5"), &v));
  EXPECT_EQ(v, Value(-5));
  ASSERT_TRUE(ValueFromJson(json::parse("2.0"), &v));
  EXPECT_EQ(v.type(), ValueType::kReal);
  ASSERT_TRUE(ValueFromJson(json::parse(R"({"$blob":"AP8="})"), &v));
  EXPECT_EQ(v, Value(Blob{{0, 255}}));
  ASSERT_TRUE(ValueFromJson(json::parse("null"), &v));
  EXPECT_TRUE(v.is_null());

  EXPECT_FALSE(ValueFromJson(json::parse("9223372036854775808"), &v));  // beyond int64
  EXPECT_FALSE(ValueFromJson(json::parse("true"), &v));
  EXPECT_FALSE(ValueFromJson(json::parse("[1]"), &v));
  EXPECT_FALSE(ValueFromJson(json::parse(R"({"$blob":"!!"})"), &v));
  EXPECT_FALSE(ValueFromJson(json::parse(R"({"$blob":"AA==","x":1})"), &v));
}

TEST(ValueJsonTest, ParamsPositionalAndNamed) {
  EXPECT_EQ(ParamsToJson({1, "a", nullptr})->dump(), R"([1,"a",null])");
  EXPECT_EQ(ParamsToJson(Params::Named({{"id", 7}, {"name", "x"}}))->dump(),
            R"({"id":7,"name":"x"})");
  EXPECT_EQ(ParamsToJson(Params())->dump(), "[]");
  EXPECT_EQ(ParamsToJson({{"id", 1}})->dump(), R"({"id":1})");
  EXPECT_EQ(ParamsToJson({{"a", "b"}})->dump(), R"({"a":"b"})");
  EXPECT_EQ(ParamsToJson({"a", "b"})->dump(), R"(["a","b"])");
  EXPECT_EQ(ParamsToJson(Params(std::vector<Value>{1, 2}))->dump(), "[1,2]");
}

TEST(ValueTest, ToString) {
  EXPECT_EQ(Value().ToString(), "NULL");
  EXPECT_EQ(Value(42).ToString(), "42");
  EXPECT_EQ(Value(2.0).ToString(), "2.0");
  EXPECT_EQ(Value(0.1).ToString(), "0.1");
  EXPECT_EQ(Value(1e300).ToString(), "1e+300");
  EXPECT_EQ(Value("text").ToString(), "text");
  EXPECT_EQ(Value(Blob{{0x0a, 0xff}}).ToString(), "x'0aff'");
}

TEST(ErrorTest, ToString) {
  EXPECT_EQ((Error{"sql_error", "near \"SELEC\"", 1}).ToString(),
            "sql_error: near \"SELEC\" (sqlite_code 1)");
  EXPECT_EQ((Error{"acquire_timeout", "waited 200 ms", 0}).ToString(),
            "acquire_timeout: waited 200 ms");
}

}  // namespace
}  // namespace litepool::client
