// litepoold: command line, configuration and exit codes.
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "config/config.h"
#include "litepool/version.h"
#include "pool/database_check.h"
#include "server/daemon.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;  // also: invalid configuration

const char kUsage[] =
    "usage: litepoold [--config FILE] [--socket PATH] [--metrics-listen HOST:PORT]\n"
    "                 [--log-level debug|info|warn|error]\n"
    "       litepoold --check-config FILE [--open-databases]\n"
    "       litepoold --version\n"
    "\n"
    "Without --config, runs on the embedded default: socket ./litepool.sock,\n"
    "metrics on 127.0.0.1:9433, database 'main' at ./litepool-main.db.\n"
    "Exit codes: 0 clean shutdown or valid config, 1 runtime failure,\n"
    "2 usage error or invalid configuration (with --open-databases: or a\n"
    "database file that could not be opened now).\n";

struct Args {
  std::optional<std::string> config;
  std::optional<std::string> check_config;
  bool open_databases = false;  // --check-config also opens every database file
  bool version = false;
  bool help = false;
  litepool::config::Overrides overrides;
};

bool Parse(int argc, char** argv, Args* args, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::optional<std::string>* out) {
      if (i + 1 >= argc) {
        *error = a + " needs a value";
        return false;
      }
      *out = argv[++i];
      return true;
    };
    if (a == "--config") {
      if (!value(&args->config)) return false;
    } else if (a == "--check-config") {
      if (!value(&args->check_config)) return false;
    } else if (a == "--socket") {
      if (!value(&args->overrides.socket)) return false;
    } else if (a == "--metrics-listen") {
      if (!value(&args->overrides.metrics_listen)) return false;
    } else if (a == "--log-level") {
      if (!value(&args->overrides.log_level)) return false;
    } else if (a == "--open-databases") {
      args->open_databases = true;
    } else if (a == "--version") {
      args->version = true;
    } else if (a == "--help" || a == "-h") {
      args->help = true;
    } else {
      *error = "unknown argument: " + a;
      return false;
    }
  }
  return true;
}

// --check-config: the file as a start would read it; with --open-databases,
// then every database file as the daemon would open it (read-only here). A
// database that cannot open would not stop the daemon, but it is worth
// knowing before a start. Without the flag nothing outside the file is
// looked at, so a configuration can be checked on a machine other than the
// one it is for (a CI job, an image build).
int CheckConfig(const std::string& path, bool open_databases) {
  std::string error;
  auto config = litepool::config::LoadFile(path, &error);
  if (!config) {
    std::cerr << "litepoold: invalid configuration: " << error << "\n";
    return kExitUsage;
  }
  bool all_ok = true;
  for (const auto& db : config->databases) {
    if (!open_databases) break;
    litepool::DatabaseCheck check = litepool::CheckDatabaseFile(db);
    if (!check.status.ok()) {
      all_ok = false;
      std::cerr << path << ": database " << db.name << ": " << check.status.message() << "\n";
    } else if (!check.note.empty()) {
      std::cout << path << ": database " << db.name << ": " << check.note << "\n";
    }
  }
  if (!all_ok) return kExitUsage;
  std::cout << path << ": ok\n";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // A write to a closed pipe (stderr read by a process that died, a client
  // gone) must fail with EPIPE, not kill the daemon; sockets are written
  // with MSG_NOSIGNAL anyway, but the log is not.
  std::signal(SIGPIPE, SIG_IGN);
  // Big buffers (a large reply, a refused result) come from mmap and go
  // back to the system when freed. glibc otherwise raises its mmap
  // threshold to the largest freed block, after which such buffers live in
  // the heap arenas and the memory stays with the process (measured: 238 MB
  // resident after a few bursts of refused 16 MB results).
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  Args args;
  std::string error;
  if (!Parse(argc, argv, &args, &error)) {
    std::cerr << "litepoold: " << error << "\n" << kUsage;
    return kExitUsage;
  }
  if (args.help) {
    std::cout << kUsage;
    return kExitOk;
  }
  if (args.version) {
    std::cout << "litepoold " << litepool::kVersion << " (protocol " << litepool::kProtocolVersion
              << ")\n";
    return kExitOk;
  }
  if (args.check_config) return CheckConfig(*args.check_config, args.open_databases);
  std::optional<litepool::config::Config> config;
  if (args.config) {
    config = litepool::config::LoadFile(*args.config, &error);
    if (!config) {
      std::cerr << "litepoold: invalid configuration: " << error << "\n";
      return kExitUsage;
    }
  } else {
    config = litepool::config::EmbeddedDefault();
  }
  if (!litepool::config::ApplyOverrides(args.overrides, &*config, &error)) {
    std::cerr << "litepoold: " << error << "\n";
    return kExitUsage;
  }
  litepool::server::Daemon daemon(std::move(*config));
  return daemon.Run() == 0 ? kExitOk : kExitFailure;
}
