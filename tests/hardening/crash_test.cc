// Clients that die with SIGKILL at random moments — waiting for a lease,
// inside a transaction, in the middle of a statement — while other clients
// keep working. Afterwards no lease is left, every handle is back, no
// uncommitted row of a dead client exists, and the writer is free at once.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>

#include "tests/hardening/child.h"
#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

using std::chrono::milliseconds;

constexpr int kKills = 30;
constexpr int kConcurrentVictims = 3;

// A victim's life, repeated until it is killed: connect, lease, BEGIN, then
// write (or read) without ever committing.
void Victim(const std::string& socket, bool writer) {
  while (true) {
    RawClient client;
    if (!client.Connect(socket)) {
      ::usleep(1000);
      continue;
    }
    json reply;
    if (!client.Call({{"op", "acquire"},
                      {"db", "main"},
                      {"mode", writer ? "write" : "read"},
                      {"tag", "victim"}},
                     &reply, milliseconds(10000)) ||
        !reply.is_object() || reply.value("ok", false) != true) {
      continue;
    }
    std::string lease = reply["lease"].get<std::string>();
    if (!client.Call({{"op", "exec"}, {"lease", lease}, {"sql", "BEGIN"}}, &reply)) continue;
    json work = writer ? json{{"op", "exec"},
                              {"lease", lease},
                              {"sql", "INSERT INTO t(tag) VALUES ('uncommitted')"}}
                       : json{{"op", "query"}, {"lease", lease}, {"sql", "SELECT count(*) FROM t"}};
    while (client.Call(work, &reply) && reply.is_object() && reply.value("ok", false) == true) {
    }
  }
}

class CrashTest : public ProtocolTest {
 protected:
  // Client deaths are the subject: no leak warnings in the log for them.
  json Overrides() override { return {{"defaults", {{"leak_warn_ms", 0}}}}; }
};

TEST_F(CrashTest, KilledClientsLeaveNothingBehind) {
  ExecOk("CREATE TABLE t(id INTEGER PRIMARY KEY, tag TEXT NOT NULL)");
  std::atomic<bool> stop{false};
  std::atomic<int> committed{0};
  std::atomic<int> reads{0};

  // Bystanders: one-shot writes and reads, and a held read lease.
  std::thread writer([&] {
    LineClient client = Connect();
    while (!stop) {
      json reply = client.Call(
          {{"op", "exec"}, {"db", "main"}, {"sql", "INSERT INTO t(tag) VALUES ('committed')"}},
          milliseconds(10000));
      ASSERT_TRUE(IsOk(reply)) << "a bystander's write failed";
      ++committed;
      reply = client.Call({{"op", "query"},
                           {"db", "main"},
                           {"mode", "read"},
                           {"sql", "SELECT count(*) FROM t WHERE tag = 'committed'"}});
      ASSERT_TRUE(IsOk(reply)) << "a bystander's read failed";
    }
  });
  std::thread reader([&] {
    LineClient client = Connect();
    json reply = client.Call({{"op", "acquire"}, {"db", "main"}, {"mode", "read"}});
    ASSERT_TRUE(IsOk(reply));
    std::string lease = reply["lease"].get<std::string>();
    while (!stop) {
      reply = client.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT count(*) FROM t"}});
      ASSERT_TRUE(IsOk(reply)) << "the held read lease was disturbed";
      ++reads;
    }
    ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
  });

  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> life_ms(10, 200);
  std::bernoulli_distribution is_writer(0.7);
  const std::string socket = daemon_.socket_path();
  struct Alive {
    pid_t pid;
    std::chrono::steady_clock::time_point dies_at;
  };
  std::vector<Alive> alive;
  int kills = 0;
  int spawned = 0;
  // How many victims the `leases` op showed inside a transaction just before
  // a kill: proof that the kills hit open transactions, not only idle
  // connections.
  int seen_in_transaction = 0;
  LineClient watcher = Connect();
  while (kills < kKills) {
    while (static_cast<int>(alive.size()) < kConcurrentVictims && spawned < kKills) {
      bool w = is_writer(rng);
      pid_t pid = SpawnChild([&socket, w] { Victim(socket, w); });
      ASSERT_GT(pid, 0);
      ++spawned;
      alive.push_back({pid, std::chrono::steady_clock::now() + milliseconds(life_ms(rng))});
    }
    auto next = std::min_element(alive.begin(), alive.end(), [](const Alive& a, const Alive& b) {
      return a.dies_at < b.dies_at;
    });
    std::this_thread::sleep_until(next->dies_at);
    json leases = watcher.Call({{"op", "leases"}});
    for (const json& lease : leases.value("leases", json::array())) {
      if (lease.value("tag", "") == "victim" && lease.value("in_transaction", false)) {
        ++seen_in_transaction;
      }
    }
    KillAndReap(next->pid);
    alive.erase(next);
    ++kills;
  }
  stop = true;
  writer.join();
  reader.join();
  watcher.Close();
  std::printf(
      "[ crash ] %d clients killed (%d victim leases seen in a transaction); bystanders: %d "
      "committed writes, %d reads\n",
      kills, seen_in_transaction, committed.load(), reads.load());
  EXPECT_GT(seen_in_transaction, 0) << "no kill hit an open transaction";
  EXPECT_GT(committed.load(), 0);
  EXPECT_GT(reads.load(), 0);

  // No lease is left: the daemon took back every dead client's lease.
  LineClient admin = Connect();
  json leases;
  EXPECT_TRUE(Eventually([&] {
    leases = admin.Call({{"op", "leases"}});
    return IsOk(leases) && leases["leases"].empty();
  })) << leases.dump();
  // Every handle is back: open == idle + leased, leased == 0.
  for (const std::string mode : {"write", "read"}) {
    SCOPED_TRACE(mode);
    std::map<std::string, std::string> labels = {{"db", "main"}, {"mode", mode}};
    EXPECT_TRUE(Eventually([&] { return Metric("litepool_handles_leased", labels) == 0.0; }));
    std::optional<double> open = Metric("litepool_handles_open", labels);
    std::optional<double> idle = Metric("litepool_handles_idle", labels);
    std::optional<double> leased = Metric("litepool_handles_leased", labels);
    ASSERT_TRUE(open && idle && leased);
    EXPECT_EQ(*open, *idle + *leased);
    EXPECT_EQ(*leased, 0);
    EXPECT_EQ(Metric("litepool_waiters", labels), 0.0);
  }
  // No dead client's uncommitted row exists; every bystander write does.
  json reply = admin.Call({{"op", "query"},
                           {"db", "main"},
                           {"sql", "SELECT tag, count(*) FROM t GROUP BY tag ORDER BY tag"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::array({json::array({"committed", committed.load()})}))
      << reply.dump();
  reply = admin.Call({{"op", "query"}, {"db", "main"}, {"sql", "PRAGMA integrity_check"}});
  EXPECT_EQ(reply["rows"], json::parse(R"([["ok"]])")) << reply.dump();
  // The writer is free at once.
  reply = admin.Call({{"op", "acquire"}, {"db", "main"}, {"wait_ms", 0}});
  EXPECT_TRUE(IsOk(reply)) << reply.dump();
  admin.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

}  // namespace
}  // namespace litepool::testing
