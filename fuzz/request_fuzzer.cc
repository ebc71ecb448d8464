// libFuzzer target for the request path: each input is up to kMaxLines
// request lines, each run through the request driver (as a session runs
// it: decode, dispatch, quick run, worker) against a real pool on a temp
// database, as one client connection. Besides
// the sanitizers' findings it checks the protocol's promises on every reply:
// one JSON object on one line, `ok` a boolean, a failure carrying a known
// error code and a message, never `internal`, and the request's `id` echoed.
//
// The text "@lease@" in a line is replaced by the last lease id the input
// acquired, so the fuzzer can reach query/exec/release on a live lease
// (lease ids are unguessable by design). After each input every lease of the
// client goes back to the pool, so state does not grow between inputs.
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "config/config.h"
#include "log/log.h"
#include "pool/lease_table.h"
#include "pool/pool.h"
#include "pool/pool_set.h"
#include "pool/reaper.h"
#include "pool/task_runner.h"
#include "server/dispatcher.h"
#include "server/in_process_connection.h"
#include "server/request_driver.h"
#include "server/services.h"
#include "wire/error_code.h"

namespace litepool::fuzz {
namespace {

using server::ClientContext;
using server::Dispatcher;

constexpr size_t kMaxLines = 8;
constexpr size_t kMaxLineBytes = 4096;

// Everything a daemon would own, minus sockets and metrics. Built once and
// never destroyed (worker threads may still run at exit).
struct World {
  std::string dir;
  NullPoolEvents events;
  PoolSet pools;
  LeaseTable leases{RealTime()};
  // One worker: what it was given before a later task has run by then.
  TaskRunner workers{1, "fuzz-work"};
  Reaper reaper{&pools, &leases, &workers, RealTime(), Millis(1000), nullptr};  // not started
  std::atomic<int64_t> max_result_bytes{64 * 1024};
  std::atomic<bool> draining{false};
  server::Services services;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<server::RequestDriver> driver;
  ClientId next_client = 1;
};

World* world = nullptr;

void RemoveDir() {
  std::error_code ignored;
  if (world != nullptr) std::filesystem::remove_all(world->dir, ignored);
}

bool KnownCode(const std::string& code) {
  std::optional<Code> known = wire::CodeFromName(code);
  return known.has_value() && *known != Code::kOk;
}

[[noreturn]] void Fail(const char* what, std::string_view line, const std::string& reply) {
  std::fprintf(stderr, "request_fuzzer: %s\nrequest: %.*s\nreply: %s\n", what,
               static_cast<int>(line.size()), line.data(), reply.c_str());
  std::abort();
}

// The promises of docs/protocol.md that hold for any reply to any line.
void CheckReply(std::string_view line, const std::string& reply) {
  if (reply.empty() || reply.back() != '\n') Fail("reply does not end in a newline", line, reply);
  if (reply.find('\n') != reply.size() - 1) Fail("reply spans several lines", line, reply);
  auto parsed = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) Fail("reply is not a JSON object", line, reply);
  auto ok = parsed.find("ok");
  if (ok == parsed.end() || !ok->is_boolean()) Fail("reply without a boolean ok", line, reply);
  if (!ok->get<bool>()) {
    auto error = parsed.find("error");
    if (error == parsed.end() || !error->is_object()) Fail("failure without error", line, reply);
    auto code = error->find("code");
    auto message = error->find("message");
    if (code == error->end() || !code->is_string() || !KnownCode(code->get<std::string>())) {
      Fail("failure without a known code", line, reply);
    }
    if (message == error->end() || !message->is_string())
      Fail("error without a message", line, reply);
    if (code->get<std::string>() == "internal") Fail("internal error", line, reply);
  }
  // The id comes back when the request was an object with an id. Not for a
  // line holding a NUL byte: it is refused before it is read, so its reply
  // has no id (docs/protocol.md, "Request lines"), while nlohmann's parser
  // takes a NUL for the end of the text and would see the object before it.
  auto request = nlohmann::json::parse(line, nullptr, false);
  const bool has_nul = line.find('\0') != std::string_view::npos;
  if (!has_nul && !request.is_discarded() && request.is_object() && request.contains("id")) {
    auto id = parsed.find("id");
    if (id == parsed.end()) Fail("id not echoed", line, reply);
    // Strings with invalid UTF-8 are echoed with U+FFFD, so compare only
    // what survives a round trip unchanged.
    std::string sent = request["id"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (sent == request["id"].dump(-1, ' ', false, nlohmann::json::error_handler_t::ignore) &&
        *id != request["id"]) {
      Fail("a different id came back", line, reply);
    }
  }
}

// The lease id in a successful acquire's reply, if any.
void RememberLease(const std::string& reply, std::string* lease) {
  static constexpr std::string_view kKey = "\"lease\":\"";
  size_t at = reply.find(kKey);
  if (at != std::string::npos && reply.size() >= at + kKey.size() + 16) {
    *lease = reply.substr(at + kKey.size(), 16);
  }
}

}  // namespace
}  // namespace litepool::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace litepool;
  using namespace litepool::fuzz;
  log::Configure(log::Level::kError, log::Format::kJson);
  // Statements like randomblob(1e9) fail with SQLITE_NOMEM instead of
  // reaching the fuzzer's RSS limit.
  sqlite3_hard_heap_limit64(256 << 20);

  world = new World;
  char tmpl[] = "/tmp/litepool-fuzz-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  world->dir = tmpl;
  std::atexit(RemoveDir);

  config::Database db;
  db.name = "main";
  db.path = world->dir + "/main.db";
  db.create_if_missing = true;
  db.pragmas = {{"journal_mode", "wal"}, {"synchronous", "off"}};
  db.limits.max_readers = 2;
  db.limits.statement_timeout_ms = 100;  // endless recursive CTEs end
  db.limits.acquire_timeout_ms = 100;
  db.limits.busy_timeout_ms = 10;
  db.limits.client_pragmas = {"user_version"};
  auto pool = std::make_shared<Pool>(db, RealTime(), &world->events, &world->workers);
  Status st = pool->Start();
  if (!st.ok()) {
    std::fprintf(stderr, "pool start: %s\n", st.message().c_str());
    std::abort();
  }
  world->pools.Add(pool);

  server::Services& s = world->services;
  s.pools = &world->pools;
  s.leases = &world->leases;
  s.workers = &world->workers;
  s.reaper = &world->reaper;
  s.clock = RealTime();
  s.max_result_bytes = &world->max_result_bytes;
  s.admin_uids = {static_cast<uint32_t>(::getuid()), 0};
  s.draining = &world->draining;
  s.clients_connected = [] { return 1; };
  // Zero counters for `stats`, whatever namespace their type lives in.
  s.counters = [](const std::string&, Mode) { return decltype(s.counters)::result_type{}; };
  world->dispatcher = std::make_unique<server::Dispatcher>(&world->services);
  world->driver = std::make_unique<server::RequestDriver>(world->dispatcher.get(), &world->workers);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace litepool;
  using namespace litepool::fuzz;
  server::ClientContext client;
  client.id = world->next_client++;
  // Odd first bytes make the client a non-admin, non-root peer.
  client.peer = {static_cast<int>(::getpid()), size > 0 && (data[0] & 1) ? 65534u : 0u, 0};
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string lease;
  // A wait for a handle answers acquire_timeout at once: one client, so
  // nobody else would free it.
  auto connection =
      std::make_unique<server::InProcessConnection>(world->driver.get(), client, Millis(0));
  for (size_t n = 0; n < kMaxLines && !input.empty(); ++n) {
    size_t nl = input.find('\n');
    std::string line(input.substr(0, std::min(nl, kMaxLineBytes)));
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;  // the session skips empty lines
    for (size_t at; !lease.empty() && (at = line.find("@lease@")) != std::string::npos;) {
      line.replace(at, 7, lease);
    }
    std::string reply = connection->Run(line);
    CheckReply(line, reply);
    RememberLease(reply, &lease);
  }

  // The connection closes: its leases go back, rolled back on the worker,
  // and are back before the next input starts.
  connection.reset();
  std::promise<void> flushed;
  world->workers.Post([&flushed] { flushed.set_value(); });
  flushed.get_future().wait();
  return 0;
}
