// Value formats shared by the file loader and the command-line overrides.
#include "config/formats.h"

#include <sys/un.h>

#include "wire/hex.h"

namespace litepool::config::internal {
namespace {

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Room for the path and its terminating NUL in sockaddr_un (108 on Linux).
constexpr size_t kSunPathSize = sizeof(sockaddr_un::sun_path);

bool IsHostName(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (!IsAsciiAlnum(c) && c != '.' && c != '-') return false;
  }
  return true;
}

// Inside the brackets of "[::1]:9433"; '.' for IPv4-mapped forms.
bool IsIpv6Literal(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (!IsHexDigit(c) && c != ':' && c != '.') return false;
  }
  return true;
}

}  // namespace

std::string CheckSocketPath(std::string_view path) {
  if (path.empty()) return "must not be empty";
  if (path.find('\0') != std::string_view::npos) return "must not contain a NUL byte";
  if (path.size() >= kSunPathSize) {
    return "must be shorter than " + std::to_string(kSunPathSize) +
           " bytes (the size of a Unix socket address), got " + std::to_string(path.size());
  }
  return "";
}

std::string CheckBackupDir(std::string_view path) {
  if (path.empty()) return "";
  if (path.front() != '/') return "must be an absolute path, got " + Quote(path);
  if (path.find('\0') != std::string_view::npos) return "must not contain a NUL byte";
  // A `..` would make the allowed place depend on how the path is read.
  std::string_view rest = path;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part == "..") return "must not contain a \"..\" component, got " + Quote(path);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return "";
}

std::string CheckListen(std::string_view listen) {
  if (listen.empty()) return "";
  const std::string expected = "expected HOST:PORT, got " + Quote(listen);
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return expected;
  std::string_view host = listen.substr(0, colon);
  std::string_view port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    if (!IsIpv6Literal(host.substr(1, host.size() - 2))) return expected;
  } else if (host.find(':') != std::string_view::npos) {
    return expected + " (an IPv6 address goes in brackets: [::1]:PORT)";
  } else if (!IsHostName(host)) {
    return expected;
  }
  if (port.empty() || port.size() > 5) return "port must be 0-65535, got " + Quote(port);
  int value = 0;
  for (char c : port) {
    if (!IsDigit(c)) return "port must be 0-65535, got " + Quote(port);
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return "port must be 0-65535, got " + Quote(port);
  return "";
}

std::string CheckMetricsPath(std::string_view path) {
  if (path.empty() || path.front() != '/') return "must start with \"/\", got " + Quote(path);
  for (char c : path) {
    // Spaces and control bytes cannot appear in an HTTP request target.
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return "must not contain spaces or control characters, got " + Quote(path);
    }
  }
  return "";
}

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == log::LevelName(level)) return level;
  }
  return std::nullopt;
}

std::optional<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "json") return LogFormat::kJson;
  if (name == "text") return LogFormat::kText;
  return std::nullopt;
}

std::optional<uint32_t> ParseSocketMode(std::string_view text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  // Set-id and sticky bits mean nothing on a socket; refusing them catches
  // a mode written with one digit too many.
  if (mode > 0777) return std::nullopt;
  return mode;
}

bool IsDatabaseName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!IsAsciiAlnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsPragmaName(std::string_view name) {
  if (name.empty() || IsDigit(name.front())) return false;
  for (char c : name) {
    if (!IsAsciiAlnum(c) && c != '_') return false;
  }
  return true;
}

bool IsPragmaValue(std::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    if (!IsAsciiAlnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Escape(std::string_view value, bool escape_non_ascii) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f || (u > 0x7f && escape_non_ascii)) {
      out.append("\\x");
      wire::AppendHexByte(u, &out);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Quote(std::string_view value) { return "\"" + Escape(value) + "\""; }

}  // namespace litepool::config::internal
