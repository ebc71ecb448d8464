// Shared fixtures of the pool/ tests: a temporary directory per test, a
// database configuration built by hand, a counting PoolEvents and a RowSink
// that copies every cell.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "pool/handle.h"
#include "pool/pool.h"
#include "pool/pool_events.h"
#include "pool/task_runner.h"
#include "pool/value.h"

namespace litepool::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it
// when the object goes. Not thread-safe; one per test.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/litepool-pool-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// A database named `name` in `dir`, WAL mode, with `limits`.
inline config::Database MakeDatabase(const TempDir& dir, const std::string& name,
                                     config::PoolLimits limits = {}) {
  config::Database db;
  db.name = name;
  db.path = dir.File(name + ".db");
  db.create_if_missing = true;
  db.limits = std::move(limits);
  db.pragmas = {{"journal_mode", "wal"}};
  return db;
}

// Counts every event, by mode, reason and result. Thread-safe.
class CountingEvents final : public PoolEvents {
 public:
  void HandleOpened(Mode mode) override { opened_[Index(mode)]++; }
  void HandleClosed(Mode mode, CloseReason reason) override {
    closed_[Index(mode)][static_cast<size_t>(reason)]++;
  }
  void Acquired(Mode mode, AcquireResult result, double) override {
    acquired_[Index(mode)][static_cast<size_t>(result)]++;
  }
  void LeaseEnded(Mode mode, double) override { lease_ended_[Index(mode)]++; }
  void QueryDone(Code, double) override { queries_++; }
  void LeaseTimedOut() override { lease_timeouts_++; }
  void LeakWarned() override { leak_warnings_++; }
  void StorageFault(Code) override { storage_faults_++; }
  void DatabaseUp(bool up) override { up_ = up; }

  int storage_faults() const { return storage_faults_; }
  bool up() const { return up_; }
  int opened(Mode mode) const { return opened_[Index(mode)]; }
  int closed(Mode mode, CloseReason reason) const {
    return closed_[Index(mode)][static_cast<size_t>(reason)];
  }
  int closed(CloseReason reason) const {
    return closed(Mode::kWrite, reason) + closed(Mode::kRead, reason);
  }
  int closed_total() const {
    int n = 0;
    for (size_t r = 0; r < kCloseReasonCount; ++r) n += closed(static_cast<CloseReason>(r));
    return n;
  }
  int acquired(Mode mode, AcquireResult result) const {
    return acquired_[Index(mode)][static_cast<size_t>(result)];
  }
  int lease_ended(Mode mode) const { return lease_ended_[Index(mode)]; }
  int lease_timeouts() const { return lease_timeouts_; }
  int leak_warnings() const { return leak_warnings_; }

 private:
  static size_t Index(Mode mode) { return static_cast<size_t>(mode); }

  std::array<std::atomic<int>, kModeCount> opened_{};
  std::array<std::array<std::atomic<int>, kCloseReasonCount>, kModeCount> closed_{};
  std::array<std::array<std::atomic<int>, kAcquireResultCount>, kModeCount> acquired_{};
  std::array<std::atomic<int>, kModeCount> lease_ended_{};
  std::atomic<int> queries_{0};
  std::atomic<int> lease_timeouts_{0};
  std::atomic<int> leak_warnings_{0};
  std::atomic<int> storage_faults_{0};
  std::atomic<bool> up_{false};
};

// Copies the whole result, so cells outlive the query.
class CopySink final : public RowSink {
 public:
  void Columns(const std::vector<std::string_view>& names) override {
    columns.assign(names.begin(), names.end());
  }
  Status Row(const std::vector<ValueView>& cells) override {
    std::vector<Value> row;
    for (const ValueView& v : cells) {
      switch (v.type) {
        case ValueType::kNull:
          row.emplace_back(std::monostate{});
          break;
        case ValueType::kInteger:
          row.emplace_back(v.integer);
          break;
        case ValueType::kReal:
          row.emplace_back(v.real);
          break;
        case ValueType::kText:
          row.emplace_back(std::string(v.bytes));
          break;
        case ValueType::kBlob:
          row.emplace_back(Blob{std::string(v.bytes)});
          break;
      }
    }
    rows.push_back(std::move(row));
    return Status();
  }

  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
};

inline Params Positional(std::vector<Value> values) {
  Params p;
  p.positional = std::move(values);
  return p;
}

inline Params Named(std::vector<std::pair<std::string, Value>> values) {
  Params p;
  p.named = true;
  p.by_name = std::move(values);
  return p;
}

// Runs `sql` and returns its status; rows land in *sink when given.
inline Status RunQuery(Handle* h, std::string_view sql, const Params& params = {},
                       CopySink* sink = nullptr, Millis timeout = Millis(0),
                       StatementOutcome* outcome = nullptr) {
  CopySink local;
  StatementOutcome local_outcome;
  return h->Query(sql, params, timeout, sink ? sink : &local, outcome ? outcome : &local_outcome);
}

// Collects the handles granted to queued waiters, in grant order. The Grant
// it makes keeps the handle (returns nullptr), or refuses it when the waiter
// was marked gone. Thread-safe.
class GrantLog {
 public:
  struct Entry {
    int waiter;                      // the caller's label
    std::unique_ptr<Handle> handle;  // null: granted a null handle (shutdown)
  };

  Pool::Grant For(int waiter) {
    return [this, waiter](std::unique_ptr<Handle> h) -> std::unique_ptr<Handle> {
      std::lock_guard lock(mu_);
      entries_.push_back(Entry{waiter, std::move(h)});
      return nullptr;
    };
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return entries_.size();
  }
  // Takes the i-th grant's handle out.
  std::unique_ptr<Handle> Take(size_t i) {
    std::lock_guard lock(mu_);
    return std::move(entries_.at(i).handle);
  }
  int waiter(size_t i) const {
    std::lock_guard lock(mu_);
    return entries_.at(i).waiter;
  }
  bool has_handle(size_t i) const {
    std::lock_guard lock(mu_);
    return entries_.at(i).handle != nullptr;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

// Waits until every task posted to `runner` before this call has run (the
// runner must have one thread, so tasks run in order).
inline void Drain(TaskRunner* runner) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  runner->Post([done] { done->set_value(); });
  ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "the worker did not run its queued tasks";
}

// A client uid every database allows (root).
inline constexpr uint32_t kRootUid = 0;

// Pool::Acquire as the daemon's workers call it (may open a handle), with
// the Grant made up front, for root.
inline Pool::Acquired AcquireFor(Pool& pool, Mode mode, Pool::Grant grant) {
  return pool.Acquire(
      mode, kRootUid, [&grant] { return std::move(grant); }, /*may_open=*/true);
}

}  // namespace litepool::testing
