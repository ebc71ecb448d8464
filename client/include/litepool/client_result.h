// Errors as values for the litepool client: an Error carries the protocol's
// stable code, and Result<T> holds either a T or an Error.
#pragma once

#include <cassert>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace litepool::client {

// The client-side code for a transport failure: the socket could not be
// opened, a read or write failed, the daemon closed the connection, or its
// reply was not a well-formed protocol reply. The daemon never sends it; all
// other codes are the daemon's own (docs/protocol.md: "acquire_timeout", "sql_error",
// ...). After an io_error the Client is unusable and every later call fails
// the same way, because the request/reply stream is no longer in step.
inline constexpr std::string_view kIoError = "io_error";

// A failed request: the protocol's error object.
struct Error {
  std::string code;     // e.g. "acquire_timeout", "sql_error", "io_error"
  std::string message;  // for humans; do not branch on it
  int sqlite_code = 0;  // SQLite's extended result code for "sql_error", else 0

  // "code: message" (plus " (sqlite_code N)" when set).
  std::string ToString() const;
};

std::ostream& operator<<(std::ostream& os, const Error& error);

// Either a T or an Error; the return type of every fallible client call.
// Accessing value() of a failed Result (or error() of a good one) is a bug,
// checked by assert in debug builds. A plain value: owns its T or Error, and
// is as thread-safe as they are (const use from several threads is fine).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return *std::get_if<0>(&v_);
  }
  const T& value() const& {
    assert(ok());
    return *std::get_if<0>(&v_);
  }
  T&& value() && {
    assert(ok());
    return std::move(*std::get_if<0>(&v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return *std::get_if<1>(&v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Success without a value, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace litepool::client
