// Start-up, signals and the drain.
#include "server/daemon.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "log/log.h"
#include "pool/wal_report.h"

namespace litepool::server {
namespace asio = boost::asio;

namespace {

constexpr auto kDrainPoll = std::chrono::milliseconds(50);
// Descriptors kept free beyond the handles' and the clients': metrics
// scrapes, a log pipe reopened, the listener's reserve, SQLite's journals.
constexpr int kSpareFds = 32;

// Descriptors open in this process now.
int OpenFds() {
  int n = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir) != nullptr) ++n;
    ::closedir(dir);
    n -= 3;  // ".", ".." and the directory's own descriptor
  }
  return n;
}

// How often the checkpointer looks at idle writers and retries blocked
// checkpoints; a write that crosses checkpoint_frames wakes it at once.
constexpr Millis kCheckpointerInterval{250};

// Enough workers that every handle can run a statement at once (a slow query
// never waits for a worker), plus room for releases and admin ops.
int WorkerCount(const config::Config& config) {
  int handles = 0;
  for (const auto& db : config.databases) handles += db.limits.max_writers + db.limits.max_readers;
  return std::clamp(handles + 2, 4, 64);
}

std::vector<uint32_t> ResolveAdmins(const std::vector<uint32_t>& configured) {
  std::vector<uint32_t> admins = configured;
  if (admins.empty()) admins.push_back(static_cast<uint32_t>(::getuid()));
  admins.push_back(0);  // root can read everything anyway
  return admins;
}

}  // namespace

Daemon::Daemon(config::Config config)
    : config_(std::move(config)),
      signals_(io_, SIGINT, SIGTERM),
      hangups_(io_, SIGHUP),
      drain_timer_(io_),
      leases_(RealTime()),
      max_result_bytes_(config_.max_result_bytes),
      max_request_bytes_(static_cast<size_t>(config_.max_request_bytes)) {}

Daemon::~Daemon() = default;

Status Daemon::Start() {
  std::vector<std::string> names;
  for (const auto& db : config_.databases) names.push_back(db.name);
  metrics_ = std::make_unique<metrics::Metrics>(names, [this] {
    std::vector<PoolSnapshot> out;
    for (const auto& pool : pools_.All()) out.push_back(pool->Snapshot());
    return out;
  });
  workers_ = std::make_unique<TaskRunner>(WorkerCount(config_), "litepool-work");
  // A database that cannot open is down, not fatal: the others serve, and
  // the reaper retries it (docs/operations.md, "Storage faults").
  for (const auto& db : config_.databases) AddPool(db, nullptr);
  reaper_ = std::make_unique<Reaper>(&pools_, &leases_, workers_.get(), RealTime(),
                                     Millis(config_.reaper_interval_ms), metrics_->reaper());
  auto wal_events = [this](const std::string& db) { return metrics_->wal().ForDatabase(db); };
  checkpointer_ = std::make_unique<Checkpointer>(&pools_, &leases_, RealTime(), wal_events,
                                                 kCheckpointerInterval);
  metrics_->wal().SetSource([this] { return ReportWal(pools_, leases_, RealTime()->Now()); });

  services_.pools = &pools_;
  services_.leases = &leases_;
  services_.workers = workers_.get();
  services_.reaper = reaper_.get();
  services_.clock = RealTime();
  services_.max_result_bytes = &max_result_bytes_;
  services_.admin_uids = ResolveAdmins(config_.admin_uids);
  services_.draining = &draining_;
  services_.clients_connected = [this] { return client_count_.load(); };
  services_.counters = [this](const std::string& db, Mode mode) {
    return metrics_->Counters(db, mode);
  };
  services_.backup_dir = config_.backup_dir;
  services_.wal_events = wal_events;
  dispatcher_ = std::make_unique<Dispatcher>(&services_);
  driver_ = std::make_unique<RequestDriver>(dispatcher_.get(), workers_.get());

  std::string metrics_url;
  if (!config_.metrics_listen.empty()) {
    std::string error;
    if (!metrics_->Serve(config_.metrics_listen, config_.metrics_path, &metrics_url, &error)) {
      return Status(Code::kInternal, error);
    }
  }
  session_threads_ = std::make_unique<SessionThreads>(
      config_.io_threads > 0 ? config_.io_threads
                             : SessionThreads::DefaultCount(std::thread::hardware_concurrency()));
  // Connections are accepted straight onto the session thread that will
  // serve them, dealt round-robin.
  listener_ = std::make_unique<Listener>(
      io_, ListenerOptions{config_.socket, config_.socket_mode, config_.allowed_uids},
      [this]() -> asio::io_context& { return session_threads_->Next(); },
      [this](const wire::PeerCredentials& peer) { return Admit(peer); },
      [this](Listener::Socket socket, const wire::PeerCredentials& peer) {
        Accept(std::move(socket), peer);
      });
  Status st = listener_->Open();
  if (!st.ok()) return st;
  session_threads_->Start();
  reaper_->Start();
  checkpointer_->Start();
  PlanFileDescriptors();

  auto event = log::Info("listening");
  event.Str("socket", config_.socket);
  if (!metrics_url.empty()) event.Str("metrics", metrics_url);
  event.Str("config", config_.source).Int("pid", ::getpid()).Int("workers", workers_->threads());
  event.Int("io_threads", session_threads_->count());
  return Status();
}

int Daemon::Run() {
  log::Configure(config_.log_level, config_.log_format);
  Status st = Start();
  if (!st.ok()) {
    log::Error("start_failed").Str("error", st.message());
    return 1;
  }
  WaitForSignal();
  WaitForHangup();
  io_.run();

  // The drain has ended: every session was told to stop, and its thread
  // ends once its sessions have (their leases queued for return). Stop the
  // reaper, make the pools close what comes back, and let the workers finish.
  session_threads_->Join();
  reaper_->Stop();
  for (const auto& pool : pools_.All()) pool->Shutdown(CloseReason::kShutdown);
  // Leases whose clients never came back for them: closed by their pools.
  leases_.TakeAll();
  workers_->Stop();
  // Last: with every handle closed, its connections' close copies the WAL
  // back and removes it.
  checkpointer_->Stop();
  // Run what the workers posted back (each handler sees its session
  // stopped), so no session outlives the I/O context it was made on.
  session_threads_->Drain();
  io_.restart();
  io_.poll();
  sessions_.clear();
  log::Info("stopped");
  return 0;
}

void Daemon::WaitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (!draining_) BeginDrain(signal);
    WaitForSignal();  // a second signal during the drain is ignored
  });
}

void Daemon::WaitForHangup() {
  hangups_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (!draining_) Reload();
    WaitForHangup();
  });
}

// SIGHUP: re-read the file. Sizes and time limits apply to live pools, new
// databases open, removed ones drain; an invalid file changes nothing. Runs
// on the I/O thread; the slow parts (closing, opening) go to workers.
void Daemon::Reload() {
  std::vector<std::string> keep_old;  // databases whose changed settings did not open
  if (config_.source.empty() || config_.source.front() == '<') {
    log::Warn("config_reload_skipped").Str("reason", "running on the embedded default");
    return;
  }
  std::string error;
  auto next = config::LoadFile(config_.source, &error);
  if (!next) {
    metrics_->ConfigReloaded(false);
    log::Error("config_reload_failed").Str("config", config_.source).Str("error", error);
    return;
  }
  if (next->socket != config_.socket || next->metrics_listen != config_.metrics_listen ||
      next->metrics_path != config_.metrics_path || next->admin_uids != config_.admin_uids ||
      next->backup_dir != config_.backup_dir || next->io_threads != config_.io_threads) {
    // Requests read these without a lock; sessions stay on their threads.
    log::Warn("config_reload_partial")
        .Str("reason",
             "socket, metrics, admin_uids, backup_dir and io_threads apply only at start");
  }
  for (auto& db : next->databases) {
    for (const auto& o : config_.databases) {
      if (o.name != db.name || o.path != db.path || o.read_only != db.read_only ||
          o.file_lock == db.file_lock) {
        continue;
      }
      // The connections of the pool being retired hold the file on one VFS
      // until they close; a new pool on the other VFS beside them would
      // break the lock (docs/configuration.md, "file_lock").
      log::Warn("config_reload_partial")
          .Str("db", db.name)
          .Str("reason", "file_lock applies only at start");
      db.file_lock = o.file_lock;
    }
  }
  std::vector<std::string> errors;
  for (const auto& db : next->databases) {
    auto pool = pools_.Find(db.name);
    const config::Database* old = nullptr;
    for (const auto& o : config_.databases) {
      if (o.name == db.name) old = &o;
    }
    if (!pool) {
      AddPool(db, &errors);  // a new database: down and retried if it cannot open
      continue;
    }
    if (old && (old->path != db.path || old->read_only != db.read_only ||
                old->create_if_missing != db.create_if_missing || old->pragmas != db.pragmas ||
                old->mmap_size != db.mmap_size)) {
      // A different file or different handle settings: a new pool, opened
      // and checked before the old one is retired, which keeps serving if
      // the new one cannot open.
      auto fresh =
          std::make_shared<Pool>(db, RealTime(), metrics_->AddDatabase(db.name), workers_.get());
      if (old->path == db.path) fresh->AdoptFiles(*pool);
      Status st = fresh->Start();
      if (!st.ok()) {
        fresh->Shutdown(CloseReason::kReload);
        pool->events()->DatabaseUp(true);  // the metric child is shared: the old pool serves
        errors.push_back("database " + db.name + ": kept the old configuration: " + st.message());
        keep_old.push_back(db.name);
        continue;
      }
      Retire(pools_.Remove(db.name));
      pools_.Add(std::move(fresh));
      continue;
    }
    auto excess = std::make_shared<std::vector<std::unique_ptr<Handle>>>(pool->Reconfigure(db));
    workers_->Post([pool, excess] {
      for (auto& h : *excess) pool->CloseReaped(std::move(h), CloseReason::kReload);
      pool->ServeWaiters();
    });
  }
  for (const auto& name : pools_.Names()) {
    bool kept = std::any_of(next->databases.begin(), next->databases.end(),
                            [&](const config::Database& d) { return d.name == name; });
    if (kept) continue;
    Retire(pools_.Remove(name));
  }
  for (const auto& name : keep_old) {
    // Keep serving, and describing, the old configuration of these.
    for (auto& db : next->databases) {
      for (const auto& o : config_.databases) {
        if (db.name == name && o.name == name) db = o;
      }
    }
  }
  next->socket = config_.socket;
  next->metrics_listen = config_.metrics_listen;
  next->metrics_path = config_.metrics_path;
  next->admin_uids = config_.admin_uids;
  next->backup_dir = config_.backup_dir;
  config_ = std::move(*next);
  log::Configure(config_.log_level, config_.log_format);
  max_result_bytes_ = config_.max_result_bytes;
  reaper_->set_interval(Millis(config_.reaper_interval_ms));
  PlanFileDescriptors();
  metrics_->ConfigReloaded(errors.empty());
  auto event = errors.empty() ? log::Info("config_reloaded") : log::Error("config_reload_failed");
  event.Str("config", config_.source).Int("databases", static_cast<int64_t>(pools_.Names().size()));
  for (const auto& e : errors) event.Str("error", e);
}

void Daemon::Retire(std::shared_ptr<Pool> pool) {
  // Its leased handles keep it alive until they come back, closed.
  workers_->Post([pool = std::move(pool)] { pool->Shutdown(CloseReason::kReload); });
}

void Daemon::AddPool(const config::Database& db, std::vector<std::string>* errors) {
  auto pool =
      std::make_shared<Pool>(db, RealTime(), metrics_->AddDatabase(db.name), workers_.get());
  Status st = pool->Start();  // logs database_down itself when it fails
  if (!st.ok() && errors != nullptr) errors->push_back("database " + db.name + ": " + st.message());
  pools_.Add(std::move(pool));
}

void Daemon::PlanFileDescriptors() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < limit.rlim_max) {
    // The soft limit is a default, not a choice: take what is allowed.
    rlimit raised = limit;
    raised.rlim_cur = std::min<rlim_t>(limit.rlim_max, 1 << 20);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  int handles = 0;
  for (const auto& db : config_.databases) {
    // Each handle holds the database and its WAL; each database its shm,
    // the daemon's lock and the checkpointer's connection.
    handles += 2 * (db.limits.max_writers + db.limits.max_readers) + 4;
  }
  // Counted once, before any client: at a reload the open descriptors
  // include the clients' and the handles'.
  if (base_fds_ == 0) base_fds_ = OpenFds();
  int64_t budget = static_cast<int64_t>(limit.rlim_cur) - base_fds_ - handles - kSpareFds;
  int max = static_cast<int>(std::clamp<int64_t>(budget, 0, config_.max_clients));
  max_clients_ = max;
  log::Info("fd_limit")
      .Int("limit", static_cast<int64_t>(limit.rlim_cur))
      .Int("open", base_fds_)
      .Int("for_handles", handles)
      .Int("max_clients", max);
  if (max < config_.max_clients) {
    log::Warn("fd_limit_low")
        .Int("limit", static_cast<int64_t>(limit.rlim_cur))
        .Int("configured_max_clients", config_.max_clients)
        .Int("max_clients", max)
        .Str("hint", "raise RLIMIT_NOFILE (LimitNOFILE=, ulimit -n) or lower max_clients");
  }
}

void Daemon::BeginDrain(int signal) {
  draining_ = true;
  drain_deadline_ = std::chrono::steady_clock::now() + Millis(config_.shutdown_grace_ms);
  log::Info("draining")
      .Str("signal", signal == SIGINT ? "SIGINT" : "SIGTERM")
      .Int("leases", static_cast<int64_t>(leases_.size()))
      .Int("grace_ms", config_.shutdown_grace_ms);
  CheckDrain();
}

void Daemon::CheckDrain() {
  if (leases_.size() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
    FinishDrain();
    return;
  }
  drain_timer_.expires_after(kDrainPoll);
  drain_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) CheckDrain();
  });
}

void Daemon::FinishDrain() {
  size_t left = leases_.size();
  if (left > 0) log::Warn("drain_revoking").Int("leases", static_cast<int64_t>(left));
  listener_->Close();
  for (auto& [id, session] : sessions_) session->PostStop();
  signals_.cancel();
  hangups_.cancel();
  io_.stop();
}

Status Daemon::Admit(const wire::PeerCredentials&) const {
  if (draining_) return Status(Code::kShuttingDown, "the daemon is shutting down");
  int max = max_clients_.load();
  if (client_count_.load() >= max) {
    return Status(Code::kTooManyClients,
                  max < config_.max_clients
                      ? "the daemon's file descriptor limit allows " + std::to_string(max) +
                            " clients, and they are connected"
                      : "max_clients (" + std::to_string(max) + ") are connected");
  }
  return Status();
}

void Daemon::Accept(Listener::Socket socket, const wire::PeerCredentials& peer) {
  ClientContext client{next_client_++, peer};
  auto& io = static_cast<asio::io_context&>(socket.get_executor().context());
  auto session =
      std::make_shared<Session>(io, std::move(socket), client, driver_.get(), max_request_bytes_,
                                [this](ClientId id) { SessionClosed(id); });
  sessions_.emplace(client.id, session);
  ++client_count_;
  metrics_->ClientConnected();
  asio::post(io, [session] { session->Start(); });
}

void Daemon::SessionClosed(ClientId id) {
  // On the session's thread; sessions_ belongs to the main thread.
  asio::post(io_, [this, id] {
    if (sessions_.erase(id) > 0) {
      --client_count_;
      metrics_->ClientDisconnected();
    }
  });
}

}  // namespace litepool::server
