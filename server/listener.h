// The Unix socket: its file (mode, a stale file replaced, a live one
// refused), the accept loop (pausing on EMFILE instead of spinning), peer
// credentials and the refusals that happen before a session exists
// (allowed_uids, max_clients, draining). Lives on the I/O thread.
#pragma once

#include <utility>  // before Asio: Boost 1.74 with GCC 12 needs it

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>
#include <vector>

#include "pool/lease_table.h"
#include "pool/status.h"

namespace litepool::server {

struct ListenerOptions {
  std::string path;
  uint32_t mode = 0660;
  std::vector<uint32_t> allowed_uids;  // empty: any peer
};

class Listener {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;
  // Called for each accepted, admitted connection.
  using OnAccept = std::function<void(Socket, const ClientInfo&)>;
  // Why a connection is turned away before it gets a session, or kOk.
  using Admission = std::function<Status(const ClientInfo&)>;

  Listener(boost::asio::io_context& io, ListenerOptions options, Admission admit,
           OnAccept on_accept);
  ~Listener();

  // Creates the socket file and starts accepting.
  Status Open();
  // Stops accepting and removes the socket file. Idempotent.
  void Close();

 private:
  void Accept();
  void Refuse(Socket socket, const ClientInfo& peer, const Status& why);

  boost::asio::io_context& io_;
  const ListenerOptions options_;
  Admission admit_;
  OnAccept on_accept_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer pause_timer_;
  bool open_ = false;
  int lock_fd_ = -1;  // flock on "<socket>.lock", held while we run
};

// Reads SO_PEERCRED of a connected Unix socket.
ClientInfo PeerCredentials(int fd);

}  // namespace litepool::server
