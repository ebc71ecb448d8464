// The CLI's result printing: JSON lines for programs, a table for people.
#include <gtest/gtest.h>

#include <sstream>

#include "client/cli/output.h"

namespace litepool::cli {
namespace {

using client::Blob;
using client::QueryResult;
using client::Value;

QueryResult Sample() {
  QueryResult result;
  result.columns = {"id", "name", "data"};
  result.rows = {{Value(1), Value("ab"), Value()},
                 {Value(100), Value("h\xC3\xA9llo\nworld"), Value(Blob{{0x0a, 0xff}})}};
  return result;
}

TEST(PrintJsonLinesTest, ColumnsThenOneArrayPerRow) {
  std::ostringstream out;
  PrintJsonLines(Sample(), out);
  EXPECT_EQ(out.str(),
            "[\"id\",\"name\",\"data\"]\n"
            "[1,\"ab\",null]\n"
            "[100,\"h\xC3\xA9llo\\nworld\",{\"$blob\":\"Cv8=\"}]\n");
}

TEST(PrintTableTest, AlignedWithNumbersOnTheRight) {
  std::ostringstream out;
  PrintTable(Sample(), out);
  EXPECT_EQ(out.str(),
            " id | name         | data\n"
            "----+--------------+--------\n"
            "  1 | ab           | NULL\n"
            "100 | h\xC3\xA9llo\\nworld | x'0aff'\n"
            "(2 rows)\n");
}

TEST(PrintJsonLinesTest, DeclTypesAfterTheColumns) {
  QueryResult result = Sample();
  result.decltypes = {"INTEGER", std::nullopt, "BLOB"};
  std::ostringstream plain, typed;
  PrintJsonLines(result, plain);
  PrintJsonLines(result, typed, true);
  EXPECT_EQ(plain.str().find("INTEGER"), std::string::npos) << "printed without being asked";
  EXPECT_EQ(typed.str(),
            "[\"id\",\"name\",\"data\"]\n"
            "[\"INTEGER\",null,\"BLOB\"]\n"
            "[1,\"ab\",null]\n"
            "[100,\"h\xC3\xA9llo\\nworld\",{\"$blob\":\"Cv8=\"}]\n");
}

TEST(PrintTableTest, DeclTypesAsASecondHeaderLine) {
  QueryResult result = Sample();
  result.decltypes = {"INTEGER", std::nullopt, "BLOB"};
  std::ostringstream out;
  PrintTable(result, out, true);
  EXPECT_EQ(out.str(),
            "     id | name         | data\n"
            "INTEGER |              | BLOB\n"
            "--------+--------------+--------\n"
            "      1 | ab           | NULL\n"
            "    100 | h\xC3\xA9llo\\nworld | x'0aff'\n"
            "(2 rows)\n");
}

TEST(PrintTableTest, StatementWithoutColumns) {
  QueryResult result;
  result.changes = 1;
  std::ostringstream out;
  PrintTable(result, out);
  EXPECT_EQ(out.str(), "(1 change)\n");
}

}  // namespace
}  // namespace litepool::cli
