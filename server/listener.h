// The Unix socket: its file (mode, a stale file replaced, a live one
// refused), the accept loop, peer credentials and the refusals that happen
// before a session exists (allowed_uids, max_clients, draining). Out of
// file descriptors, it spends a reserved one to accept and refuse the
// client with a reason, instead of leaving it hanging. Lives on the I/O
// thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>  // before Asio: Boost 1.74 with GCC 12 needs it
#include <vector>

#include "base/status.h"
#include "wire/peer.h"

namespace litepool::server {

struct ListenerOptions {
  std::string path;
  uint32_t mode = 0660;
  std::vector<uint32_t> allowed_uids;  // empty: any peer
};

class Listener {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;
  // The io_context to accept the next connection onto: the one of the
  // thread that will serve it.
  using NextContext = std::function<boost::asio::io_context&()>;
  // Called for each accepted, admitted connection.
  using OnAccept = std::function<void(Socket, const wire::PeerCredentials&)>;
  // Why a connection is turned away before it gets a session, or kOk.
  using Admission = std::function<Status(const wire::PeerCredentials&)>;

  Listener(boost::asio::io_context& io, ListenerOptions options, NextContext next_context,
           Admission admit, OnAccept on_accept);
  ~Listener();

  // Creates the socket file and starts accepting.
  Status Open();
  // Stops accepting and removes the socket file. Idempotent.
  void Close();

 private:
  void Accept();
  void Refuse(Socket socket, const wire::PeerCredentials& peer, const Status& why);
  // EMFILE/ENFILE: frees the reserved descriptor, accepts one waiting
  // client, refuses it (too_many_clients) and takes the reserve back.
  // Returns whether a client was refused that way.
  bool RefuseWithReserve();
  void LogAcceptFailure(const boost::system::error_code& ec);

  const ListenerOptions options_;
  NextContext next_context_;
  Admission admit_;
  OnAccept on_accept_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer pause_timer_;
  bool open_ = false;
  int lock_fd_ = -1;     // flock on "<socket>.lock", held while we run
  int reserve_fd_ = -1;  // /dev/null, spent when the fd table is full
  std::chrono::steady_clock::time_point last_failure_log_{};
  int64_t failures_unlogged_ = 0;
};

}  // namespace litepool::server
