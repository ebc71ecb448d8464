// The shell's loop: prompts, dot-commands, statements run on one lease.
#include "client/cli/shell.h"

#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "client/cli/output.h"
#include "client/cli/splitter.h"
#include "wire/error_code.h"

namespace litepool::cli {
namespace {

using client::Error;
using client::QueryResult;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitIo = 3;

constexpr const char kPrompt[] = "litepool> ";
constexpr const char kContinuationPrompt[] = "   ...> ";

constexpr const char kTablesSql[] =
    "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') "
    "AND name NOT LIKE 'sqlite_%' ORDER BY name";
// Tables before their indexes and triggers, as sqlite3's .schema does.
constexpr const char kSchemaSql[] =
    "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
    "ORDER BY tbl_name, type <> 'table', name";
constexpr const char kTableSchemaSql[] =
    "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
    "AND tbl_name = ?1 COLLATE NOCASE ORDER BY type <> 'table', name";

std::vector<std::string> Words(const std::string& line) {
  std::istringstream stream(line);
  std::vector<std::string> words;
  for (std::string word; stream >> word;) words.push_back(word);
  return words;
}

// One shell session. Borrows the client and the three streams, which
// outlive it; owns the lease and the input not yet run. Single-threaded.
class Shell {
 public:
  Shell(client::Client* client, const ShellOptions& options, std::istream& in, std::ostream& out,
        std::ostream& err)
      : client_(client), options_(options), in_(in), out_(out), err_(err) {}

  int Run();

 private:
  // What a step asks of the loop.
  enum class Next { kContinue, kStop };

  struct DotCommand {
    std::string_view word;
    int min_args;
    int max_args;
    Next (Shell::*run)(const std::vector<std::string>& args);
    std::string_view help;
  };
  static const DotCommand kDotCommands[];

  bool AcquireLease();
  Next RunStatement(const std::string& sql);
  Next RunDotCommand(const std::string& line);
  Next Help(const std::vector<std::string>& args);
  Next Quit(const std::vector<std::string>& args);
  Next Tables(const std::vector<std::string>& args);
  Next Schema(const std::vector<std::string>& args);

  // Runs `sql` on the lease; on failure reports it and returns nullopt
  // (with *next saying whether the session can go on).
  std::optional<QueryResult> Query(const std::string& sql, const client::Params& params,
                                   Next* next);
  void PrintResult(const QueryResult& result);
  // Reports `error`, counts the failure and decides whether to go on.
  Next Failed(const Error& error);
  void Report(const std::string& message) { err_ << "litepool: " << message << std::endl; }
  void Prompt(bool continuation) {
    if (options_.interactive) err_ << (continuation ? kContinuationPrompt : kPrompt) << std::flush;
  }

  client::Client* const client_;
  const ShellOptions options_;
  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;

  client::Lease lease_;
  StatementSplitter splitter_;
  bool failed_ = false;  // a statement or command failed
  int exit_ = kExitOk;   // set when the session stops early
};

const Shell::DotCommand Shell::kDotCommands[] = {
    {".help", 0, 0, &Shell::Help, ".help            show this text"},
    {".quit", 0, 0, &Shell::Quit,
     ".quit            release the lease and exit (also .exit, Ctrl-D)"},
    {".exit", 0, 0, &Shell::Quit, ""},
    {".tables", 0, 0, &Shell::Tables, ".tables          list the tables and views"},
    {".schema", 0, 1, &Shell::Schema, ".schema [TABLE]  show the CREATE statements (of TABLE)"},
};

bool Shell::AcquireLease() {
  client::AcquireOptions acquire;
  acquire.mode = options_.read ? client::Mode::kRead : client::Mode::kWrite;
  acquire.tag = "litepool shell";
  client::Result<client::Lease> lease = client_->Acquire(options_.db, acquire);
  if (!lease.ok()) {
    Report(lease.error().code + ": " + lease.error().message);
    exit_ = lease.error().code == client::kIoError ? kExitIo : kExitFailed;
    return false;
  }
  lease_ = std::move(lease).value();
  return true;
}

int Shell::Run() {
  if (!AcquireLease()) return exit_;
  if (options_.interactive) {
    err_ << "litepool shell: " << options_.db << ", " << (options_.read ? "read" : "write")
         << " lease held until .quit or Ctrl-D; .help for help" << std::endl;
  }
  Next next = Next::kContinue;
  std::string line;
  while (next == Next::kContinue) {
    Prompt(splitter_.HasPending());
    if (!std::getline(in_, line)) {
      // End of input: what is left runs without its ';', as in sqlite3.
      std::string rest = splitter_.TakePending();
      if (!rest.empty()) next = RunStatement(rest);
      if (options_.interactive) err_ << std::endl;
      break;
    }
    size_t first = line.find_first_not_of(" \t");
    if (!splitter_.HasPending() && first != std::string::npos && line[first] == '.') {
      next = RunDotCommand(line.substr(first));
      continue;
    }
    for (const std::string& sql : splitter_.Feed(line + "\n")) {
      next = RunStatement(sql);
      if (next == Next::kStop) break;
    }
  }
  if (lease_.valid()) {
    client::Result<bool> rolled_back = lease_.Release();
    if (!rolled_back.ok()) {
      if (rolled_back.error().code == client::kIoError) exit_ = kExitIo;
      Report(rolled_back.error().code + ": " + rolled_back.error().message);
    } else if (*rolled_back) {
      Report("a transaction was still open and has been rolled back");
    }
  }
  if (exit_ != kExitOk) return exit_;
  return failed_ && !options_.interactive ? kExitFailed : kExitOk;
}

std::optional<QueryResult> Shell::Query(const std::string& sql, const client::Params& params,
                                        Next* next) {
  client::Result<QueryResult> result = lease_.Query(sql, params);
  if (result.ok()) {
    *next = Next::kContinue;
    return std::move(result).value();
  }
  *next = Failed(result.error());
  return std::nullopt;
}

Shell::Next Shell::RunStatement(const std::string& sql) {
  Next next;
  std::optional<QueryResult> result = Query(sql, {}, &next);
  if (result) PrintResult(*result);
  return next;
}

void Shell::PrintResult(const QueryResult& result) {
  if (options_.json) {
    PrintJsonResult(result, out_);
  } else if (!result.columns.empty() || result.changes != 0) {
    // BEGIN, CREATE ... print nothing, as in sqlite3.
    PrintTable(result, out_);
  }
  out_.flush();
}

Shell::Next Shell::Failed(const Error& error) {
  failed_ = true;
  Report(error.code + ": " + error.message);
  if (options_.json) {
    // One stdout line per statement, failed ones included, so that a
    // program reading the output can pair lines with statements.
    nlohmann::json line = {{"error", {{"code", error.code}, {"message", error.message}}}};
    if (error.sqlite_code != 0) line["error"]["sqlite_code"] = error.sqlite_code;
    out_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  }
  if (error.code == client::kIoError) {
    exit_ = kExitIo;
    return Next::kStop;
  }
  if (wire::CodeFromName(error.code) == Code::kLeaseExpired) {
    Report(
        "the lease was held past its lease time and revoked; its open transaction, if any, "
        "was rolled back");
    lease_ = client::Lease();
    if (!options_.interactive) {
      // The statements after this one were meant for the lost transaction.
      exit_ = kExitFailed;
      return Next::kStop;
    }
    if (!AcquireLease()) return Next::kStop;
    Report("continuing on a new lease");
  }
  return Next::kContinue;
}

Shell::Next Shell::RunDotCommand(const std::string& line) {
  std::vector<std::string> words = Words(line);
  for (const DotCommand& command : kDotCommands) {
    if (command.word != words[0]) continue;
    std::vector<std::string> args(words.begin() + 1, words.end());
    int n = static_cast<int>(args.size());
    if (n < command.min_args || n > command.max_args) {
      failed_ = true;
      Report("wrong number of arguments for " + words[0] + " (see .help)");
      return Next::kContinue;
    }
    return (this->*command.run)(args);
  }
  failed_ = true;
  Report("unknown command " + words[0] + " (see .help)");
  return Next::kContinue;
}

Shell::Next Shell::Help(const std::vector<std::string>&) {
  for (const DotCommand& command : kDotCommands) {
    if (!command.help.empty()) out_ << command.help << '\n';
  }
  out_ << "SQL statements end with ';' and may span lines; they all run on this\n"
          "shell's one lease, so BEGIN ... COMMIT works across them.\n";
  out_.flush();
  return Next::kContinue;
}

Shell::Next Shell::Quit(const std::vector<std::string>&) { return Next::kStop; }

Shell::Next Shell::Tables(const std::vector<std::string>&) {
  Next next;
  std::optional<QueryResult> result = Query(kTablesSql, {}, &next);
  if (!result) return next;
  if (options_.json) {
    PrintResult(*result);
    return next;
  }
  for (const client::Row& row : result->rows) out_ << row[0].ToString() << '\n';
  out_.flush();
  return next;
}

Shell::Next Shell::Schema(const std::vector<std::string>& args) {
  Next next;
  std::optional<QueryResult> result =
      args.empty() ? Query(kSchemaSql, {}, &next)
                   : Query(kTableSchemaSql, client::Params{client::Value(args[0])}, &next);
  if (!result) return next;
  if (options_.json) {
    PrintResult(*result);
    return next;
  }
  for (const client::Row& row : result->rows) out_ << row[0].ToString() << ";\n";
  out_.flush();
  return next;
}

}  // namespace

int RunShell(client::Client* client, const ShellOptions& options, std::istream& in,
             std::ostream& out, std::ostream& err) {
  return Shell(client, options, in, out, err).Run();
}

}  // namespace litepool::cli
