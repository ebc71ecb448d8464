// Rendering client Errors for messages and test output.
#include <ostream>

#include "litepool/client_result.h"

namespace litepool::client {

std::string Error::ToString() const {
  std::string s = code + ": " + message;
  if (sqlite_code != 0) s += " (sqlite_code " + std::to_string(sqlite_code) + ")";
  return s;
}

std::ostream& operator<<(std::ostream& os, const Error& error) { return os << error.ToString(); }

}  // namespace litepool::client
