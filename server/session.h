// One client connection: owns its socket, frames newline-delimited requests
// (with the max_request_bytes cap), runs them one at a time in order
// through the RequestDriver and writes the replies back in request order,
// batching them into one write. Lives on one session thread (its
// io_context); its pending handlers keep it alive.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>  // before Asio: Boost 1.74 with GCC 12 needs it

#include "server/request_driver.h"

namespace litepool::server {

// Touched only on its session thread; what settles elsewhere (a worker's
// result, a grant) is posted to that thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;
  // Told, on the session's thread, that the session has stopped.
  using OnClosed = std::function<void(ClientId)>;

  // `socket` was accepted onto `io`, the context of the thread that will
  // run the session.
  Session(boost::asio::io_context& io, Socket socket, const ClientContext& client,
          RequestDriver* driver, size_t max_request_bytes, OnClosed on_closed);
  ~Session();

  void Start();
  // Closes the connection and gives back its leases. Idempotent. On the
  // session's thread; PostStop() from any thread.
  void Stop();
  void PostStop();
  ClientId id() const { return client_.id; }

 private:
  void Read();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void Frame(const char* data, size_t n);
  void ProcessNext();
  // What the request in progress came to: on this thread, or from a worker.
  void OnSettled(Settled settled);
  // What became of its queued acquire, from the thread that granted it.
  void OnGranted(Settled settled);
  void Wait(Queued queued);
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
  // After replies left: resumes what waited for room to write them.
  void Written();
  void MaybeCloseAfterEof();
  bool ReadPaused() const;
  void ArmStallTimer();

  boost::asio::io_context& io_;
  Socket socket_;
  const ClientContext client_;
  RequestDriver* const driver_;
  const size_t max_request_bytes_;
  const OnClosed on_closed_;
  std::shared_ptr<DriverConnection> connection_;
  boost::asio::steady_timer wait_timer_;
  // Armed while replies pile up unread; a client that stops reading for
  // this long is disconnected and its leases released.
  boost::asio::steady_timer stall_timer_;
  bool stall_armed_ = false;

  char read_chunk_[16384];
  std::string partial_;    // bytes of an unfinished line
  bool skipping_ = false;  // discarding the rest of an oversized line
  struct Line {
    std::string text;
    bool too_large = false;  // over max_request_bytes: answered, not parsed
  };
  std::deque<Line> lines_;  // framed requests not yet started
  size_t lines_bytes_ = 0;

  bool reading_ = false;
  bool eof_ = false;
  bool busy_ = false;  // a request is running
  // The running request's acquire, while it waits for a handle; dropping
  // it withdraws the acquire.
  std::optional<AcquireTicket> waiting_;
  // A grant (or a move to another queue) that beat the report that its
  // request had queued.
  std::optional<Settled> early_;
  std::string out_;      // replies not yet written
  std::string writing_;  // the write in flight
  bool write_in_flight_ = false;
  bool write_scheduled_ = false;  // a ScheduleWrite() post is pending
  bool stopped_ = false;
};

}  // namespace litepool::server
