// The shared protocol test vectors (tests/vectors/protocol_vectors.json) run
// through Client::Call, each against a fresh daemon. tests/python/
// test_vectors.py runs the same file through the Python client.
//
// A vector: {"name", "setup": [requests], "request", "expect"}. The setup
// requests run first on the same connection and must each answer ok; the
// string "$lease" anywhere in a request stands for the lease id of the last
// setup reply that carried one. The request is sent exactly as written (no
// id is added). "expect" matches the reply as a recursive subset: an
// object's listed keys must be present and match, an array must have the
// same length and matching elements, a scalar must be equal and of the same
// JSON kind (1 is not 1.0), and {"$type": KIND} matches any value of that
// kind (string, integer, float, number, boolean, null, array, object).
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "litepool/client.h"
#include "tests/support/daemon.h"

namespace litepool::client {
namespace {

using litepool::testing::DaemonProcess;
using nlohmann::json;

const char kVectorsPath[] = LITEPOOL_SOURCE_DIR "/tests/vectors/protocol_vectors.json";

// Loaded when the test binary starts, so that each vector is a test of its
// own; an unreadable file gives no vectors and the LoadsVectors test fails.
std::vector<json> LoadVectors() {
  std::ifstream file(kVectorsPath);
  std::stringstream text;
  text << file.rdbuf();
  json vectors = json::parse(text.str(), nullptr, false);
  if (!vectors.is_array()) return {};
  return std::vector<json>(vectors.begin(), vectors.end());
}

const std::vector<json>& Vectors() {
  static const std::vector<json> vectors = LoadVectors();
  return vectors;
}

std::string Kind(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "float";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "other";
  }
}

// "" if `actual` matches `expect` (see the top of this file), else where and
// how it does not.
std::string Mismatch(const json& expect, const json& actual, const std::string& path) {
  if (expect.is_object() && expect.size() == 1 && expect.contains("$type")) {
    std::string kind = expect["$type"].get<std::string>();
    std::string got = Kind(actual);
    bool ok = kind == got || (kind == "number" && (got == "integer" || got == "float"));
    return ok ? "" : path + ": expected any " + kind + ", got " + actual.dump();
  }
  if (expect.is_object()) {
    if (!actual.is_object()) return path + ": expected an object, got " + actual.dump();
    for (const auto& [key, value] : expect.items()) {
      if (!actual.contains(key)) return path + ": missing key \"" + key + "\"";
      std::string inner = Mismatch(value, actual[key], path + "." + key);
      if (!inner.empty()) return inner;
    }
    return "";
  }
  if (expect.is_array()) {
    if (!actual.is_array() || actual.size() != expect.size()) {
      return path + ": expected " + expect.dump() + ", got " + actual.dump();
    }
    for (size_t i = 0; i < expect.size(); ++i) {
      std::string inner = Mismatch(expect[i], actual[i], path + "[" + std::to_string(i) + "]");
      if (!inner.empty()) return inner;
    }
    return "";
  }
  if (Kind(expect) != Kind(actual) || expect != actual) {
    return path + ": expected " + expect.dump() + ", got " + actual.dump();
  }
  return "";
}

// `request` with every "$lease" string replaced by `lease`.
json Substitute(const json& request, const std::string& lease) {
  if (request.is_string() && request == "$lease") return lease;
  if (!request.is_structured()) return request;
  json out = request;
  for (auto& item : out.items()) item.value() = Substitute(item.value(), lease);
  return out;
}

class VectorsTest : public ::testing::TestWithParam<json> {};

TEST_P(VectorsTest, ReplyMatches) {
  const json& vector = GetParam();
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start());
  Result<Client> client = Client::Connect(daemon.socket_path());
  ASSERT_TRUE(client.ok()) << client.error();
  std::string lease;
  for (const json& setup : vector.value("setup", json::array())) {
    Result<json> reply = client->Call(Substitute(setup, lease));
    ASSERT_TRUE(reply.ok()) << reply.error();
    ASSERT_EQ(reply->value("ok", false), true)
        << "setup " << setup.dump() << " -> " << reply->dump();
    if (reply->contains("lease")) lease = (*reply)["lease"].get<std::string>();
  }
  json request = Substitute(vector["request"], lease);
  Result<json> reply = client->Call(request);
  ASSERT_TRUE(reply.ok()) << reply.error();
  std::string mismatch = Mismatch(vector["expect"], *reply, "reply");
  EXPECT_EQ(mismatch, "") << "request " << request.dump() << "\nreply   " << reply->dump();
}

INSTANTIATE_TEST_SUITE_P(Protocol, VectorsTest, ::testing::ValuesIn(Vectors()),
                         [](const ::testing::TestParamInfo<json>& info) {
                           return info.param.value("name", "unnamed");
                         });

TEST(VectorsFileTest, LoadsVectorsWithUniqueNames) {
  ASSERT_FALSE(Vectors().empty()) << "cannot read a JSON array from " << kVectorsPath;
  std::set<std::string> names;
  for (const json& vector : Vectors()) {
    ASSERT_TRUE(vector.is_object()) << vector.dump();
    ASSERT_TRUE(vector.contains("name") && vector["name"].is_string()) << vector.dump();
    EXPECT_TRUE(vector.contains("request")) << vector["name"];
    EXPECT_TRUE(vector.contains("expect") && vector["expect"].is_object()) << vector["name"];
    EXPECT_TRUE(names.insert(vector["name"].get<std::string>()).second)
        << "duplicate name " << vector["name"];
  }
}

TEST(VectorsMatchTest, SubsetSemantics) {
  EXPECT_EQ(Mismatch(json::parse(R"({"a": 1})"), json::parse(R"({"a": 1, "b": 2})"), "r"), "");
  EXPECT_NE(Mismatch(json::parse(R"({"a": 1})"), json::parse(R"({"b": 1})"), "r"), "");
  EXPECT_NE(Mismatch(json::parse("2.0"), json::parse("2"), "r"), "");
  EXPECT_NE(Mismatch(json::parse("[1]"), json::parse("[1, 2]"), "r"), "");
  EXPECT_EQ(Mismatch(json::parse("[{\"a\": 1}]"), json::parse(R"([{"a": 1, "b": 0}])"), "r"), "");
  EXPECT_EQ(Mismatch(json::parse(R"({"$type": "number"})"), json::parse("2.5"), "r"), "");
  EXPECT_NE(Mismatch(json::parse(R"({"$type": "string"})"), json::parse("2"), "r"), "");
  EXPECT_EQ(Mismatch(json::parse("9223372036854775807"), json::parse("9223372036854775807"), "r"),
            "");
}

}  // namespace
}  // namespace litepool::client
