// The request driver's order of steps, seen through its callbacks: what
// settles on the calling thread, what goes to a worker and comes back
// through `finished`, and what waits for a handle and comes back through
// `granted`. A real pool on a temp database; no daemon, no sockets.
#include "server/request_driver.h"

#include <chrono>
#include <deque>
#include <optional>
#include <thread>

#include "base/mutex.h"
#include "server/in_process_connection.h"
#include "tests/server/server_world.h"

namespace litepool::testing {
namespace {

using server::Answer;
using server::Queued;
using server::Settled;

// Records what reaches a connection off its thread, by channel.
class Capture {
 public:
  void Put(Settled s, bool grant) {
    MutexLock lock(&mu_);
    (grant ? granted_ : finished_).push_back(std::move(s));
    cv_.SignalAll();
  }
  std::optional<Settled> Take(bool grant,
                              std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    MutexLock lock(&mu_);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::deque<Settled>& q = grant ? granted_ : finished_;
    while (q.empty()) {
      if (!cv_.WaitUntil(&mu_, deadline) && q.empty()) return std::nullopt;
    }
    Settled s = std::move(q.front());
    q.pop_front();
    return s;
  }
  size_t Count() {
    MutexLock lock(&mu_);
    return finished_.size() + granted_.size();
  }

 private:
  Mutex mu_;
  CondVar cv_;
  std::deque<Settled> finished_ GUARDED_BY(mu_);
  std::deque<Settled> granted_ GUARDED_BY(mu_);
};

class RequestDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setup_ = std::make_unique<server::InProcessConnection>(world_.driver(), world_.NextClient(),
                                                           std::chrono::milliseconds(1000));
    auto reply = Parse(setup_->Run(
        R"~({"op":"exec","db":"main","sql":"CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT);)~"
        R"~(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<100))~"
        R"~( INSERT INTO kv SELECT x, 'v' || x FROM c"})~"));
    ASSERT_TRUE(reply["ok"].get<bool>()) << reply;
  }

  std::shared_ptr<server::DriverConnection> Connect(Capture* capture) {
    return world_.driver()->Connect(
        world_.NextClient(), [capture](Settled s) { capture->Put(std::move(s), false); },
        [capture](Settled s) { capture->Put(std::move(s), true); });
  }

  static std::string LineOf(const Settled& s) {
    EXPECT_TRUE(std::holds_alternative<Answer>(s));
    return std::holds_alternative<Answer>(s) ? std::get<Answer>(s).line : std::string();
  }

  ServerWorld world_;
  std::unique_ptr<server::InProcessConnection> setup_;
};

TEST_F(RequestDriverTest, QuickReadSettlesOnTheCallingThread) {
  Capture capture;
  auto conn = Connect(&capture);
  // The first read opens a read handle on a worker; the second finds it idle.
  auto first = world_.driver()->Start(
      conn, R"~({"op":"query","db":"main","mode":"read","sql":"SELECT 1"})~");
  if (!first) {
    ASSERT_TRUE(capture.Take(false));
  }
  auto settled = world_.driver()->Start(
      conn,
      R"~({"id":7,"op":"query","db":"main","mode":"read","sql":"SELECT v FROM kv WHERE k=?","params":[42]})~");
  ASSERT_TRUE(settled.has_value()) << "a point select on an idle handle went to a worker";
  auto reply = Parse(LineOf(*settled));
  EXPECT_EQ(reply["id"], 7);
  EXPECT_EQ(reply["rows"], nlohmann::json::parse(R"~([["v42"]])~"));
  EXPECT_EQ(capture.Count(), 0u);
  world_.driver()->Disconnect(*conn);
}

TEST_F(RequestDriverTest, WriteIsHandedToAWorkerAndComesBackThroughFinished) {
  Capture capture;
  auto conn = Connect(&capture);
  auto settled = world_.driver()->Start(
      conn, R"~({"op":"exec","db":"main","sql":"UPDATE kv SET v = 'x' WHERE k <= 3"})~");
  EXPECT_FALSE(settled.has_value()) << "exec must never run on the I/O thread";
  auto done = capture.Take(false);
  ASSERT_TRUE(done);
  auto reply = Parse(LineOf(*done));
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply;
  EXPECT_EQ(reply["changes"], 3);
  world_.driver()->Disconnect(*conn);
}

TEST_F(RequestDriverTest, QueuedAcquireIsAnsweredThroughGrantedWhenTheHandleIsFreed) {
  server::InProcessConnection holder(world_.driver(), world_.NextClient(),
                                     std::chrono::milliseconds(1000));
  auto lease = Parse(holder.Run(R"~({"op":"acquire","db":"main","mode":"write"})~"));
  ASSERT_TRUE(lease["ok"].get<bool>()) << lease;

  Capture capture;
  auto conn = Connect(&capture);
  auto settled =
      world_.driver()->Start(conn, R"~({"id":"w","op":"acquire","db":"main","mode":"write"})~");
  ASSERT_TRUE(settled.has_value());
  ASSERT_TRUE(std::holds_alternative<Queued>(*settled));
  EXPECT_FALSE(capture.Take(true, std::chrono::milliseconds(50)))
      << "granted while the writer is leased";

  auto released = Parse(
      holder.Run(R"~({"op":"release","lease":")~" + lease["lease"].get<std::string>() + R"~("})~"));
  ASSERT_TRUE(released["ok"].get<bool>()) << released;
  auto granted = capture.Take(true);
  ASSERT_TRUE(granted);
  std::get<Queued>(*settled).ticket.Granted();
  auto reply = Parse(LineOf(*granted));
  EXPECT_EQ(reply["id"], "w");
  EXPECT_EQ(reply["mode"], "write");
  EXPECT_EQ(reply["lease"].get<std::string>().size(), 16u);
  world_.driver()->Disconnect(*conn);
  EXPECT_TRUE(world_.WaitForLeased(Mode::kWrite, 0));
}

TEST_F(RequestDriverTest, DroppingAQueuedTicketWithdrawsTheWait) {
  server::InProcessConnection holder(world_.driver(), world_.NextClient(),
                                     std::chrono::milliseconds(1000));
  auto lease = Parse(holder.Run(R"~({"op":"acquire","db":"main","mode":"write"})~"));
  ASSERT_TRUE(lease["ok"].get<bool>());
  Capture capture;
  auto conn = Connect(&capture);
  {
    auto settled = world_.driver()->Start(conn, R"~({"op":"acquire","db":"main","mode":"write"})~");
    ASSERT_TRUE(settled && std::holds_alternative<Queued>(*settled));
    EXPECT_EQ(world_.pool().Snapshot().sides[static_cast<size_t>(Mode::kWrite)].waiters, 1);
  }  // the ticket goes
  EXPECT_EQ(world_.pool().Snapshot().sides[static_cast<size_t>(Mode::kWrite)].waiters, 0);
  holder.Run(R"~({"op":"release","lease":")~" + lease["lease"].get<std::string>() + R"~("})~");
  EXPECT_FALSE(capture.Take(true, std::chrono::milliseconds(100)))
      << "a withdrawn wait was granted";
  EXPECT_EQ(world_.pool().Snapshot().sides[static_cast<size_t>(Mode::kWrite)].idle, 1);
  world_.driver()->Disconnect(*conn);
}

TEST_F(RequestDriverTest, AutoOneShotThatWritesMovesToTheWritersQueue) {
  server::InProcessConnection holder(world_.driver(), world_.NextClient(),
                                     std::chrono::milliseconds(1000));
  auto lease = Parse(holder.Run(R"~({"op":"acquire","db":"main","mode":"write"})~"));
  ASSERT_TRUE(lease["ok"].get<bool>());
  Capture capture;
  auto conn = Connect(&capture);
  auto settled = world_.driver()->Start(
      conn,
      R"~({"op":"exec","db":"main","mode":"auto","sql":"INSERT INTO kv VALUES (1000, 'auto')"})~");
  // Starts on a read handle (opened on a worker, maybe), finds it writes,
  // and waits for the writer.
  if (!settled) {
    settled = capture.Take(false);
    ASSERT_TRUE(settled);
  }
  ASSERT_TRUE(std::holds_alternative<Queued>(*settled)) << LineOf(*settled);
  holder.Run(R"~({"op":"release","lease":")~" + lease["lease"].get<std::string>() + R"~("})~");
  auto granted = capture.Take(true);
  ASSERT_TRUE(granted);
  std::get<Queued>(*settled).ticket.Granted();
  auto reply = Parse(LineOf(*granted));
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply;
  EXPECT_EQ(reply["changes"], 1);
  EXPECT_EQ(reply["last_insert_rowid"], 1000);
  world_.driver()->Disconnect(*conn);
}

TEST_F(RequestDriverTest, DisconnectGivesTheLeasesBack) {
  Capture capture;
  auto conn = Connect(&capture);
  auto settled = world_.driver()->Start(conn, R"~({"op":"acquire","db":"main","mode":"write"})~");
  if (!settled) settled = capture.Take(false);
  ASSERT_TRUE(settled);
  ASSERT_TRUE(Parse(LineOf(*settled))["ok"].get<bool>());
  auto begun = world_.driver()->Start(
      conn, R"~({"op":"exec","lease":")~" + Parse(LineOf(*settled))["lease"].get<std::string>() +
                R"~(","sql":"BEGIN; INSERT INTO kv VALUES (2000, 'gone')"})~");
  ASSERT_FALSE(begun);
  ASSERT_TRUE(capture.Take(false));
  EXPECT_EQ(world_.leases().size(), 1u);
  world_.driver()->Disconnect(*conn);
  EXPECT_EQ(world_.leases().size(), 0u);
  ASSERT_TRUE(world_.WaitForLeased(Mode::kWrite, 0));
  // Rolled back on the way.
  auto count = Parse(setup_->Run(
      R"~({"op":"query","db":"main","sql":"SELECT count(*) FROM kv WHERE k = 2000"})~"));
  EXPECT_EQ(count["rows"], nlohmann::json::parse("[[0]]"));
}

}  // namespace
}  // namespace litepool::testing
