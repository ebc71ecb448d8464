// A fixed set of worker threads running queued tasks in FIFO order: where
// SQLite work (statements, opening and closing handles) happens, so that
// neither the I/O thread nor the reaper ever blocks on the disk.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace litepool {

// Thread-safe. Post() from any thread; Stop() runs every task already
// queued, then joins the workers.
class TaskRunner {
 public:
  TaskRunner(int threads, std::string name);
  ~TaskRunner();
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  void Post(std::function<void()> task);
  void Stop();
  int threads() const { return static_cast<int>(workers_.size()); }

 private:
  void Run();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
};

}  // namespace litepool
