// The shell's statement splitter: where statements end, as sqlite3 decides.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "client/cli/splitter.h"

namespace litepool::cli {
namespace {

using Statements = std::vector<std::string>;

TEST(CliStatementSplitterTest, OneStatementPerSemicolon) {
  StatementSplitter splitter;
  EXPECT_EQ(splitter.Feed("SELECT 1; SELECT 2;\n"), (Statements{"SELECT 1;", "SELECT 2;"}));
  EXPECT_FALSE(splitter.HasPending());
}

TEST(CliStatementSplitterTest, LinesAccumulateUntilTheSemicolon) {
  StatementSplitter splitter;
  EXPECT_EQ(splitter.Feed("SELECT\n"), Statements{});
  EXPECT_TRUE(splitter.HasPending());
  EXPECT_EQ(splitter.Feed("  1 + 1\n"), Statements{});
  EXPECT_EQ(splitter.Feed(";\n"), Statements{"SELECT\n  1 + 1\n;"});
  EXPECT_FALSE(splitter.HasPending());
}

TEST(CliStatementSplitterTest, TextAfterTheLastSemicolonWaits) {
  StatementSplitter splitter;
  EXPECT_EQ(splitter.Feed("SELECT 1; SELECT\n"), Statements{"SELECT 1;"});
  EXPECT_TRUE(splitter.HasPending());
  EXPECT_EQ(splitter.Feed("2;\n"), Statements{"SELECT\n2;"});
}

TEST(CliStatementSplitterTest, QuotesHideSemicolons) {
  StatementSplitter splitter;
  EXPECT_EQ(splitter.Feed("SELECT 'a;b', \"c;d\", [e;f], `g;h`, 'it''s;';\n"),
            Statements{"SELECT 'a;b', \"c;d\", [e;f], `g;h`, 'it''s;';"});
  // A quote left open continues on the next line.
  EXPECT_EQ(splitter.Feed("SELECT 'one;\n"), Statements{});
  EXPECT_TRUE(splitter.HasPending());
  EXPECT_EQ(splitter.Feed("two';\n"), Statements{"SELECT 'one;\ntwo';"});
}

TEST(CliStatementSplitterTest, CommentsHideSemicolons) {
  StatementSplitter splitter;
  EXPECT_EQ(splitter.Feed("SELECT 1 -- not here;\n"), Statements{});
  EXPECT_EQ(splitter.Feed("/* nor ; here */ ;\n"),
            Statements{"SELECT 1 -- not here;\n/* nor ; here */ ;"});
  // Only comments and white space: nothing to run.
  EXPECT_EQ(splitter.Feed("-- a comment;\n/* ; */ ;;\n"), Statements{});
  EXPECT_FALSE(splitter.HasPending());
}

TEST(CliStatementSplitterTest, TriggerBodiesStayWhole) {
  StatementSplitter splitter;
  EXPECT_EQ(splitter.Feed("CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN\n"), Statements{});
  EXPECT_EQ(splitter.Feed("  INSERT INTO log VALUES (1);\n"), Statements{});
  EXPECT_TRUE(splitter.HasPending());
  EXPECT_EQ(splitter.Feed("  DELETE FROM log; END; SELECT 1;\n"),
            (Statements{"CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN\n"
                        "  INSERT INTO log VALUES (1);\n  DELETE FROM log; END;",
                        "SELECT 1;"}));
  // "end" as a plain word outside a trigger changes nothing.
  EXPECT_EQ(splitter.Feed("SELECT 1 AS end; BEGIN; END;\n"),
            (Statements{"SELECT 1 AS end;", "BEGIN;", "END;"}));
}

TEST(CliStatementSplitterTest, TakePendingReturnsTheUnterminatedRest) {
  StatementSplitter splitter;
  EXPECT_EQ(splitter.Feed("SELECT 1\n"), Statements{});
  EXPECT_EQ(splitter.TakePending(), "SELECT 1");
  EXPECT_FALSE(splitter.HasPending());
  EXPECT_EQ(splitter.Feed("-- only a comment\n"), Statements{});
  EXPECT_EQ(splitter.TakePending(), "");
}

}  // namespace
}  // namespace litepool::cli
