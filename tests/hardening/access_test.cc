// Peer access control (docs/configuration.md, docs/protocol.md) with real peers of another uid: the
// tests run as root and fork children that drop to uid/gid 65534 (nobody)
// before they connect, so SO_PEERCRED reports them as such. A child reports
// what it saw to the parent as one JSON object through a pipe.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/hardening/child.h"
#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

using std::chrono::milliseconds;

constexpr int kNobody = 65534;

// The socket must be reachable by uid 65534: a world-usable socket file in
// a world-searchable dir.
class AccessTest : public ProtocolTest {
 protected:
  virtual json AccessOverrides() { return json::object(); }

  json Overrides() override {
    json overrides = {
        {"socket_mode", "0666"},
        {"databases",
         {{"open", {{"path", daemon_.dir() + "/open.db"}, {"create_if_missing", true}}}}}};
    overrides.merge_patch(AccessOverrides());
    return overrides;
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run clients as another uid";
    ASSERT_EQ(::chmod(daemon_.dir().c_str(), 0755), 0);
    ProtocolTest::SetUp();
  }

  // Runs `requests` as `uid` on one connection; the child reports
  // {"connected": bool, "replies": [reply or the line that came unasked...],
  //  "eof": bool} where "eof" says the daemon closed the connection after.
  json RunAs(int uid, const std::vector<json>& requests, bool expect_unasked_line = false) {
    std::string socket = daemon_.socket_path();
    std::optional<std::string> report = RunInChild(
        [&]() -> std::string {
          RawClient client;
          json out = {{"uid", ::getuid()}, {"replies", json::array()}};
          out["connected"] = client.Connect(socket);
          if (!out["connected"]) return out.dump();
          if (expect_unasked_line) {
            std::optional<std::string> line = client.ReadLine(milliseconds(5000));
            out["replies"].push_back(line ? json::parse(*line, nullptr, false) : json(nullptr));
          }
          for (const json& request : requests) {
            json reply;
            if (!client.Call(request, &reply)) break;
            out["replies"].push_back(reply);
          }
          out["eof"] = client.AtEof(milliseconds(expect_unasked_line ? 5000 : 200));
          return out.dump();
        },
        uid);
    if (!report) return nullptr;
    json parsed = json::parse(*report, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << *report;
    if (parsed.is_object()) {
      EXPECT_EQ(parsed.value("uid", -1), uid) << *report;
    }
    return parsed;
  }
};

class DaemonAllowListTest : public AccessTest {
 protected:
  json AccessOverrides() override { return {{"allowed_uids", {12345}}}; }
};

TEST_F(DaemonAllowListTest, UnlistedUidGetsOneForbiddenLineAndIsClosed) {
  json seen = RunAs(kNobody, {}, /*expect_unasked_line=*/true);
  ASSERT_TRUE(seen.is_object());
  ASSERT_TRUE(seen["connected"].get<bool>()) << "the socket file must let uid 65534 connect";
  ASSERT_EQ(seen["replies"].size(), 1u) << seen.dump();
  EXPECT_TRUE(IsError(seen["replies"][0], "forbidden")) << seen.dump();
  EXPECT_TRUE(seen["eof"].get<bool>()) << "the refused connection must be closed";
  EXPECT_TRUE(daemon_.WaitForLog("\"event\":\"client_refused\"")) << daemon_.LogText();
  EXPECT_TRUE(daemon_.WaitForLog("\"uid\":65534")) << daemon_.LogText();

  // A listed uid is let in, and root always is.
  seen = RunAs(12345, {{{"op", "ping"}}, {{"op", "acquire"}, {"db", "main"}}});
  ASSERT_TRUE(seen.is_object());
  ASSERT_EQ(seen["replies"].size(), 2u) << seen.dump();
  EXPECT_TRUE(IsOk(seen["replies"][0]));
  EXPECT_TRUE(IsOk(seen["replies"][1]));
  LineClient root = Connect();
  EXPECT_TRUE(IsOk(root.Call({{"op", "ping"}})));
  root.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

class DatabaseAllowListTest : public AccessTest {
 protected:
  json AccessOverrides() override {
    return {{"databases", {{"main", {{"allowed_uids", {12345}}}}}}};
  }
};

TEST_F(DatabaseAllowListTest, UnlistedUidConnectsButCannotUseTheDatabase) {
  json seen = RunAs(kNobody, {
                                 {{"op", "ping"}},
                                 {{"op", "hello"}},
                                 {{"op", "acquire"}, {"db", "main"}},
                                 {{"op", "acquire"}, {"db", "main"}, {"mode", "read"}},
                                 {{"op", "query"}, {"db", "main"}, {"sql", "SELECT 1"}},
                                 {{"op", "exec"}, {"db", "main"}, {"sql", "SELECT 1"}},
                                 {{"op", "acquire"}, {"db", "open"}},
                                 {{"op", "ping"}, {"id", "last"}},
                             });
  ASSERT_TRUE(seen.is_object());
  ASSERT_TRUE(seen["connected"].get<bool>());
  const json& r = seen["replies"];
  ASSERT_EQ(r.size(), 8u) << seen.dump();
  EXPECT_TRUE(IsOk(r[0]));
  EXPECT_TRUE(IsOk(r[1]));
  EXPECT_TRUE(IsError(r[2], "forbidden"));
  EXPECT_TRUE(IsError(r[3], "forbidden"));
  EXPECT_TRUE(IsError(r[4], "forbidden"));
  EXPECT_TRUE(IsError(r[5], "forbidden"));
  EXPECT_TRUE(IsOk(r[6])) << "another database without its own allowed_uids is open";
  EXPECT_EQ(r[7].value("id", ""), "last");
  EXPECT_FALSE(seen["eof"].get<bool>()) << "a refused acquire must not close the connection";

  // Root uses main.
  LineClient root = Connect();
  EXPECT_FALSE(Acquire(root).empty());
  root.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

TEST_F(AccessTest, StatsAndLeasesAreForAdminsOnly) {
  json seen = RunAs(kNobody, {{{"op", "stats"}},
                              {{"op", "leases"}},
                              {{"op", "acquire"}, {"db", "main"}},
                              {{"op", "ping"}}});
  ASSERT_TRUE(seen.is_object());
  ASSERT_TRUE(seen["connected"].get<bool>());
  const json& r = seen["replies"];
  ASSERT_EQ(r.size(), 4u) << seen.dump();
  EXPECT_TRUE(IsError(r[0], "forbidden"));
  EXPECT_FALSE(r[0].contains("pools")) << "nothing of stats may leak";
  EXPECT_TRUE(IsError(r[1], "forbidden"));
  EXPECT_FALSE(r[1].contains("leases"));
  EXPECT_TRUE(IsOk(r[2])) << "no allowed_uids: anyone who can open the socket may acquire";
  EXPECT_TRUE(IsOk(r[3]));

  LineClient root = Connect();
  json stats = root.Call({{"op", "stats"}});
  ASSERT_TRUE(IsOk(stats));
  EXPECT_TRUE(stats.contains("pools"));
  json leases = root.Call({{"op", "leases"}});
  ASSERT_TRUE(IsOk(leases));
  EXPECT_TRUE(leases["leases"].is_array());
  root.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

class BackupAccessTest : public AccessTest {
 protected:
  json AccessOverrides() override {
    ::mkdir((daemon_.dir() + "/backups").c_str(), 0777);
    return {{"backup_dir", daemon_.dir() + "/backups"}};
  }
};

TEST_F(BackupAccessTest, BackupIsForAdminsOnly) {
  json seen = RunAs(kNobody, {{{"op", "backup"}, {"db", "main"}, {"file", "x.db"}}});
  ASSERT_TRUE(seen.is_object());
  ASSERT_EQ(seen["replies"].size(), 1u) << seen.dump();
  EXPECT_TRUE(IsError(seen["replies"][0], "forbidden")) << seen.dump();
  EXPECT_FALSE(std::filesystem::exists(daemon_.dir() + "/backups/x.db"));
  LineClient root = Connect();
  EXPECT_TRUE(IsOk(root.Call({{"op", "backup"}, {"db", "main"}, {"file", "x.db"}})));
  EXPECT_TRUE(std::filesystem::exists(daemon_.dir() + "/backups/x.db"));
}

}  // namespace
}  // namespace litepool::testing
