// The embedded default configuration and the command-line overrides.
#include "config/config.h"

#include "config/formats.h"

namespace litepool::config {

Config EmbeddedDefault() {
  Config config;  // the struct's initializers are the documented defaults
  Database main;
  main.name = "main";
  main.path = "./litepool-main.db";
  main.create_if_missing = true;  // the quick start begins with no file
  main.limits = config.defaults;
  // WAL lets the readers run beside the one writer; NORMAL is the
  // durability WAL mode is designed for.
  main.pragmas = {{"journal_mode", "wal"}, {"synchronous", "normal"}};
  config.databases.push_back(std::move(main));
  config.source = "<embedded default>";
  return config;
}

bool ApplyOverrides(const Overrides& overrides, Config* config, std::string* error) {
  auto refuse = [error](std::string_view flag, const std::string& what) {
    if (error != nullptr) *error = std::string(flag) + ": " + what;
    return false;
  };
  // Everything is checked before anything is applied, so a refused
  // override leaves *config as it was.
  if (overrides.socket) {
    std::string what = internal::CheckSocketPath(*overrides.socket);
    if (!what.empty()) return refuse("--socket", what);
  }
  if (overrides.metrics_listen) {
    std::string what = internal::CheckListen(*overrides.metrics_listen);
    if (!what.empty()) return refuse("--metrics-listen", what);
  }
  std::optional<LogLevel> level;
  if (overrides.log_level) {
    level = internal::ParseLogLevel(*overrides.log_level);
    if (!level) {
      return refuse("--log-level", "expected one of debug, info, warn, error, got " +
                                       internal::Quote(*overrides.log_level));
    }
  }
  if (overrides.socket) config->socket = *overrides.socket;
  if (overrides.metrics_listen) config->metrics_listen = *overrides.metrics_listen;
  if (level) config->log_level = *level;
  return true;
}

}  // namespace litepool::config
