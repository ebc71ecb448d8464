// The client end of the daemon's socket: connecting to a Unix socket path.
// The client library, the CLI, the tests, the benchmarks and the listener's
// check for a live daemon all connect this one way.
#pragma once

#include <string>
#include <string_view>

namespace litepool::wire {

// Connects a new blocking AF_UNIX stream socket to `path` and returns its
// descriptor, close-on-exec (a child the application starts must not keep
// the connection, and with it its leases, alive). On failure returns -1
// with errno set and, when `error` is not null, *error saying what failed
// and naming the path ("connect /run/x.sock: No such file or directory").
int ConnectUnixSocket(std::string_view path, std::string* error = nullptr);

}  // namespace litepool::wire
