// Small blocking-with-timeout socket helpers shared by the test support code.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace litepool::testing::internal {

// Writes all of `bytes` (no SIGPIPE); false on error.
bool WriteAll(int fd, std::string_view bytes);

// Result of reading one line from `fd` with `buffer` holding bytes already
// read past earlier lines.
enum class ReadStatus { kLine, kTimeout, kEof };
ReadStatus ReadLine(int fd, std::string* buffer, std::chrono::milliseconds timeout,
                    std::string* line);

}  // namespace litepool::testing::internal
