// The fixture the wire-protocol tests share: a fresh litepoold per test and
// helpers that speak the raw protocol.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/daemon.h"
#include "tests/support/metrics_text.h"

namespace litepool::testing {

using nlohmann::json;

// Starts the daemon with Overrides() merged over the test base config.
class ProtocolTest : public ::testing::Test {
 protected:
  virtual json Overrides() { return json::object(); }

  void SetUp() override { ASSERT_TRUE(daemon_.Start(Overrides())); }

  LineClient Connect() { return LineClient(daemon_.socket_path()); }

  // The lease id of a successful acquire; "" (and a test failure) otherwise.
  std::string Acquire(LineClient& client, const std::string& mode = "write",
                      json extra = json::object()) {
    json request = {{"op", "acquire"}, {"db", "main"}, {"mode", mode}};
    request.update(extra);
    json reply = client.Call(request);
    if (reply.value("ok", false) != true || !reply.contains("lease") ||
        !reply["lease"].is_string()) {
      ADD_FAILURE() << "acquire failed: " << reply.dump();
      return "";
    }
    return reply["lease"].get<std::string>();
  }

  // A one-shot exec on `main`, expected to succeed (schema set-up).
  void ExecOk(const std::string& sql) {
    LineClient client = Connect();
    json reply = client.Call({{"op", "exec"}, {"db", "main"}, {"sql", sql}});
    ASSERT_EQ(reply.value("ok", false), true) << sql << " -> " << reply.dump();
  }

  // The value of one metric sample, scraped now.
  std::optional<double> Metric(const std::string& name,
                               const std::map<std::string, std::string>& labels) {
    HttpResponse response = HttpGet(daemon_.metrics_port(), "/metrics");
    if (response.status != 200) return std::nullopt;
    return ParseMetrics(response.body).Value(name, labels);
  }

  // Waits until `count` acquires of `mode` are queued on `main`.
  bool WaitForWaiters(int count, const std::string& mode = "write") {
    return Eventually([&] {
      return Metric("litepool_waiters", {{"db", "main"}, {"mode", mode}}) == double(count);
    });
  }

  DaemonProcess daemon_;
};

// The error code of a failed reply ("" if it did not fail).
inline std::string ErrorCode(const json& reply) {
  if (!reply.is_object() || reply.value("ok", true) != false || !reply.contains("error") ||
      !reply["error"].is_object()) {
    return "";
  }
  return reply["error"].value("code", "");
}

// A reply that is {"ok": false, "error": {"code": code, "message": string}}.
inline ::testing::AssertionResult IsError(const json& reply, const std::string& code) {
  if (ErrorCode(reply) != code) {
    return ::testing::AssertionFailure() << "expected error " << code << ", got " << reply.dump();
  }
  if (!reply["error"].contains("message") || !reply["error"]["message"].is_string()) {
    return ::testing::AssertionFailure() << "error without a message string: " << reply.dump();
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult IsOk(const json& reply) {
  if (!reply.is_object() || !reply.contains("ok") || reply["ok"] != true) {
    return ::testing::AssertionFailure() << "expected ok, got " << reply.dump();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace litepool::testing
