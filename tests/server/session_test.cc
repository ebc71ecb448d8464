// A session on one end of a socket pair, the test on the other: framing
// (lines split across reads, CRLF, empty lines, the max_request_bytes cap),
// replies in request order whatever thread answered them, and what closing
// the connection does. A real request driver over a real pool.
#include "server/session.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/post.hpp>
#include <string>
#include <thread>
#include <vector>

#include "server/in_process_connection.h"
#include "tests/server/server_world.h"

namespace litepool::testing {
namespace {

namespace asio = boost::asio;

class SessionTest : public ::testing::Test {
 protected:
  void Open(size_t max_request_bytes = 4096) {
    server::Session::Socket ours(io_), theirs(io_);
    asio::local::connect_pair(ours, theirs);
    fd_ = theirs.release();
    session_ = std::make_shared<server::Session>(io_, std::move(ours), world_.NextClient(),
                                                 world_.driver(), max_request_bytes,
                                                 [this](ClientId) { closed_ = true; });
    asio::post(io_, [s = session_] { s->Start(); });
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (session_) session_->PostStop();
    guard_.reset();
    if (thread_.joinable()) thread_.join();
    // As the daemon stops (docs/architecture.md, "Threads"): the workers
    // first, then what they posted back runs on the io_context, so no
    // session outlives the io_context its timers belong to.
    world_.StopWorkers();
    io_.restart();
    io_.poll();
    session_.reset();
    if (fd_ >= 0) ::close(fd_);
  }

  void Send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // The next reply line, or "" after 5 s.
  std::string ReadLine() {
    while (true) {
      size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl + 1);
        buffer_.erase(0, nl + 1);
        return line;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) return "";
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  nlohmann::json Reply() {
    std::string line = ReadLine();
    EXPECT_FALSE(line.empty()) << "no reply within 5 s";
    return line.empty() ? nlohmann::json() : nlohmann::json::parse(line);
  }

  ServerWorld world_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::shared_ptr<server::Session> session_;
  std::thread thread_;
  std::atomic<bool> closed_{false};
  int fd_ = -1;
  std::string buffer_;
};

TEST_F(SessionTest, LinesSplitAcrossReadsCrlfAndEmptyLines) {
  Open();
  Send("{\"id\":1,\"op\":\"pi");
  ::usleep(20000);  // a separate read on the session's side
  Send("ng\"}\r\n\n\r\n{\"id\":2,\"op\":\"ping\"}\n");
  EXPECT_EQ(Reply()["id"], 1);
  EXPECT_EQ(Reply()["id"], 2);
}

TEST_F(SessionTest, OversizedLineIsAnsweredAndTheNextLineServed) {
  Open(/*max_request_bytes=*/64);
  std::string big = "{\"op\":\"query\",\"db\":\"main\",\"sql\":\"" + std::string(100, 'x') + "\"}";
  std::string exact = "{\"id\":3,\"op\":\"ping\"}" + std::string(64 - 20, ' ');
  ASSERT_EQ(exact.size(), 64u);
  Send(big.substr(0, 50));
  ::usleep(20000);
  Send(big.substr(50) + "\n{\"id\":2,\"op\":\"ping\"}\n" + exact + "\n");
  auto refused = Reply();
  EXPECT_EQ(refused["ok"], false);
  EXPECT_EQ(refused["error"]["code"], "request_too_large");
  EXPECT_EQ(Reply()["id"], 2);
  EXPECT_EQ(Reply()["id"], 3) << "a line of exactly max_request_bytes is accepted";
}

TEST_F(SessionTest, RepliesKeepRequestOrderWhicheverThreadAnswers) {
  Open();
  // A write (on a worker), then requests answered on the session's thread.
  std::string burst =
      "{\"id\":1,\"op\":\"exec\",\"db\":\"main\",\"sql\":\"CREATE TABLE t(x); "
      "INSERT INTO t VALUES (1)\"}\n";
  for (int i = 2; i <= 200; ++i) {
    burst += i % 2 ? "{\"id\":" + std::to_string(i) + ",\"op\":\"ping\"}\n"
                   : "{\"id\":" + std::to_string(i) +
                         ",\"op\":\"query\",\"db\":\"main\",\"sql\":\"SELECT x FROM t\"}\n";
  }
  Send(burst);
  for (int i = 1; i <= 200; ++i) {
    auto reply = Reply();
    ASSERT_EQ(reply["id"], i) << reply;
    ASSERT_EQ(reply["ok"], true) << reply;
  }
}

// A reply larger than the socket's send buffer: what the first send takes
// goes at once, the rest when the peer reads; the replies after it wait
// their turn and arrive whole, in order.
TEST_F(SessionTest, ReplyLargerThanTheSocketBufferArrivesWholeAndInOrder) {
  Open();
  int small = 16384;
  ASSERT_EQ(::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  Send(
      "{\"id\":1,\"op\":\"query\",\"db\":\"main\",\"sql\":\"WITH RECURSIVE c(x) AS "
      "(SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 8000) SELECT x, printf('%0100d', x) "
      "FROM c\"}\n{\"id\":2,\"op\":\"ping\"}\n{\"id\":3,\"op\":\"ping\"}\n");
  ::usleep(200000);  // the session fills the socket and must wait for room
  std::string line = ReadLine();
  ASSERT_GT(line.size(), size_t{512} << 10) << line.substr(0, 300);  // under max_result_bytes
  auto big = nlohmann::json::parse(line);
  ASSERT_EQ(big["id"], 1);
  ASSERT_EQ(big["rows"].size(), 8000u);
  EXPECT_EQ(big["rows"][7999][0], 8000);
  EXPECT_EQ(Reply()["id"], 2);
  EXPECT_EQ(Reply()["id"], 3);
}

// A reply the socket refuses (the peer no longer reads: EPIPE on the
// direct send) stops the session instead of queueing the reply.
TEST_F(SessionTest, AReplyThePeerCannotReceiveStopsTheSession) {
  Open();
  ASSERT_EQ(::shutdown(fd_, SHUT_RD), 0);  // still writing, never reading again
  Send("{\"id\":1,\"op\":\"ping\"}\n");
  for (int i = 0; i < 500 && !closed_; ++i) ::usleep(10000);
  EXPECT_TRUE(closed_) << "the session outlived a reply it could not send";
}

TEST_F(SessionTest, HalfCloseIsAnsweredThenTheSessionCloses) {
  Open();
  Send(
      "{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,\"op\":\"exec\",\"db\":\"main\",\"sql\":\"SELECT "
      "1\"}\n");
  ASSERT_EQ(::shutdown(fd_, SHUT_WR), 0);
  EXPECT_EQ(Reply()["id"], 1);
  EXPECT_EQ(Reply()["id"], 2);
  EXPECT_EQ(ReadLine(), "") << "the session closes after answering";
  for (int i = 0; i < 200 && !closed_; ++i) ::usleep(10000);
  EXPECT_TRUE(closed_);
}

TEST_F(SessionTest, ClosingTheConnectionGivesItsLeaseBackRolledBack) {
  Open();
  Send("{\"op\":\"acquire\",\"db\":\"main\",\"mode\":\"write\"}\n");
  auto lease = Reply();
  ASSERT_EQ(lease["ok"], true) << lease;
  Send("{\"op\":\"exec\",\"lease\":\"" + lease["lease"].get<std::string>() +
       "\",\"sql\":\"CREATE TABLE gone(x); BEGIN; INSERT INTO gone VALUES (1)\"}\n");
  ASSERT_EQ(Reply()["ok"], true);
  ::close(fd_);
  fd_ = -1;
  for (int i = 0; i < 500 && !closed_; ++i) ::usleep(10000);
  EXPECT_TRUE(closed_);
  EXPECT_EQ(world_.leases().size(), 0u);
  EXPECT_TRUE(world_.WaitForLeased(Mode::kWrite, 0));
}

TEST_F(SessionTest, AcquireThatWaitsTooLongAnswersAcquireTimeout) {
  Open();
  server::InProcessConnection holder(world_.driver(), world_.NextClient(), Millis(1000));
  auto held = nlohmann::json::parse(holder.Run(R"({"op":"acquire","db":"main","mode":"write"})"));
  ASSERT_EQ(held["ok"], true);
  Send(
      "{\"id\":9,\"op\":\"acquire\",\"db\":\"main\",\"mode\":\"write\",\"wait_ms\":50}\n"
      "{\"id\":10,\"op\":\"ping\"}\n");
  auto timed_out = Reply();
  EXPECT_EQ(timed_out["id"], 9);
  EXPECT_EQ(timed_out["error"]["code"], "acquire_timeout");
  EXPECT_EQ(Reply()["id"], 10);
  EXPECT_EQ(world_.pool().Snapshot().sides[static_cast<size_t>(Mode::kWrite)].waiters, 0);
}

}  // namespace
}  // namespace litepool::testing
