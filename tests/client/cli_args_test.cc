// The CLI's argument and parameter parsing, without a daemon.
#include <gtest/gtest.h>

#include "client/cli/args.h"

namespace litepool::cli {
namespace {

using client::Value;
using client::ValueType;

Value Param(const std::string& text) {
  Value value;
  std::string error;
  EXPECT_TRUE(ParseParam(text, &value, &error)) << text << ": " << error;
  return value;
}

bool Parse(std::vector<std::string> args, Invocation* out, std::string* error) {
  args.insert(args.begin(), "litepool");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ParseArgs(static_cast<int>(argv.size()), argv.data(), out, error);
}

TEST(ParseParamTest, Kinds) {
  EXPECT_EQ(Param("42"), Value(42));
  EXPECT_EQ(Param("-7"), Value(-7));
  EXPECT_EQ(Param("+3"), Value(3));
  EXPECT_EQ(Param("9223372036854775807"), Value(INT64_MAX));
  EXPECT_EQ(Param("2.0").type(), ValueType::kReal);
  EXPECT_EQ(Param("2.0"), Value(2.0));
  EXPECT_EQ(Param("-1e3"), Value(-1000.0));
  EXPECT_EQ(Param(".5"), Value(0.5));
  EXPECT_TRUE(Param("null").is_null());
  EXPECT_EQ(Param("NULL"), Value("NULL"));
  EXPECT_EQ(Param(""), Value(""));
  EXPECT_EQ(Param("abc"), Value("abc"));
  EXPECT_EQ(Param("12abc"), Value("12abc"));
  EXPECT_EQ(Param("1.2.3"), Value("1.2.3"));
  EXPECT_EQ(Param("nan"), Value("nan"));
  EXPECT_EQ(Param("inf"), Value("inf"));
  EXPECT_EQ(Param("0x10"), Value("0x10"));
  EXPECT_EQ(Param("e"), Value("e"));
  EXPECT_EQ(Param("-"), Value("-"));
}

TEST(ParseParamTest, OutOfRangeIsAnError) {
  Value value;
  std::string error;
  EXPECT_FALSE(ParseParam("9223372036854775808", &value, &error));
  EXPECT_FALSE(ParseParam("1e999", &value, &error));
}

TEST(ParseArgsTest, OptionsBeforeAndAfterTheCommand) {
  Invocation inv;
  std::string error;
  ASSERT_TRUE(Parse({"--socket", "/s", "--json", "query", "--read", "main", "SELECT ?", "-5"}, &inv,
                    &error))
      << error;
  EXPECT_EQ(inv.socket, "/s");
  EXPECT_TRUE(inv.json);
  EXPECT_TRUE(inv.read);
  EXPECT_EQ(inv.command, "query");
  EXPECT_EQ(inv.args, (std::vector<std::string>{"main", "SELECT ?", "-5"}));

  Invocation ended;
  ASSERT_TRUE(Parse({"query", "main", "SELECT ?", "--", "--read"}, &ended, &error)) << error;
  EXPECT_FALSE(ended.read);
  EXPECT_EQ(ended.args.back(), "--read");

  Invocation equals;
  ASSERT_TRUE(Parse({"--socket=/x", "ping"}, &equals, &error));
  EXPECT_EQ(equals.socket, "/x");
}

TEST(ParseArgsTest, UsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"nope"},
                                             {"--bogus", "ping"},
                                             {"ping", "x"},
                                             {"query", "main"},
                                             {"exec", "main", "a", "b"},
                                             {"--socket"},
                                             {"stats", "--read"},
                                             {"shell"},
                                             {"shell", "main", "extra"},
                                             {"shell", "--auto", "main"},
                                             {"stats", "--auto"},
                                             {"query", "--read", "--auto", "main", "SELECT 1"},
                                             {"exec", "--decltypes", "main", "SELECT 1"},
                                             {"shell", "--decltypes", "main"}}) {
    Invocation inv;
    std::string error;
    EXPECT_FALSE(Parse(args, &inv, &error)) << ::testing::PrintToString(args);
    EXPECT_FALSE(error.empty());
  }
}

TEST(ParseArgsTest, ShellTakesOneDatabaseAndRead) {
  Invocation inv;
  std::string error;
  ASSERT_TRUE(Parse({"shell", "--read", "main"}, &inv, &error)) << error;
  EXPECT_EQ(inv.command, "shell");
  EXPECT_EQ(inv.args, std::vector<std::string>{"main"});
  EXPECT_TRUE(inv.read);
}

TEST(ParseArgsTest, AutoForOneShotsAndDeclTypesForQuery) {
  Invocation query, exec;
  std::string error;
  ASSERT_TRUE(Parse({"query", "--auto", "--decltypes", "main", "SELECT 1"}, &query, &error))
      << error;
  EXPECT_TRUE(query.auto_mode);
  EXPECT_TRUE(query.decltypes);
  EXPECT_FALSE(query.read);
  ASSERT_TRUE(Parse({"--auto", "exec", "main", "SELECT 1"}, &exec, &error)) << error;
  EXPECT_TRUE(exec.auto_mode);
  EXPECT_FALSE(exec.decltypes);
}

TEST(ParseArgsTest, HelpAndVersionNeedNoCommand) {
  Invocation help, version;
  std::string error;
  ASSERT_TRUE(Parse({"--help"}, &help, &error));
  EXPECT_TRUE(help.help);
  ASSERT_TRUE(Parse({"--version"}, &version, &error));
  EXPECT_TRUE(version.version);
}

}  // namespace
}  // namespace litepool::cli
