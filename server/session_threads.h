// The threads that run client sessions: one io_context each, so that a
// session's handlers all run on one thread (no strands) and, on machines
// with cores to spare, several cores serve requests at once. Sessions are
// dealt out round-robin.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>
#include <utility>  // before Asio: Boost 1.74 with GCC 12 needs it
#include <vector>

namespace litepool::server {

// Created, Next()-ed and joined by the main thread; each io_context is then
// run by its own thread until Join().
class SessionThreads {
 public:
  explicit SessionThreads(int count);
  ~SessionThreads();
  SessionThreads(const SessionThreads&) = delete;
  SessionThreads& operator=(const SessionThreads&) = delete;

  void Start();
  // The context for the next session.
  boost::asio::io_context& Next();
  // Lets each thread finish once its context runs out of work (every
  // session stopped), and joins them.
  void Join();
  // After Join(): runs what was posted since (replies of requests that were
  // still running), so no session outlives its context.
  void Drain();
  int count() const { return static_cast<int>(contexts_.size()); }

  // Session threads for a machine with `cores` cores: half of them (the
  // clients beside the daemon need the rest), at least one, at most four.
  // Measured on 2 cores (bench/RESULTS.md): one thread cost 19.7 us of CPU
  // per point select against 24.2 us for two (cross-core wake-ups, lock
  // contention), for the same throughput.
  static int DefaultCount(unsigned cores);

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<WorkGuard> guards_;
  std::vector<std::thread> threads_;
  size_t next_ = 0;
};

}  // namespace litepool::server
