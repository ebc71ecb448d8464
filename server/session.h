// One client connection: owns its socket, frames newline-delimited requests
// (with the max_request_bytes cap), runs them one at a time in order (on the
// I/O thread, handing to a worker whatever could block) and writes the
// replies back in request order, batching them into one write. Lives on one
// session thread (its io_context); its pending handlers keep it alive.
#pragma once

#include <utility>  // before Asio: Boost 1.74 with GCC 12 needs it

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/dispatcher.h"

namespace litepool::server {

class Session;

// What a session needs from the daemon around it.
class SessionHost {
 public:
  virtual ~SessionHost() = default;
  virtual Dispatcher& dispatcher() = 0;
  virtual TaskRunner& workers() = 0;
  virtual LeaseTable& leases() = 0;
  virtual size_t max_request_bytes() const = 0;
  // False: hand every request to a worker, as litepoold did before quick
  // runs; kept only so the benchmark can compare the two
  // (LITEPOOL_BENCH_EXECUTION=workers).
  virtual bool quick_runs() const { return true; }
  virtual void SessionClosed(Session* session) = 0;  // on the session's thread
};

// Touched only on its session thread, except for the closures it posts to
// workers, which hold a shared_ptr and post their results back.
class Session : public std::enable_shared_from_this<Session> {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;

  Session(boost::asio::io_context& io, Socket socket, const ClientContext& client,
          SessionHost* host);
  ~Session();

  void Start();
  // Closes the connection and gives back its leases. Idempotent. On the
  // session's thread; PostStop() from any thread.
  void Stop();
  void PostStop();
  ClientId id() const { return client_.id; }

 private:
  struct Waiting {
    std::shared_ptr<Pool> pool;
    Mode mode;
    uint64_t waiter;
    std::string id_json;
  };

  void Read();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void Frame(const char* data, size_t n);
  void ProcessNext();
  // Runs `work` (a request from the start, or what one left) on a worker and
  // hands its Outcome back to this session's thread.
  void OnWorker(std::function<Outcome()> work);
  void OnOutcome(Outcome outcome);
  void OnGranted(Outcome outcome);
  // Whether the peer closed both directions (not just its write side, as
  // `socat` does to say it has sent everything).
  bool PeerGone();
  void OnWaitExpired(const boost::system::error_code& ec);
  void Finish(std::string reply);
  // Writes once the handlers already queued on the I/O thread have run, so
  // that the replies of one pass go out together: measured, this cut the
  // daemon's CPU per point select by a fifth (fewer wake-ups and syscalls).
  void ScheduleWrite();
  void Write();
  void MaybeCloseAfterEof();
  bool ReadPaused() const;
  void ArmStallTimer();

  boost::asio::io_context& io_;
  Socket socket_;
  const ClientContext client_;
  SessionHost* const host_;
  // Answers a queued acquire from the granting thread; holds the session
  // weakly, so a grant for a closed connection is dropped.
  Completion complete_;
  boost::asio::steady_timer wait_timer_;
  // Armed while replies pile up unread; a client that stops reading for
  // this long is disconnected and its leases released.
  boost::asio::steady_timer stall_timer_;
  bool stall_armed_ = false;

  char read_chunk_[16384];
  std::string partial_;        // bytes of an unfinished line
  bool skipping_ = false;      // discarding the rest of an oversized line
  struct Line {
    std::string text;
    bool too_large = false;  // over max_request_bytes: answered, not parsed
  };
  std::deque<Line> lines_;  // framed requests not yet started
  size_t lines_bytes_ = 0;

  bool reading_ = false;
  bool eof_ = false;
  bool busy_ = false;          // a request is running
  std::optional<Waiting> waiting_;
  std::optional<Outcome> early_;  // a grant (or a move to another queue) that beat its Outcome
  std::string out_;            // replies not yet written
  std::string writing_;        // the write in flight
  bool write_in_flight_ = false;
  bool write_scheduled_ = false;  // a ScheduleWrite() post is pending
  bool stopped_ = false;
};

}  // namespace litepool::server
