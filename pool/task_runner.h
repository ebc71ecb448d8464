// A fixed set of worker threads running queued tasks in FIFO order: where
// SQLite work (statements, opening and closing handles) happens, so that
// neither the I/O thread nor the reaper ever blocks on the disk.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"

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
  Mutex mu_;
  CondVar cv_;  // signalled when a task is queued or stopping_ is set
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
};

}  // namespace litepool
