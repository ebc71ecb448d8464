// Command-line parsing for the `litepool` CLI.
#pragma once

#include <string>
#include <vector>

#include "litepool/client_value.h"

namespace litepool::cli {

// What the command line asks for.
struct Invocation {
  std::string socket;      // empty: DefaultSocketPath()
  bool json = false;       // JSON output even on a terminal
  bool read = false;       // query through a read lease
  bool auto_mode = false;  // query/exec one-shot in mode auto (docs/protocol.md)
  bool decltypes = false;  // query: print the columns' declared types too
  bool help = false;
  bool version = false;
  std::string command;            // "ping", "query", ...
  std::vector<std::string> args;  // the command's operands
};

// Fills *out from argv; false with *error set on a usage error. Options may
// come before or after the command; "--" ends them, so that a parameter
// such as "--read" can still be passed as text.
bool ParseArgs(int argc, char** argv, Invocation* out, std::string* error);

// A query parameter from its command-line text: an integer ("42", "-7"), a
// float when it has a '.' or an exponent ("2.0", "1e3"), NULL for "null",
// otherwise the text itself. False with *error for an integer beyond 64 bits.
bool ParseParam(const std::string& text, client::Value* value, std::string* error);

// The --help text, exit codes included.
const char* UsageText();

}  // namespace litepool::cli
