// litepool: the command-line client of litepoold (docs/protocol.md over its socket).
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "client/cli/args.h"
#include "client/cli/output.h"
#include "client/cli/shell.h"
#include "litepool/client.h"
#include "litepool/version.h"

namespace litepool::cli {
namespace {

using client::Client;
using client::Error;

constexpr int kExitOk = 0;
constexpr int kExitServerError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitIo = 3;

int Fail(const Error& error) {
  std::cerr << "litepool: " << error.code << ": " << error.message << std::endl;
  return error.code == client::kIoError ? kExitIo : kExitServerError;
}

// Everything a command needs: the connection and how to print.
struct Context {
  Client* client;
  const Invocation* invocation;
  bool json;  // JSON output: asked for, or stdout is not a terminal
};

// Admin replies and hello: the reply object, pretty on a terminal.
int PrintReply(const Context& ctx, client::Result<nlohmann::json> reply) {
  if (!reply.ok()) return Fail(reply.error());
  reply->erase("id");  // the client's own request id, not the daemon's data
  std::cout << reply->dump(ctx.json ? -1 : 2) << std::endl;
  return kExitOk;
}

int Ping(const Context& ctx) {
  client::Status status = ctx.client->Ping();
  if (!status.ok()) return Fail(status.error());
  std::cout << (ctx.json ? R"({"ok":true})" : "pong") << std::endl;
  return kExitOk;
}

int Hello(const Context& ctx) {
  auto hello = ctx.client->Hello();
  if (!hello.ok()) return Fail(hello.error());
  nlohmann::json reply = {{"server", hello->server},
                          {"version", hello->version},
                          {"protocol", hello->protocol},
                          {"databases", hello->databases}};
  std::cout << reply.dump(ctx.json ? -1 : 2) << std::endl;
  return kExitOk;
}

int Stats(const Context& ctx) { return PrintReply(ctx, ctx.client->Stats()); }

int Leases(const Context& ctx) { return PrintReply(ctx, ctx.client->Leases()); }

int Backup(const Context& ctx) {
  const std::vector<std::string>& args = ctx.invocation->args;
  return PrintReply(ctx, ctx.client->Backup(args[0], args[1]));
}

// The one-shot mode the options ask for.
client::Mode OneShotMode(const Invocation& invocation) {
  if (invocation.auto_mode) return client::Mode::kAuto;
  return invocation.read ? client::Mode::kRead : client::Mode::kWrite;
}

int Query(const Context& ctx) {
  const std::vector<std::string>& args = ctx.invocation->args;
  std::vector<client::Value> params;
  for (size_t i = 2; i < args.size(); ++i) {
    std::string error;
    if (!ParseParam(args[i], &params.emplace_back(), &error)) {
      std::cerr << "litepool: " << error << std::endl;
      return kExitUsage;
    }
  }
  client::QueryOptions options;
  options.decltypes = ctx.invocation->decltypes;
  auto result = ctx.client->Query(args[0], args[1], client::Params(std::move(params)),
                                  OneShotMode(*ctx.invocation), options);
  if (!result.ok()) return Fail(result.error());
  if (ctx.json) {
    PrintJsonLines(*result, std::cout, options.decltypes);
  } else {
    PrintTable(*result, std::cout, options.decltypes);
  }
  std::cout.flush();
  return kExitOk;
}

int Exec(const Context& ctx) {
  auto changes = ctx.client->Exec(ctx.invocation->args[0], ctx.invocation->args[1],
                                  OneShotMode(*ctx.invocation));
  if (!changes.ok()) return Fail(changes.error());
  if (ctx.json) {
    std::cout << nlohmann::json{{"changes", *changes}}.dump() << std::endl;
  } else {
    std::cout << "(" << *changes << (*changes == 1 ? " change)" : " changes)") << std::endl;
  }
  return kExitOk;
}

int Shell(const Context& ctx) {
  ShellOptions options;
  options.db = ctx.invocation->args[0];
  options.read = ctx.invocation->read;
  options.json = ctx.json;
  options.interactive = ::isatty(STDIN_FILENO);
  return RunShell(ctx.client, options, std::cin, std::cout, std::cerr);
}

struct Command {
  std::string_view word;
  int (*run)(const Context&);
};
constexpr Command kCommands[] = {
    {"ping", Ping},   {"hello", Hello},   {"query", Query}, {"exec", Exec},
    {"stats", Stats}, {"leases", Leases}, {"shell", Shell}, {"backup", Backup},
};

int Main(int argc, char** argv) {
  // Table alignment uses wcwidth(), which knows no wide characters in the C
  // locale; our output is UTF-8 whatever the environment says.
  if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr) std::setlocale(LC_CTYPE, "");
  Invocation invocation;
  std::string usage_error;
  if (!ParseArgs(argc, argv, &invocation, &usage_error)) {
    std::cerr << "litepool: " << usage_error << " (see litepool --help)" << std::endl;
    return kExitUsage;
  }
  if (invocation.help) {
    std::cout << UsageText();
    return kExitOk;
  }
  if (invocation.version) {
    std::cout << "litepool " << kVersion << std::endl;
    return kExitOk;
  }
  std::string socket = invocation.socket.empty() ? client::DefaultSocketPath() : invocation.socket;
  auto client = Client::Connect(socket);
  if (!client.ok()) return Fail(client.error());
  Context ctx{&client.value(), &invocation, invocation.json || !::isatty(STDOUT_FILENO)};
  for (const Command& command : kCommands) {
    if (command.word == invocation.command) return command.run(ctx);
  }
  return kExitUsage;  // ParseArgs accepted only known commands
}

}  // namespace
}  // namespace litepool::cli

int main(int argc, char** argv) { return litepool::cli::Main(argc, argv); }
