// `litepool shell DB`: an interactive SQL prompt on one lease, like sqlite3's.
#pragma once

#include <istream>
#include <ostream>
#include <string>

#include "litepool/client.h"

namespace litepool::cli {

struct ShellOptions {
  std::string db;
  bool read = false;         // a read lease instead of a write lease
  bool json = false;         // one JSON object per statement instead of tables
  bool interactive = false;  // input is a terminal: prompts, and errors do not
                             // change the exit status
};

// Takes one lease on options.db for the whole session, then reads `in`
// until EOF or .quit, running each complete statement through the lease
// (so BEGIN ... COMMIT spans statements) and printing its result to `out`.
// Errors go to `err` as "litepool: CODE: MESSAGE" and the session goes on,
// except when the connection is lost, or, with piped input, when the lease
// is revoked (the statements after it would run outside their transaction).
// Releases the lease at the end (the daemon rolls back a transaction left
// open, and the shell says so on `err`).
//
// Returns the exit status: 0; 1 if the lease could not be taken or, with
// piped input, a statement failed; 3 if the connection failed.
// `client` must be connected; it is used from this thread only.
int RunShell(client::Client* client, const ShellOptions& options, std::istream& in,
             std::ostream& out, std::ostream& err);

}  // namespace litepool::cli
