// Framing, ordering and writing for one connection.
#include "server/session.h"

#include <poll.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "log/log.h"
#include "server/reply.h"

namespace litepool::server {
namespace asio = boost::asio;

namespace {
// Stop reading while this many framed requests wait, and stop starting
// requests while this many reply bytes wait: a client that writes without
// reading cannot grow the daemon's memory.
constexpr size_t kMaxQueuedLines = 256;
constexpr size_t kMaxQueuedReplyBytes = 4 << 20;
constexpr auto kStallTimeout = std::chrono::seconds(30);
}  // namespace

Session::Session(asio::io_context& io, Socket socket, const ClientContext& client,
                 RequestDriver* driver, size_t max_request_bytes, OnClosed on_closed)
    : io_(io),
      socket_(std::move(socket)),
      client_(client),
      driver_(driver),
      max_request_bytes_(max_request_bytes),
      on_closed_(std::move(on_closed)),
      wait_timer_(io),
      stall_timer_(io) {}

Session::~Session() = default;

void Session::Start() {
  // Results that settle on other threads come back to this one; a session
  // that has gone meanwhile drops them (a ticket among them withdraws).
  auto to_this_thread = [weak = weak_from_this()](void (Session::*handler)(Settled)) {
    return [weak, handler](Settled settled) {
      auto self = weak.lock();
      if (!self) return;
      asio::post(self->io_, [self, handler, settled = std::move(settled)]() mutable {
        ((*self).*handler)(std::move(settled));
      });
    };
  };
  // Replies are sent straight from Write() when the socket takes them.
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
  connection_ = driver_->Connect(client_, to_this_thread(&Session::OnSettled),
                                 to_this_thread(&Session::OnGranted));
  Read();
}

bool Session::ReadPaused() const {
  return lines_.size() >= kMaxQueuedLines || lines_bytes_ > 2 * max_request_bytes_;
}

void Session::Read() {
  if (reading_ || stopped_ || eof_ || ReadPaused()) return;
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_chunk_),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->OnRead(ec, n); });
}

void Session::OnRead(const boost::system::error_code& ec, size_t n) {
  reading_ = false;
  if (stopped_) return;
  if (ec) {
    if (ec == asio::error::eof && !PeerGone()) {
      eof_ = true;  // answer what was already sent, then close
      MaybeCloseAfterEof();
    } else {
      // Nobody is left to read the replies: stop the running statement and
      // roll back now instead of finishing work for no one (a client
      // cancels a statement by closing its connection, docs/protocol.md
      // "Cancelling").
      Stop();
    }
    return;
  }
  Frame(read_chunk_, n);
  ProcessNext();
  Read();
}

void Session::Frame(const char* data, size_t n) {
  const size_t max = max_request_bytes_;
  const char* end = data + n;
  while (data < end) {
    const char* nl = static_cast<const char*>(memchr(data, '\n', end - data));
    size_t chunk = (nl ? nl : end) - data;
    if (skipping_) {
      if (nl) skipping_ = false;
    } else if (partial_.size() + chunk > max) {
      // Too long: answer now, drop what we have and skip to the newline.
      partial_.clear();
      partial_.shrink_to_fit();
      lines_.push_back(Line{std::string(), true});
      skipping_ = nl == nullptr;
    } else {
      partial_.append(data, chunk);
      if (nl) {
        if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
        if (!partial_.empty()) {
          lines_bytes_ += partial_.size();
          lines_.push_back(Line{std::move(partial_), false});
        }
        partial_.clear();
      }
    }
    data += chunk + (nl ? 1 : 0);
  }
}

void Session::ProcessNext() {
  if (busy_ || stopped_ || lines_.empty()) return;
  if (out_.size() > kMaxQueuedReplyBytes) {
    ArmStallTimer();
    return;
  }
  Line next = std::move(lines_.front());
  lines_.pop_front();
  std::string line = std::move(next.text);
  lines_bytes_ -= std::min(lines_bytes_, line.size());
  busy_ = true;
  if (next.too_large) {
    Finish(ErrorReply(
        "", Status(Code::kRequestTooLarge, "request line longer than max_request_bytes (" +
                                               std::to_string(max_request_bytes_) + ")")));
    return;
  }
  std::optional<Settled> now = driver_->Start(connection_, line);
  if (now) OnSettled(std::move(*now));
}

void Session::ArmStallTimer() {
  if (stall_armed_) return;
  stall_armed_ = true;
  stall_timer_.expires_after(kStallTimeout);
  stall_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: whoever cancelled cleared stall_armed_
    self->stall_armed_ = false;
    if (self->stopped_ || self->out_.size() <= kMaxQueuedReplyBytes) return;
    log::Warn("client_stalled")
        .Int("pid", self->client_.peer.pid)
        .Int("uid", self->client_.peer.uid)
        .Int("unread_bytes", static_cast<int64_t>(self->out_.size() + self->writing_.size()));
    self->Stop();
  });
}

bool Session::PeerGone() {
  // A peer that closed its socket shuts down both directions: POLLHUP. One
  // that only shut down its write side leaves POLLRDHUP alone.
  pollfd p{socket_.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

void Session::OnSettled(Settled settled) {
  if (auto* answer = std::get_if<Answer>(&settled)) {
    Finish(std::move(answer->line));
    return;
  }
  Queued queued = std::move(std::get<Queued>(settled));
  if (stopped_) return;  // the ticket withdraws as it goes
  if (early_) {
    Settled early = std::move(*early_);
    early_.reset();
    queued.ticket.Granted();
    if (auto* answer = std::get_if<Answer>(&early)) {
      Finish(std::move(answer->line));
      return;
    }
    // Granted and moved on to the writer's queue; the request's own wait
    // goes on there.
    queued.ticket = std::move(std::get<Queued>(early).ticket);
  }
  waiting_.emplace(std::move(queued.ticket));
  wait_timer_.expires_after(queued.wait);
  wait_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->OnWaitExpired(ec);
  });
}

void Session::OnGranted(Settled settled) {
  if (stopped_) return;  // a ticket in it withdraws as it goes
  if (!waiting_) {       // the grant was faster than the report that it queued
    early_ = std::move(settled);
    return;
  }
  waiting_->Granted();
  if (auto* queued = std::get_if<Queued>(&settled)) {
    // Moved to the writer's queue; the wait timer runs on.
    *waiting_ = std::move(queued->ticket);
    return;
  }
  waiting_.reset();
  wait_timer_.cancel();
  Finish(std::move(std::get<Answer>(settled).line));
}

void Session::OnWaitExpired(const boost::system::error_code& ec) {
  if (ec == asio::error::operation_aborted || !waiting_ || stopped_) return;
  if (!waiting_->Withdraw(AcquireResult::kTimeout)) {
    return;  // granted meanwhile: its reply is on the way
  }
  std::string id_json = waiting_->id_json();
  waiting_.reset();
  Finish(ErrorReply(id_json, Status(Code::kAcquireTimeout, "no handle became free in time")));
}

void Session::Finish(std::string reply) {
  busy_ = false;
  if (stopped_) return;
  if (out_.empty()) {
    out_ = std::move(reply);
  } else {
    out_ += reply;
  }
  ScheduleWrite();
  ProcessNext();
  Read();
  MaybeCloseAfterEof();
}

void Session::ScheduleWrite() {
  // A write in flight picks up out_ when it completes.
  if (write_scheduled_ || write_in_flight_) return;
  write_scheduled_ = true;
  asio::post(io_, [self = shared_from_this()] {
    self->write_scheduled_ = false;
    self->Write();
    self->MaybeCloseAfterEof();
  });
}

void Session::Write() {
  if (write_in_flight_ || out_.empty() || stopped_) return;
  // Most replies fit the socket's send buffer: one send at once, with no
  // asynchronous operation to queue and complete. Only what does not fit
  // waits for the socket to drain.
  boost::system::error_code ec;
  size_t sent = socket_.write_some(asio::buffer(out_), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    sent = 0;
  } else if (ec) {
    Stop();
    return;
  }
  if (sent == out_.size()) {
    out_.clear();
    Written();
    return;
  }
  write_in_flight_ = true;
  writing_.swap(out_);  // no copy of a large reply's remainder
  out_.clear();
  asio::async_write(socket_, asio::buffer(writing_) + sent,
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      self->write_in_flight_ = false;
                      if (ec) {
                        self->Stop();
                        return;
                      }
                      self->writing_.clear();
                      self->Write();
                      self->Written();
                    });
}

void Session::Written() {
  if (stopped_) return;
  if (stall_armed_ && out_.size() <= kMaxQueuedReplyBytes) {
    stall_timer_.cancel();
    stall_armed_ = false;
  }
  ProcessNext();
  MaybeCloseAfterEof();
}

void Session::MaybeCloseAfterEof() {
  if (eof_ && !busy_ && lines_.empty() && !write_in_flight_ && out_.empty()) Stop();
}

void Session::PostStop() {
  asio::post(io_, [self = shared_from_this()] { self->Stop(); });
}

void Session::Stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  wait_timer_.cancel();
  stall_timer_.cancel();
  waiting_.reset();  // withdraws a queued acquire
  early_.reset();
  // Leases go back at once; their rollbacks run on a worker.
  if (connection_) driver_->Disconnect(*connection_);
  on_closed_(client_.id);
}

}  // namespace litepool::server
