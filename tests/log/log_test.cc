// Tests of log/: the exact JSON and text lines (docs/operations.md), level
// filtering and escaping, read back from what reached stderr.
#include "log/log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>

namespace litepool::log {
namespace {

// "2024-05-01T12:34:56.789Z": UTC with milliseconds.
constexpr char kTimestamp[] = R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)";

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override { Configure(Level::kInfo, Format::kJson); }

  // Everything written to stderr while `emit` runs.
  template <typename F>
  static std::string Captured(F emit) {
    ::testing::internal::CaptureStderr();
    emit();
    return ::testing::internal::GetCapturedStderr();
  }

  // The line with its timestamp replaced by "TS", after checking its form.
  static std::string WithoutTimestamp(const std::string& line) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(line, m, std::regex(kTimestamp))) << line;
    if (m.empty()) return line;
    return m.prefix().str() + "TS" + m.suffix().str();
  }
};

TEST_F(LogTest, JsonLine) {
  Configure(Level::kInfo, Format::kJson);
  std::string out = Captured([] {
    Info("pool_started")
        .Str("db", "main")
        .Int("handles", 3)
        .Int("negative", -42)
        .Bool("read_only", false)
        .Bool("wal", true)
        .Code("kind", Code::kDiskFull)
        .LeaseId("lease", 0xdeadbeefULL);
  });
  EXPECT_EQ(WithoutTimestamp(out),
            R"({"ts":"TS","level":"info","event":"pool_started","db":"main","handles":3,)"
            R"("negative":-42,"read_only":false,"wal":true,"kind":"disk_full",)"
            R"("lease":"00000000deadbeef"})"
            "\n");
}

TEST_F(LogTest, TextLine) {
  Configure(Level::kInfo, Format::kText);
  std::string out = Captured([] {
    Warn("lease_leak_warning")
        .Str("db", "main")
        .Int("pid", 4242)
        .Bool("in_transaction", true)
        .Code("kind", Code::kAcquireTimeout)
        .LeaseId("lease", 1);
  });
  EXPECT_EQ(WithoutTimestamp(out),
            "TS warn event=lease_leak_warning db=main pid=4242 in_transaction=true "
            "kind=acquire_timeout lease=0000000000000001\n");
}

TEST_F(LogTest, EachEventIsOneWholeLine) {
  Configure(Level::kDebug, Format::kJson);
  std::string out = Captured([] {
    Info("one");
    Error("two").Str("multi", "line\nvalue");
  });
  ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  size_t first_end = out.find('\n');
  EXPECT_NE(out.find(R"("event":"one"})"), std::string::npos) << out;
  EXPECT_LT(out.find(R"("event":"one")"), first_end);
  EXPECT_NE(out.find(R"("level":"error","event":"two","multi":"line\nvalue"})"), std::string::npos)
      << out;
}

TEST_F(LogTest, LevelsBelowTheConfiguredOneWriteNothing) {
  Configure(Level::kWarn, Format::kJson);
  EXPECT_FALSE(Enabled(Level::kDebug));
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kWarn));
  EXPECT_TRUE(Enabled(Level::kError));
  std::string out = Captured([] {
    Debug("d").Str("k", "v").Code("kind", Code::kBusy).LeaseId("lease", 7);
    Info("i").Int("n", 1);
    Warn("w");
    Error("e");
  });
  EXPECT_EQ(out.find(R"("event":"d")"), std::string::npos) << out;
  EXPECT_EQ(out.find(R"("event":"i")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("level":"warn","event":"w"})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("level":"error","event":"e"})"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;

  Configure(Level::kError, Format::kText);
  EXPECT_EQ(Captured([] { Warn("w"); }), "");
  Configure(Level::kDebug, Format::kText);
  EXPECT_NE(Captured([] { Debug("d"); }).find(" debug event=d\n"), std::string::npos);
}

TEST_F(LogTest, JsonValuesAreEscaped) {
  Configure(Level::kInfo, Format::kJson);
  std::string out = Captured([] {
    Info("ev\"il")
        .Str("sql", "SELECT \"x\" FROM t WHERE a = 'b\\c'\n\t\x01")
        .Str("bad",
             "a\xFF"
             "b");
  });
  EXPECT_EQ(WithoutTimestamp(out),
            R"({"ts":"TS","level":"info","event":"ev\"il",)"
            R"("sql":"SELECT \"x\" FROM t WHERE a = 'b\\c'\n\t\u0001","bad":"a)"
            "\xEF\xBF\xBD"
            R"(b"})"
            "\n");
}

TEST_F(LogTest, TextValuesAreQuotedOnlyWhenAmbiguous) {
  Configure(Level::kInfo, Format::kText);
  std::string out = Captured([] {
    Info("ev")
        .Str("plain", "main")
        .Str("space", "two words")
        .Str("equals", "a=b")
        .Str("quote", "say \"hi\"")
        .Str("newline", "a\nb")
        .Str("empty", "");
  });
  EXPECT_EQ(WithoutTimestamp(out), R"(TS info event=ev plain=main space="two words" equals="a=b" )"
                                   R"(quote="say \"hi\"" newline="a\nb" empty="")"
                                   "\n");
}

TEST_F(LogTest, LevelNamesAreTheConfigurationFilesWords) {
  EXPECT_STREQ(LevelName(Level::kDebug), "debug");
  EXPECT_STREQ(LevelName(Level::kInfo), "info");
  EXPECT_STREQ(LevelName(Level::kWarn), "warn");
  EXPECT_STREQ(LevelName(Level::kError), "error");
}

}  // namespace
}  // namespace litepool::log
