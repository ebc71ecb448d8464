// The reply lines of docs/protocol.md, byte for byte: what clients parse.
#include "server/reply.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace litepool::server {
namespace {

TEST(ReplyTest, OkAndErrorLinesCarryTheIdAndEndInANewline) {
  EXPECT_EQ(OkReply("7"), "{\"id\":7,\"ok\":true}\n");
  EXPECT_EQ(OkReply(""), "{\"ok\":true}\n");
  EXPECT_EQ(ErrorReply("\"a\"", Status(Code::kUnknownLease, "no such lease")),
            "{\"id\":\"a\",\"ok\":false,\"error\":{\"code\":\"unknown_lease\","
            "\"message\":\"no such lease\"}}\n");
}

TEST(ReplyTest, SqlErrorsCarrySqlitesExtendedCode) {
  std::string line = ErrorReply("", Status(Code::kSqlError, "near \"SELEC\": syntax error", 1));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["error"]["code"], "sql_error");
  EXPECT_EQ(j["error"]["sqlite_code"], 1);
  EXPECT_EQ(j["error"]["message"], "near \"SELEC\": syntax error");
  // Other codes carry it only when SQLite gave one.
  EXPECT_EQ(nlohmann::json::parse(ErrorReply("", Status(Code::kBusy, "locked")))["error"].count(
                "sqlite_code"),
            0u);
}

TEST(ReplyTest, LeaseAndReleaseReplies) {
  EXPECT_EQ(LeaseReply("1", 0x00ab00cd00ef0012ull, "main", Mode::kRead, Millis(30000)),
            "{\"id\":1,\"ok\":true,\"lease\":\"00ab00cd00ef0012\",\"db\":\"main\","
            "\"mode\":\"read\",\"lease_ms\":30000}\n");
  EXPECT_EQ(ReleaseReply("", true), "{\"ok\":true,\"rolled_back\":true}\n");
}

TEST(ReplyTest, ExecReplyAppendsToWhatIsThere) {
  std::string out = "{\"ok\":true}\n";
  StatementOutcome outcome;
  outcome.changes = 3;
  outcome.last_insert_rowid = 42;
  AppendExecReply(&out, "", outcome);
  EXPECT_EQ(out, "{\"ok\":true}\n{\"ok\":true,\"changes\":3,\"last_insert_rowid\":42}\n");
}

TEST(ReplyTest, ValuesAsTheProtocolMapsThem) {
  std::string out;
  ReplyWriter w(&out, "");
  w.Key("v").BeginArray();
  w.Cell(ValueView());
  ValueView i;
  i.type = ValueType::kInteger;
  i.integer = -9007199254740993;
  w.Cell(i);
  ValueView r;
  r.type = ValueType::kReal;
  r.real = 2.0;
  w.Cell(r);
  ValueView inf;
  inf.type = ValueType::kReal;
  inf.real = std::numeric_limits<double>::infinity();
  w.Cell(inf);
  ValueView t;
  t.type = ValueType::kText;
  t.bytes = "tab\there \"q\" \x01 \xe2\x82\xac";
  w.Cell(t);
  ValueView b;
  b.type = ValueType::kBlob;
  b.bytes = std::string_view("\x00\xff\x10", 3);
  w.Cell(b);
  w.EndArray();
  w.Finish();
  EXPECT_EQ(out,
            "{\"ok\":true,\"v\":[null,-9007199254740993,2.0,null,"
            "\"tab\\there \\\"q\\\" \\u0001 \xe2\x82\xac\",{\"$blob\":\"AP8Q\"}]}\n");
}

TEST(ReplyTest, InvalidUtf8IsReplacedSoTheLineStaysJson) {
  std::string out;
  ReplyWriter w(&out, "");
  w.Key("s").String(
      "a\xff"
      "b");
  w.Finish();
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["s"],
            "a\xef\xbf\xbd"
            "b");
}

TEST(ReplyTest, ResultWriterStreamsColumnsRowsAndDecltypes) {
  std::string out;
  ResultWriter rows(&out, "5", 1 << 20, /*decltypes=*/true);
  rows.Columns({"k", "v"});
  rows.DeclTypes({"INTEGER", nullptr});
  ValueView k;
  k.type = ValueType::kInteger;
  k.integer = 1;
  ValueView v;
  v.type = ValueType::kText;
  v.bytes = "one";
  ASSERT_TRUE(rows.Row({k, v}).ok());
  StatementOutcome outcome;
  rows.Finish(outcome);
  EXPECT_EQ(out,
            "{\"id\":5,\"ok\":true,\"columns\":[\"k\",\"v\"],\"decltypes\":[\"INTEGER\",null],"
            "\"rows\":[[1,\"one\"]],\"changes\":0,\"last_insert_rowid\":0}\n");
}

TEST(ReplyTest, ResultWriterRefusesARowThatWouldPassTheLimit) {
  std::string out;
  ResultWriter rows(&out, "", 100, /*decltypes=*/false);
  rows.Columns({"v"});
  ValueView v;
  v.type = ValueType::kText;
  std::string big(200, 'x');
  v.bytes = big;
  Status st = rows.Row({v});
  EXPECT_EQ(st.code(), Code::kResultTooLarge);
  EXPECT_NE(st.message().find("max_result_bytes (100)"), std::string::npos);
  EXPECT_LT(out.size(), 100u) << "the refused row was written";
}

TEST(ReplyTest, StatsReplyHasEveryDocumentedKey) {
  StatsView stats;
  StatsView::Database& db = stats.databases.emplace_back();
  db.snapshot.db = "main";
  db.snapshot.up = false;
  db.snapshot.down_cause = "disk full";
  db.snapshot.sides[0].open = 1;
  db.counters[0].acquires[0] = 4;
  stats.clients = 2;
  stats.leases = 1;
  WalReport wal;
  wal.db = "main";
  wal.wal_bytes = 4096;
  stats.wal.push_back(wal);
  auto j = nlohmann::json::parse(StatsReply("", stats));
  EXPECT_EQ(j["pools"]["main"]["write"]["open"], 1);
  EXPECT_EQ(j["pools"]["main"]["write"]["acquires"].size(), kAcquireResultCount);
  EXPECT_TRUE(j["pools"]["main"].contains("lease_timeouts"));
  EXPECT_EQ(j["pools"]["main"]["up"], false);
  EXPECT_EQ(j["pools"]["main"]["error"], "disk full");
  EXPECT_TRUE(j["pools"]["main"].contains("read"));
  EXPECT_EQ(j["clients"], 2);
  EXPECT_EQ(j["leases"], 1);
  EXPECT_EQ(j["wal"]["main"]["wal_bytes"], 4096);
  EXPECT_TRUE(j["reaper"].contains("lag_seconds"));
}

TEST(ReplyTest, LeasesReplyShowsNullSnapshotAgeWhenNoneIsHeld) {
  LeaseInfo a;
  a.id = 1;
  a.db = "main";
  a.mode = Mode::kRead;
  a.tag = "svc[1]";
  LeaseInfo b = a;
  b.id = 2;
  b.snapshot_age_ms = 1500;
  auto j = nlohmann::json::parse(LeasesReply("", {a, b}));
  ASSERT_EQ(j["leases"].size(), 2u);
  EXPECT_EQ(j["leases"][0]["lease"], "0000000000000001");
  EXPECT_TRUE(j["leases"][0]["snapshot_age_ms"].is_null());
  EXPECT_EQ(j["leases"][1]["snapshot_age_ms"], 1500);
  EXPECT_EQ(j["leases"][0]["tag"], "svc[1]");
}

}  // namespace
}  // namespace litepool::server
