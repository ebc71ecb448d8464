// How the client reads daemon replies, malformed ones included: a reply it
// cannot trust is an io_error, never a crash or a guessed value.
#include "client/reply.h"

#include <gtest/gtest.h>

namespace litepool::client::internal {
namespace {

using nlohmann::json;

ReplyKind Classify(const std::string& text, Error* error) {
  return ClassifyReply(json::parse(text), error);
}

TEST(ClassifyReplyTest, OkAndError) {
  Error error;
  EXPECT_EQ(Classify(R"({"ok": true})", &error), ReplyKind::kOk);
  ASSERT_EQ(Classify(R"({"ok": false, "error": {"code": "sql_error", "message": "near x",
                         "sqlite_code": 1}})",
                     &error),
            ReplyKind::kError);
  EXPECT_EQ(error.code, "sql_error");
  EXPECT_EQ(error.message, "near x");
  EXPECT_EQ(error.sqlite_code, 1);

  Error bare;
  ASSERT_EQ(Classify(R"({"ok": false, "error": {"code": "busy"}})", &bare), ReplyKind::kError);
  EXPECT_EQ(bare.code, "busy");
  EXPECT_EQ(bare.message, "");
  EXPECT_EQ(bare.sqlite_code, 0);
}

TEST(ClassifyReplyTest, Malformed) {
  for (const char* text :
       {R"({})", R"({"ok": 1})", R"({"ok": false})", R"({"ok": false, "error": "x"})",
        R"({"ok": false, "error": {}})", R"({"ok": false, "error": {"code": 3}})", R"([])"}) {
    Error error;
    EXPECT_EQ(Classify(text, &error), ReplyKind::kMalformed) << text;
    EXPECT_EQ(error.code, kIoError) << text;
  }
}

TEST(ParseQueryResultTest, Fields) {
  Result<QueryResult> result = ParseQueryResult(json::parse(
      R"({"ok": true, "columns": ["a", "b"], "rows": [[1, {"$blob": "AP8="}], [2.5, null]],
          "changes": 3, "last_insert_rowid": 9})"));
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->columns, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(result->rows.size(), 2u);
  EXPECT_EQ(result->rows[0][1], Value(Blob{{0, 255}}));
  EXPECT_EQ(result->rows[1][0], Value(2.5));
  EXPECT_TRUE(result->rows[1][1].is_null());
  EXPECT_EQ(result->changes, 3);
  EXPECT_EQ(result->last_insert_rowid, 9);
}

TEST(ParseQueryResultTest, MalformedIsIoError) {
  for (const char* text : {
           R"({"ok": true, "rows": []})",
           R"({"ok": true, "columns": [1], "rows": []})",
           R"({"ok": true, "columns": ["a"], "rows": [[1, 2]]})",
           R"({"ok": true, "columns": ["a"], "rows": [[true]]})",
           R"({"ok": true, "columns": ["a"], "rows": [], "changes": "x"})",
       }) {
    Result<QueryResult> result = ParseQueryResult(json::parse(text));
    ASSERT_FALSE(result.ok()) << text;
    EXPECT_EQ(result.error().code, kIoError);
  }
}

TEST(ParseQueryResultTest, DeclTypes) {
  Result<QueryResult> result = ParseQueryResult(json::parse(
      R"({"ok": true, "columns": ["a", "b"], "decltypes": ["INTEGER", null], "rows": []})"));
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->decltypes, (std::vector<std::optional<std::string>>{"INTEGER", std::nullopt}));
  for (const char* text : {
           R"({"ok": true, "columns": ["a"], "decltypes": [], "rows": []})",
           R"({"ok": true, "columns": ["a"], "decltypes": [1], "rows": []})",
           R"({"ok": true, "columns": ["a"], "decltypes": "INTEGER", "rows": []})",
       }) {
    Result<QueryResult> bad = ParseQueryResult(json::parse(text));
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.error().code, kIoError);
  }
}

TEST(ParseExecResultTest, FieldsAndMalformed) {
  Result<ExecResult> result =
      ParseExecResult(json::parse(R"({"ok": true, "changes": 2, "last_insert_rowid": 9})"));
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->changes, 2);
  EXPECT_EQ(result->last_insert_rowid, 9);
  Result<ExecResult> bare = ParseExecResult(json::parse(R"({"ok": true})"));
  ASSERT_TRUE(bare.ok()) << bare.error();
  EXPECT_EQ(bare->changes, 0);
  EXPECT_EQ(bare->last_insert_rowid, 0);
  EXPECT_FALSE(ParseExecResult(json::parse(R"({"ok": true, "last_insert_rowid": "9"})")).ok());
}

TEST(ParseHelloTest, FieldsAndMalformed) {
  Result<HelloInfo> hello = ParseHello(json::parse(
      R"({"ok": true, "server": "litepoold", "version": "0.1.0", "protocol": 1,
          "databases": ["a", "b"]})"));
  ASSERT_TRUE(hello.ok()) << hello.error();
  EXPECT_EQ(hello->server, "litepoold");
  EXPECT_EQ(hello->protocol, 1);
  EXPECT_EQ(hello->databases, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(ParseHello(json::parse(R"({"ok": true, "server": "x"})")).ok());
}

}  // namespace
}  // namespace litepool::client::internal
