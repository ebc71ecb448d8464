// The whole daemon wired together: pools, lease table, workers, reaper,
// metrics, listener and sessions, plus the signals that drain it. Owns every
// long-lived object; Run() drives the I/O thread until a drain completes.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <unordered_map>
#include <utility>  // before Asio: Boost 1.74 with GCC 12 needs it

#include "config/config.h"
#include "metrics/metrics.h"
#include "pool/checkpointer.h"
#include "pool/lease_table.h"
#include "pool/pool_set.h"
#include "pool/reaper.h"
#include "pool/task_runner.h"
#include "server/dispatcher.h"
#include "server/listener.h"
#include "server/request_driver.h"
#include "server/session.h"
#include "server/session_threads.h"

namespace litepool::server {

// Constructed and run on the main thread, which runs accept, signals,
// reload and the drain; client sessions run on the SessionThreads.
class Daemon final {
 public:
  explicit Daemon(config::Config config);
  ~Daemon();

  // Starts everything, serves until SIGTERM/SIGINT has drained, and returns
  // the process exit code (0 after a clean drain, 1 if it could not start).
  int Run();

 private:
  Status Start();
  void WaitForSignal();
  void WaitForHangup();
  void Reload();
  void AddPool(const config::Database& db, std::vector<std::string>* errors);
  // Takes a pool a reload removed or replaced out of service.
  void Retire(std::shared_ptr<Pool> pool);
  void PlanFileDescriptors();
  void BeginDrain(int signal);
  void CheckDrain();
  void FinishDrain();
  void Accept(Listener::Socket socket, const wire::PeerCredentials& peer);
  Status Admit(const wire::PeerCredentials& peer) const;
  // On the session's thread: the session with this id has stopped.
  void SessionClosed(ClientId id);

  config::Config config_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::signal_set hangups_;
  boost::asio::steady_timer drain_timer_;

  PoolSet pools_;
  LeaseTable leases_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<TaskRunner> workers_;
  std::unique_ptr<Reaper> reaper_;
  std::unique_ptr<Checkpointer> checkpointer_;
  Services services_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<RequestDriver> driver_;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<SessionThreads> session_threads_;

  std::atomic<int64_t> max_result_bytes_;
  const size_t max_request_bytes_;
  std::atomic<bool> draining_{false};
  std::chrono::steady_clock::time_point drain_deadline_;
  std::atomic<int> client_count_{0};
  // max_clients, lowered to what RLIMIT_NOFILE leaves after the pools'
  // handles and a spare (PlanFileDescriptors), so that a client over it is
  // refused with a reason and /metrics keeps answering.
  std::atomic<int> max_clients_{0};
  int base_fds_ = 0;  // open before the first client; main thread
  ClientId next_client_ = 1;
  std::unordered_map<ClientId, std::shared_ptr<Session>> sessions_;  // main thread only
};

}  // namespace litepool::server
