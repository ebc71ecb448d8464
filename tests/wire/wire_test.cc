// Tests of wire/: error code names, lease ids, hex, UTF-8, JSON escaping,
// base64, peer credentials and connecting to a Unix socket.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "wire/base64.h"
#include "wire/error_code.h"
#include "wire/hex.h"
#include "wire/json_escape.h"
#include "wire/lease_id.h"
#include "wire/peer.h"
#include "wire/unix_socket.h"
#include "wire/utf8.h"

namespace litepool::wire {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// --- error codes -----------------------------------------------------------

TEST(ErrorCodeTest, EveryCodeHasOneNameThatMapsBack) {
  std::set<std::string> names;
  for (int c = 0; c <= static_cast<int>(Code::kInternal); ++c) {
    Code code = static_cast<Code>(c);
    std::string name = CodeName(code);
    EXPECT_FALSE(name.empty()) << c;
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string::npos) << name;
    EXPECT_TRUE(names.insert(name).second) << "two codes named " << name;
    EXPECT_EQ(CodeFromName(name), code) << name;
  }
}

TEST(ErrorCodeTest, NamesTheProtocolPromises) {
  // docs/protocol.md, "Errors": clients match on these strings.
  EXPECT_STREQ(CodeName(Code::kOk), "ok");
  EXPECT_STREQ(CodeName(Code::kBadRequest), "bad_request");
  EXPECT_STREQ(CodeName(Code::kAcquireTimeout), "acquire_timeout");
  EXPECT_STREQ(CodeName(Code::kUnknownLease), "unknown_lease");
  EXPECT_STREQ(CodeName(Code::kLeaseExpired), "lease_expired");
  EXPECT_STREQ(CodeName(Code::kSqlError), "sql_error");
  EXPECT_STREQ(CodeName(Code::kDiskFull), "disk_full");
  EXPECT_STREQ(CodeName(Code::kDatabaseUnavailable), "database_unavailable");
  EXPECT_STREQ(CodeName(Code::kInternal), "internal");
}

TEST(ErrorCodeTest, UnknownNamesAndCodes) {
  for (const char* bad : {"", "io_error", "ACQUIRE_TIMEOUT", "acquire_timeout ", " busy",
                          "sql-error", "internal\n"}) {
    EXPECT_EQ(CodeFromName(bad), std::nullopt) << '"' << bad << '"';
  }
  EXPECT_EQ(CodeFromName(std::string_view("busy\0", 5)), std::nullopt);
  EXPECT_STREQ(CodeName(static_cast<Code>(1000)), "internal");
}

// --- lease ids -------------------------------------------------------------

TEST(LeaseIdTest, FormatsAndParsesBack) {
  std::mt19937_64 rng(12345);
  std::vector<uint64_t> ids = {0, 1, 0xf, 0x10, 0xdeadbeefULL, ~0ULL, 0x8000000000000000ULL};
  for (int i = 0; i < 1000; ++i) ids.push_back(rng());
  for (uint64_t id : ids) {
    std::string text = FormatLeaseId(id);
    EXPECT_EQ(text.size(), 16u);
    uint64_t back = 0;
    ASSERT_TRUE(ParseLeaseId(text, &back)) << text;
    EXPECT_EQ(back, id) << text;
  }
  EXPECT_EQ(FormatLeaseId(0), "0000000000000000");
  EXPECT_EQ(FormatLeaseId(0xdeadbeefULL), "00000000deadbeef");
  EXPECT_EQ(FormatLeaseId(0x0123456789abcdefULL), "0123456789abcdef");
  EXPECT_EQ(FormatLeaseId(~0ULL), "ffffffffffffffff");
}

TEST(LeaseIdTest, RefusesAnythingButSixteenLowercaseDigits) {
  for (const char* bad :
       {"", "0", "00000000deadbee", "00000000deadbeef0", "00000000DEADBEEF", "00000000deadbeeF",
        "00000000deadbeeg", "0x000000deadbeef", " 0000000deadbeef", "0000000deadbeef ",
        "-000000deadbeef", "+000000deadbeef", "00000000dead\0eef"}) {
    uint64_t out = 42;
    EXPECT_FALSE(ParseLeaseId(bad, &out)) << '"' << bad << '"';
    EXPECT_EQ(out, 42u) << "a refused id leaves the output alone";
  }
  uint64_t out = 42;
  EXPECT_FALSE(ParseLeaseId(std::string_view("00000000dead\0eef", 16), &out));
  EXPECT_EQ(out, 42u);
}

// --- hex -------------------------------------------------------------------

TEST(HexTest, TwoLowercaseDigitsPerByte) {
  std::string out = "x'";
  AppendHex(Bytes({0x00, 0x0f, 0x10, 0xab, 0xff}), &out);
  EXPECT_EQ(out, "x'000f10abff");
  out.clear();
  AppendHex("", &out);
  EXPECT_EQ(out, "");
  for (int b = 0; b < 256; ++b) {
    std::string one;
    AppendHexByte(static_cast<uint8_t>(b), &one);
    ASSERT_EQ(one.size(), 2u);
    EXPECT_EQ(LowerHexDigit(one[0]) * 16 + LowerHexDigit(one[1]), b) << one;
  }
}

TEST(HexTest, DigitValues) {
  for (int c = 0; c < 256; ++c) {
    int want = -1;
    if (c >= '0' && c <= '9') want = c - '0';
    if (c >= 'a' && c <= 'f') want = c - 'a' + 10;
    EXPECT_EQ(LowerHexDigit(static_cast<char>(c)), want) << c;
  }
}

// --- UTF-8 -----------------------------------------------------------------

// The definition, spelled differently from wire/utf8.cc: decode by masks,
// then refuse overlong forms, surrogates and values past U+10FFFF.
size_t ReferenceLength(std::string_view s) {
  if (s.empty()) return 0;
  auto c = static_cast<unsigned char>(s[0]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (n > s.size()) return 0;
  for (size_t i = 1; i < n; ++i) {
    auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (b & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

TEST(Utf8Test, BoundaryCodePoints) {
  EXPECT_EQ(Utf8SequenceLength("a"), 1u);
  EXPECT_EQ(Utf8SequenceLength(std::string_view("\0", 1)), 1u);
  EXPECT_EQ(Utf8SequenceLength("\x7f"), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xC2\x80"), 2u);          // U+0080
  EXPECT_EQ(Utf8SequenceLength("\xDF\xBF"), 2u);          // U+07FF
  EXPECT_EQ(Utf8SequenceLength("\xE0\xA0\x80"), 3u);      // U+0800
  EXPECT_EQ(Utf8SequenceLength("\xED\x9F\xBF"), 3u);      // U+D7FF
  EXPECT_EQ(Utf8SequenceLength("\xEE\x80\x80"), 3u);      // U+E000
  EXPECT_EQ(Utf8SequenceLength("\xEF\xBF\xBF"), 3u);      // U+FFFF
  EXPECT_EQ(Utf8SequenceLength("\xF0\x90\x80\x80"), 4u);  // U+10000
  EXPECT_EQ(Utf8SequenceLength("\xF4\x8F\xBF\xBF"), 4u);  // U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xC3\xA9tail"), 2u) << "only the first sequence counts";
}

TEST(Utf8Test, RefusesWhatIsNotUtf8) {
  struct Case {
    const char* why;
    std::string bytes;
  };
  for (const Case& c : std::vector<Case>{
           {"empty", ""},
           {"lone continuation", "\x80"},
           {"lone continuation", "\xBF"},
           {"overlong 2-byte NUL", "\xC0\x80"},
           {"overlong 2-byte", "\xC1\xBF"},
           {"overlong 3-byte", "\xE0\x80\x80"},
           {"overlong 3-byte U+07FF", "\xE0\x9F\xBF"},
           {"overlong 4-byte", "\xF0\x80\x80\x80"},
           {"overlong 4-byte U+FFFF", "\xF0\x8F\xBF\xBF"},
           {"high surrogate", "\xED\xA0\x80"},
           {"low surrogate", "\xED\xBF\xBF"},
           {"past U+10FFFF", "\xF4\x90\x80\x80"},
           {"F5 lead", "\xF5\x80\x80\x80"},
           {"FF", "\xFF"},
           {"FE", "\xFE"},
           {"truncated 2-byte", "\xC3"},
           {"truncated 3-byte", "\xE2\x82"},
           {"truncated 4-byte", "\xF0\x9F\x98"},
           {"ASCII where a continuation belongs", "\xC3("},
           {"lead where a continuation belongs", "\xE2\xC2\xA9"},
       }) {
    EXPECT_EQ(Utf8SequenceLength(c.bytes), 0u) << c.why;
    if (!c.bytes.empty()) {
      EXPECT_FALSE(IsValidUtf8(c.bytes)) << c.why;
    }
  }
}

TEST(Utf8Test, AgreesWithTheDefinitionOnEverySequenceUpToThreeBytes) {
  std::string s(3, '\0');
  for (int a = 0; a < 256; ++a) {
    s[0] = static_cast<char>(a);
    ASSERT_EQ(Utf8SequenceLength(s.substr(0, 1)), ReferenceLength(s.substr(0, 1))) << a;
    for (int b = 0; b < 256; ++b) {
      s[1] = static_cast<char>(b);
      ASSERT_EQ(Utf8SequenceLength(s.substr(0, 2)), ReferenceLength(s.substr(0, 2)))
          << a << " " << b;
      for (int c = 0; c < 256; ++c) {
        s[2] = static_cast<char>(c);
        ASSERT_EQ(Utf8SequenceLength(s), ReferenceLength(s)) << a << " " << b << " " << c;
      }
    }
  }
}

TEST(Utf8Test, AgreesWithTheDefinitionOnFourByteLeads) {
  std::mt19937 rng(7);
  std::string s(4, '\0');
  for (int lead = 0xF0; lead <= 0xFF; ++lead) {
    for (int second = 0; second < 256; ++second) {
      for (int i = 0; i < 64; ++i) {
        s[0] = static_cast<char>(lead);
        s[1] = static_cast<char>(second);
        // Mostly continuation bytes, so the interesting cases are reached.
        s[2] = static_cast<char>(i < 48 ? 0x80 + rng() % 64 : rng() % 256);
        s[3] = static_cast<char>(i < 48 ? 0x80 + rng() % 64 : rng() % 256);
        ASSERT_EQ(Utf8SequenceLength(s), ReferenceLength(s)) << lead << " " << second;
      }
    }
  }
}

TEST(Utf8Test, WholeStrings) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_TRUE(IsValidUtf8(std::string_view("a\0b", 3)));
  EXPECT_FALSE(IsValidUtf8("caf\xC3"));
  EXPECT_FALSE(
      IsValidUtf8("a\xFF"
                  "b"));
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80\xED\xB0\x80"));  // a surrogate pair, CESU-8 style
}

// --- JSON escaping ---------------------------------------------------------

std::string Escaped(std::string_view s) {
  std::string out;
  AppendJsonEscaped(s, &out);
  return out;
}

TEST(JsonEscapeTest, QuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Escaped(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(Escaped(R"(C:\dir)"), R"(C:\\dir)");
  EXPECT_EQ(Escaped("a\nb\rc\td"), R"(a\nb\rc\td)");
  EXPECT_EQ(Escaped(std::string_view("\0", 1)), R"(\u0000)");
  EXPECT_EQ(Escaped("\x01\x08\x0c\x1f"), R"(\u0001\u0008\u000c\u001f)");
  // Not control characters in JSON: passed as they are.
  EXPECT_EQ(Escaped("/ \x7f ~"), "/ \x7f ~");
  EXPECT_EQ(Escaped(""), "");
}

TEST(JsonEscapeTest, KeepsUtf8AndReplacesTheRest) {
  EXPECT_EQ(Escaped("caf\xC3\xA9 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  const std::string kReplacement = "\xEF\xBF\xBD";
  EXPECT_EQ(Escaped("a\xFF"
                    "b"),
            "a" + kReplacement + "b");
  // Each byte of a bad sequence is replaced on its own.
  EXPECT_EQ(Escaped("\xC0\x80"), kReplacement + kReplacement);
  EXPECT_EQ(Escaped("\xED\xA0\x80"), kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(Escaped("\xE2\x82"), kReplacement + kReplacement);
  // A truncated sequence before a quote does not swallow it.
  EXPECT_EQ(Escaped("\xE2\"x"), kReplacement + "\\\"x");
}

TEST(JsonEscapeTest, AppendsAndAlwaysParsesBack) {
  std::string out = "{\"k\":\"";
  AppendJsonEscaped("v", &out);
  EXPECT_EQ(out, "{\"k\":\"v");

  std::mt19937 rng(99);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    std::string json = "\"" + Escaped(s) + "\"";
    nlohmann::json parsed = nlohmann::json::parse(json, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << json;
    if (IsValidUtf8(s)) {
      EXPECT_EQ(parsed.get<std::string>(), s);
    }
  }
}

// --- base64 ----------------------------------------------------------------

std::string Encoded(std::string_view bytes) {
  std::string out;
  Base64Encode(bytes, &out);
  return out;
}

TEST(Base64Test, KnownVectors) {
  // RFC 4648, section 10.
  EXPECT_EQ(Encoded(""), "");
  EXPECT_EQ(Encoded("f"), "Zg==");
  EXPECT_EQ(Encoded("fo"), "Zm8=");
  EXPECT_EQ(Encoded("foo"), "Zm9v");
  EXPECT_EQ(Encoded("foob"), "Zm9vYg==");
  EXPECT_EQ(Encoded("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Encoded("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Encoded(Bytes({0xfb, 0xff})), "+/8=");
  std::string out;
  ASSERT_TRUE(Base64Decode("Zm9vYg==", &out));
  EXPECT_EQ(out, "foob");
  ASSERT_TRUE(Base64Decode("Zm9vYmE=", &out));
  EXPECT_EQ(out, "fooba");
  ASSERT_TRUE(Base64Decode("+/8=", &out));
  EXPECT_EQ(out, Bytes({0xfb, 0xff}));
  ASSERT_TRUE(Base64Decode("", &out));
  EXPECT_EQ(out, "");
}

TEST(Base64Test, EncodeAppendsDecodeReplaces) {
  std::string out = "prefix:";
  Base64Encode("f", &out);
  EXPECT_EQ(out, "prefix:Zg==");
  ASSERT_TRUE(Base64Decode("Zm8=", &out));
  EXPECT_EQ(out, "fo");
  std::vector<uint8_t> bytes = {1, 2, 3};
  ASSERT_TRUE(Base64Decode("Zg==", &bytes));
  EXPECT_EQ(bytes, std::vector<uint8_t>({'f'}));
}

TEST(Base64Test, EveryByteRoundTripsIntoBothOutputs) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); ++n) {
    std::string part = all.substr(0, n);
    std::string text = Encoded(part);
    EXPECT_EQ(text.size(), (n + 2) / 3 * 4);
    std::string back;
    ASSERT_TRUE(Base64Decode(text, &back)) << text;
    EXPECT_EQ(back, part) << n;
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(Base64Decode(text, &bytes)) << text;
    EXPECT_EQ(bytes, std::vector<uint8_t>(part.begin(), part.end())) << n;
  }
}

TEST(Base64Test, RefusesMalformed) {
  for (const char* bad : {"Zg", "Zg=", "Z", "Z===", "====", "Zm9v!A==", "=Zm9", "Zg==Zg==", "Zm 9v",
                          "Zm9v\n", "Zg=a", "Z=g=", "Zm9v====", "Zm9-", "Zm9_", "Zm9v YmFy"}) {
    std::string out;
    EXPECT_FALSE(Base64Decode(bad, &out)) << '"' << bad << '"';
    std::vector<uint8_t> bytes;
    EXPECT_FALSE(Base64Decode(bad, &bytes)) << '"' << bad << '"';
  }
  std::string out;
  EXPECT_FALSE(Base64Decode(std::string_view("Zm9\0", 4), &out));
}

// --- peer credentials and connecting ---------------------------------------

class UnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/wire-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    if (listener_ >= 0) ::close(listener_);
    ::unlink((dir_ + "/s.sock").c_str());
    ::unlink((dir_ + "/file").c_str());
    ::rmdir(dir_.c_str());
  }

  // A listening socket at dir_/s.sock; its path.
  std::string Listen() {
    std::string path = dir_ + "/s.sock";
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listener_, 4), 0);
    return path;
  }

  std::string dir_;
  int listener_ = -1;
};

TEST_F(UnixSocketTest, ConnectsAndThePeerSeesWhoWeAre) {
  std::string path = Listen();
  std::string error = "untouched";
  int fd = ConnectUnixSocket(path, &error);
  ASSERT_GE(fd, 0) << error;
  EXPECT_EQ(error, "untouched") << "no message on success";
  EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "a child must not inherit the connection";
  int accepted = ::accept(listener_, nullptr, nullptr);
  ASSERT_GE(accepted, 0);

  PeerCredentials peer = ReadPeerCredentials(accepted);
  EXPECT_EQ(peer.pid, ::getpid());
  EXPECT_EQ(peer.uid, ::getuid());
  EXPECT_EQ(peer.gid, ::getgid());
  ::close(accepted);
  ::close(fd);
}

TEST_F(UnixSocketTest, NoCredentialsOnAnythingButAUnixSocket) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  PeerCredentials peer = ReadPeerCredentials(pipe_fds[0]);
  EXPECT_EQ(peer.pid, 0);
  EXPECT_EQ(peer.uid, 0u);
  EXPECT_EQ(peer.gid, 0u);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_F(UnixSocketTest, MissingPathIsAnErrorNamingThePath) {
  std::string path = dir_ + "/nobody-here.sock";
  std::string error;
  errno = 0;
  EXPECT_EQ(ConnectUnixSocket(path, &error), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(error, "connect " + path + ": " + std::strerror(ENOENT));
  // Without a message wanted, the same failure.
  errno = 0;
  EXPECT_EQ(ConnectUnixSocket(path), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(UnixSocketTest, AFileThatIsNoSocketIsRefused) {
  std::string path = dir_ + "/file";
  int f = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(f, 0);
  ::close(f);
  std::string error;
  EXPECT_EQ(ConnectUnixSocket(path, &error), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_NE(error.find(path), std::string::npos) << error;
}

TEST_F(UnixSocketTest, PathsThatDoNotFitAreRefusedBeforeConnecting) {
  std::string too_long = "/tmp/" + std::string(sizeof(sockaddr_un::sun_path), 'x');
  std::string error;
  EXPECT_EQ(ConnectUnixSocket(too_long, &error), -1);
  EXPECT_EQ(errno, ENAMETOOLONG);
  EXPECT_NE(error.find(too_long), std::string::npos) << error;
  std::string limit = std::to_string(sizeof(sockaddr_un::sun_path) - 1);
  EXPECT_NE(error.find("longer than " + limit + " bytes"), std::string::npos) << error;

  EXPECT_EQ(ConnectUnixSocket("", &error), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_NE(error.find("empty"), std::string::npos) << error;
}

}  // namespace
}  // namespace litepool::wire
