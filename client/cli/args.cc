// Parsing of the CLI's options, commands and query parameters.
#include "client/cli/args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace litepool::cli {
namespace {

// Commands and how many operands each takes (max -1: no limit).
struct CommandArity {
  const char* name;
  int min;
  int max;
};
constexpr CommandArity kCommands[] = {
    {"ping", 0, 0},  {"hello", 0, 0},  {"query", 2, -1}, {"exec", 2, 2},
    {"stats", 0, 0}, {"leases", 0, 0}, {"shell", 1, 1},  {"backup", 2, 2},
};

bool IsInteger(const std::string& s) {
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// The options that apply to some commands only, and to one another.
bool CheckCommandOptions(const Invocation& inv, std::string* error) {
  if (inv.read && inv.command != "query" && inv.command != "shell") {
    *error = "--read applies to query and shell only";
    return false;
  }
  // A shell holds one lease, and a lease's mode is chosen once: the daemon
  // takes auto for one-shots only.
  if (inv.auto_mode && inv.command != "query" && inv.command != "exec") {
    *error = "--auto applies to query and exec only (one-shots)";
    return false;
  }
  if (inv.read && inv.auto_mode) {
    *error = "--read and --auto exclude each other";
    return false;
  }
  if (inv.decltypes && inv.command != "query") {
    *error = "--decltypes applies to query only";
    return false;
  }
  return true;
}

}  // namespace

const char* UsageText() {
  return R"(usage: litepool [--socket PATH] [--json] COMMAND [ARGS...]

Talks to litepoold over its Unix socket.

commands:
  ping                     check that the daemon answers
  hello                    show the daemon's server, version, protocol, databases
  query DB SQL [PARAM...]  run one statement on a one-shot lease; --read
                           takes a read lease instead of a write lease, --auto
                           a read lease that moves to the writer if the
                           statement writes
  exec DB SQL              run statements (no parameters); prints rows changed
  stats                    print the pools' statistics (JSON)
  leases                   print the leases held now (JSON)
  backup DB FILE           copy DB, online, to FILE inside the daemon's
                           backup_dir (a name relative to it, or a path in it);
                           prints where it landed and its size (JSON)
  shell DB                 an SQL prompt on one lease (--read: a read lease)
                           held until .quit or end of input; statements end
                           with ';'; .help lists the dot-commands

PARAM: an integer (42, -7) binds INTEGER; a number with '.' or an exponent
(2.0, 1e3) binds REAL; null binds NULL; anything else binds TEXT.

options:
  --socket PATH  the daemon's socket (default: $LITEPOOL_SOCKET, else ./litepool.sock)
  --json         print query results as JSON lines (the columns, then one array
                 per row; in the shell one object per statement) even on a
                 terminal; this is the default when stdout is not a terminal
  --read         (query, shell) use a read lease
  --auto         (query, exec) mode auto: start on a read handle, move to the
                 writer if the statement writes (exec always runs on the writer)
  --decltypes    (query) also print each column's declared type: a second
                 header line, or a JSON array after the column names
  --version      print the version and exit
  --help         print this help and exit
  --             end of options: later arguments are operands

exit status:
  0  success
  1  the daemon answered with an error (printed as "litepool: CODE: MESSAGE");
     for shell with input that is not a terminal: a statement failed
  2  usage error
  3  could not connect to the daemon, or the connection failed
)";
}

bool ParseArgs(int argc, char** argv, Invocation* out, std::string* error) {
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    // Before the command every dash word must be an option; after it, only
    // known options are, so that "-5" is a parameter.
    if (!options_done && arg.size() > 1 && arg[0] == '-') {
      if (arg == "--") {
        options_done = true;
        continue;
      }
      if (arg == "--help" || arg == "-h") {
        out->help = true;
        continue;
      }
      if (arg == "--version") {
        out->version = true;
        continue;
      }
      if (arg == "--json") {
        out->json = true;
        continue;
      }
      if (arg == "--read") {
        out->read = true;
        continue;
      }
      if (arg == "--auto") {
        out->auto_mode = true;
        continue;
      }
      if (arg == "--decltypes") {
        out->decltypes = true;
        continue;
      }
      if (arg == "--socket") {
        if (i + 1 >= argc) {
          *error = "--socket needs a path";
          return false;
        }
        out->socket = argv[++i];
        continue;
      }
      if (arg.rfind("--socket=", 0) == 0) {
        out->socket = arg.substr(9);
        continue;
      }
      if (out->command.empty()) {
        *error = "unknown option " + arg;
        return false;
      }
    }
    if (out->command.empty()) {
      out->command = arg;
    } else {
      out->args.push_back(arg);
    }
  }
  if (out->help || out->version) return true;
  if (out->command.empty()) {
    *error = "no command given";
    return false;
  }
  for (const CommandArity& command : kCommands) {
    if (out->command != command.name) continue;
    int n = static_cast<int>(out->args.size());
    if (n < command.min || (command.max >= 0 && n > command.max)) {
      *error = "wrong number of arguments for " + out->command;
      return false;
    }
    return CheckCommandOptions(*out, error);
  }
  *error = "unknown command " + out->command;
  return false;
}

bool ParseParam(const std::string& text, client::Value* value, std::string* error) {
  if (text == "null") {
    *value = client::Value();
    return true;
  }
  if (!text.empty() && IsInteger(text)) {
    errno = 0;
    char* end = nullptr;
    long long n = std::strtoll(text.c_str(), &end, 10);
    if (errno == ERANGE) {
      *error = "integer parameter out of 64-bit range: " + text;
      return false;
    }
    *value = client::Value(static_cast<int64_t>(n));
    return true;
  }
  // A float must look like one: digits with a '.' or an exponent. strtod
  // alone would also take "nan", "inf" or "0x1p3", which are meant as text.
  bool has_digit = text.find_first_of("0123456789") != std::string::npos;
  bool numeric_chars = text.find_first_not_of("0123456789+-.eE") == std::string::npos;
  if (has_digit && numeric_chars && text.find_first_of(".eE") != std::string::npos) {
    char* end = nullptr;
    double d = std::strtod(text.c_str(), &end);
    if (end == text.c_str() + text.size()) {
      if (!std::isfinite(d)) {
        *error = "float parameter out of range: " + text;
        return false;
      }
      *value = client::Value(d);
      return true;
    }
  }
  *value = client::Value(text);
  return true;
}

}  // namespace litepool::cli
