// Running and stopping the session threads.
#include "server/session_threads.h"

#include <pthread.h>

#include <algorithm>

namespace litepool::server {

SessionThreads::SessionThreads(int count) {
  for (int i = 0; i < std::max(count, 1); ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.push_back(boost::asio::make_work_guard(*contexts_.back()));
  }
}

SessionThreads::~SessionThreads() { Join(); }

int SessionThreads::DefaultCount(unsigned cores) {
  return static_cast<int>(std::clamp(cores / 2, 1u, 4u));
}

void SessionThreads::Start() {
  for (size_t i = 0; i < contexts_.size(); ++i) {
    threads_.emplace_back([io = contexts_[i].get(), i] {
      std::string name = "litepool-io-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      io->run();
    });
  }
}

boost::asio::io_context& SessionThreads::Next() {
  boost::asio::io_context& io = *contexts_[next_];
  next_ = (next_ + 1) % contexts_.size();
  return io;
}

void SessionThreads::Join() {
  for (auto& guard : guards_) guard.reset();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void SessionThreads::Drain() {
  for (auto& io : contexts_) {
    io->restart();
    io->poll();
  }
}

}  // namespace litepool::server
