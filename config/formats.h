// Value formats shared by the file loader and the command-line overrides.
// Internal to config/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace litepool::config::internal {

// Each Check* returns "" when the value is acceptable, otherwise what is
// wrong with it, without a key prefix (the caller knows the key or flag).
std::string CheckSocketPath(std::string_view path);
// "" (metrics disabled) or HOST:PORT, where HOST is a name, an IPv4 address
// or a bracketed IPv6 address and PORT is 0-65535.
std::string CheckListen(std::string_view listen);
std::string CheckMetricsPath(std::string_view path);
// An absolute directory path without NUL bytes or `..` components: the one
// place `backup` may write (docs/configuration.md, "backup_dir").
std::string CheckBackupDir(std::string_view path);

std::optional<LogLevel> ParseLogLevel(std::string_view name);
std::optional<LogFormat> ParseLogFormat(std::string_view name);
// "0660", "660", "0600": up to four octal digits, at most 0777.
std::optional<uint32_t> ParseSocketMode(std::string_view text);

bool IsDatabaseName(std::string_view name);
bool IsPragmaName(std::string_view name);
bool IsPragmaValue(std::string_view value);
// PRAGMA names are case-insensitive in SQLite; the configuration keeps
// them lower-case so that the rest of the daemon can compare with ==.
std::string LowerAscii(std::string_view text);

// `value` in double quotes, with quotes, backslashes and non-printable bytes
// escaped, so that any user text keeps an error message on one line.
std::string Quote(std::string_view value);
// The same escaping without the quotes, for keys inside a dotted path.
// Bytes above 0x7f pass unless `escape_non_ascii`: parsed JSON strings are
// valid UTF-8, and escaping them would mangle non-ASCII paths, but raw input
// quoted by a parse error may not be.
std::string Escape(std::string_view value, bool escape_non_ascii = false);

}  // namespace litepool::config::internal
