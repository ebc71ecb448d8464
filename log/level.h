// How much the log says and how it spells a line. The log's own types, so
// that log/ depends on nothing above it: config/ reads them from the file
// (config::LogLevel is this Level), the daemon hands them to log::Configure.
#pragma once

namespace litepool::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kJson, kText };

// "debug", "info", "warn", "error": the names in the configuration file
// (docs/configuration.md) and in every log line.
const char* LevelName(Level level);

}  // namespace litepool::log
