// The value mapping of docs/protocol.md end to end: every SQLite storage class
// through parameters, storage and results, bit for bit.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

class ValuesTest : public ProtocolTest {
 protected:
  void SetUp() override {
    ProtocolTest::SetUp();
    if (HasFatalFailure()) return;
    client_ = std::make_unique<LineClient>(daemon_.socket_path());
    lease_ = Acquire(*client_);
    ASSERT_FALSE(lease_.empty());
    // No declared type: no affinity, so SQLite keeps each value's class.
    ASSERT_TRUE(
        IsOk(client_->Call({{"op", "exec"}, {"lease", lease_}, {"sql", "CREATE TABLE v(x)"}})));
  }

  // Stores `value` in a fresh row and reads back [x, typeof(x)].
  json StoreAndLoad(const json& value) {
    json reply = client_->Call({{"op", "exec"}, {"lease", lease_}, {"sql", "DELETE FROM v"}});
    EXPECT_TRUE(IsOk(reply));
    reply = client_->Call({{"op", "query"},
                           {"lease", lease_},
                           {"sql", "INSERT INTO v VALUES (?)"},
                           {"params", json::array({value})}});
    EXPECT_TRUE(IsOk(reply)) << value.dump();
    reply =
        client_->Call({{"op", "query"}, {"lease", lease_}, {"sql", "SELECT x, typeof(x) FROM v"}});
    EXPECT_TRUE(IsOk(reply));
    if (!reply.contains("rows") || reply["rows"].size() != 1) {
      ADD_FAILURE() << reply.dump();
      return json::array({nullptr, ""});
    }
    return reply["rows"][0];
  }

  // `SELECT ?` straight back: the value as bound, no storage.
  json Echo(const json& value) {
    json reply = client_->Call({{"op", "query"},
                                {"lease", lease_},
                                {"sql", "SELECT ?"},
                                {"params", json::array({value})}});
    EXPECT_TRUE(IsOk(reply)) << value.dump();
    if (!reply.contains("rows") || reply["rows"].size() != 1) return nullptr;
    return reply["rows"][0][0];
  }

  std::unique_ptr<LineClient> client_;
  std::string lease_;
};

TEST_F(ValuesTest, Null) {
  EXPECT_EQ(StoreAndLoad(nullptr), json::array({nullptr, "null"}));
  EXPECT_EQ(Echo(nullptr), nullptr);
}

TEST_F(ValuesTest, Int64Extremes) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1} << 53, (int64_t{1} << 53) + 1,
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    json row = StoreAndLoad(v);
    EXPECT_EQ(row[1], "integer") << v;
    ASSERT_TRUE(row[0].is_number_integer()) << row.dump();
    EXPECT_EQ(row[0].get<int64_t>(), v);
    // The reply carries the exact digits, not a double approximation.
    json echo = Echo(v);
    EXPECT_TRUE(echo.is_number_integer()) << echo.dump();
    EXPECT_EQ(echo.get<int64_t>(), v);
  }
}

TEST_F(ValuesTest, IntegerLiteralIsIntegerOnTheWire) {
  json reply = client_->Call({{"op", "query"},
                              {"lease", lease_},
                              {"sql", "SELECT 9223372036854775807, -9223372036854775808, 2"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"][0][0].get<int64_t>(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(reply["rows"][0][1].get<int64_t>(), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(reply["rows"][0][2].is_number_integer());
}

TEST_F(ValuesTest, DoublesRoundTripBitExact) {
  for (double v : {0.1, 1e300, -1e-300, 2.0, 5e-324, 1.7976931348623157e308,
                   2.2250738585072014e-308, -3.5, 123456789.123456789, 1e17, 0.0}) {
    json row = StoreAndLoad(v);
    EXPECT_EQ(row[1], "real") << v;
    ASSERT_TRUE(row[0].is_number_float()) << v << " came back as " << row[0].dump();
    EXPECT_EQ(std::bit_cast<uint64_t>(row[0].get<double>()), std::bit_cast<uint64_t>(v))
        << v << " came back as " << row[0].dump();
    json echo = Echo(v);
    ASSERT_TRUE(echo.is_number_float()) << v << " echoed as " << echo.dump();
    EXPECT_EQ(std::bit_cast<uint64_t>(echo.get<double>()), std::bit_cast<uint64_t>(v));
  }
}

TEST_F(ValuesTest, IntegralDoubleIsStoredAsReal) {
  // On the wire 2.0 is a float ("2.0"), so it must bind as REAL, not INTEGER.
  ASSERT_TRUE(client_->Send(R"({"op":"query","lease":")" + lease_ +
                            R"j(","sql":"SELECT typeof(?), typeof(?)","params":[2.0, 2]})j"));
  std::optional<std::string> line = client_->ReadLine();
  ASSERT_TRUE(line.has_value());
  json reply = json::parse(*line);
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse(R"([["real", "integer"]])"));
  // And a REAL result is written as a float even when integral.
  reply = client_->Call({{"op", "query"}, {"lease", lease_}, {"sql", "SELECT 2.0, 1e20"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_TRUE(reply["rows"][0][0].is_number_float()) << reply.dump();
  EXPECT_TRUE(reply["rows"][0][1].is_number_float()) << reply.dump();
}

TEST_F(ValuesTest, NegativeZeroKeepsItsSign) {
  json echo = Echo(-0.0);
  ASSERT_TRUE(echo.is_number_float()) << echo.dump();
  EXPECT_TRUE(std::signbit(echo.get<double>())) << echo.dump();
  json row = StoreAndLoad(-0.0);
  EXPECT_EQ(row[1], "real");
  EXPECT_EQ(row[0].get<double>(), 0.0);
}

TEST_F(ValuesTest, UnicodeText) {
  for (const std::string& text : {std::string(""), std::string("plain"),
                                  std::string("h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93"),
                                  std::string("\xF0\x9D\x84\x9E clef, \xE6\x97\xA5\xE6\x9C\xAC"),
                                  std::string("quotes \" backslash \\ newline \n tab \t ctl \x01"),
                                  std::string(10000, 'x')}) {
    json row = StoreAndLoad(text);
    EXPECT_EQ(row[1], "text");
    EXPECT_EQ(row[0], text);
  }
  // length() counts characters: the text reached SQLite as UTF-8.
  json reply = client_->Call({{"op", "query"},
                              {"lease", lease_},
                              {"sql", "SELECT length(?)"},
                              {"params", {"\xF0\x9D\x84\x9E\xC3\xA9"}}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"][0][0], 2);
}

TEST_F(ValuesTest, BlobWithEveryByte) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  std::string b64;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) n |= uint8_t(bytes[i + 2]);
    b64 += kAlphabet[(n >> 18) & 63];
    b64 += kAlphabet[(n >> 12) & 63];
    b64 += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    b64 += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  json blob = {{"$blob", b64}};
  json row = StoreAndLoad(blob);
  EXPECT_EQ(row[1], "blob");
  EXPECT_EQ(row[0], blob);

  json reply = client_->Call({{"op", "query"},
                              {"lease", lease_},
                              {"sql", "SELECT length(x), hex(substr(x, 255, 2)) FROM v"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse(R"([[256, "FEFF"]])"));
}

TEST_F(ValuesTest, BlobLiteralComesBackAsBlob) {
  json reply = client_->Call({{"op", "query"}, {"lease", lease_}, {"sql", "SELECT x'00ff10'"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"][0][0], json({{"$blob", "AP8Q"}}));
}

TEST_F(ValuesTest, EmptyBlobStaysBlob) {
  json row = StoreAndLoad({{"$blob", ""}});
  EXPECT_EQ(row[1], "blob");
  EXPECT_EQ(row[0], json({{"$blob", ""}}));
}

TEST_F(ValuesTest, NamedParamsCarryEveryType) {
  json reply = client_->Call(
      {{"op", "query"},
       {"lease", lease_},
       {"sql", "SELECT typeof(:n), typeof(:i), typeof(:r), typeof(:t), typeof(:b)"},
       {"params", {{"n", nullptr}, {"i", 1}, {"r", 1.5}, {"t", "x"}, {"b", {{"$blob", "AA=="}}}}}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse(R"([["null", "integer", "real", "text", "blob"]])"));
}

TEST_F(ValuesTest, MalformedValuesAreBadRequests) {
  for (const json& bad :
       {json({{"$blob", "not base64!"}}), json({{"other", 1}}), json::array({1, 2})}) {
    json reply = client_->Call(
        {{"op", "query"}, {"lease", lease_}, {"sql", "SELECT ?"}, {"params", json::array({bad})}});
    EXPECT_TRUE(IsError(reply, "bad_request")) << bad.dump();
  }
  EXPECT_TRUE(IsOk(client_->Call({{"op", "ping"}})));
}

}  // namespace
}  // namespace litepool::testing
