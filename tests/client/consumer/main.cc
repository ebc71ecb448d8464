// A consumer of the installed litepool client: connect, lease, query, print.
#include <iostream>

#include "litepool/client.h"
#include "litepool/version.h"

int main(int argc, char** argv) {
  using namespace litepool::client;
  auto client = Client::Connect(argc > 1 ? argv[1] : DefaultSocketPath());
  if (!client.ok()) return std::cerr << client.error() << "\n", 1;
  auto lease = client->Acquire("main");
  if (!lease.ok()) return std::cerr << lease.error() << "\n", 1;
  auto rows = lease->Query("SELECT ? || ' from litepool ' || ?", {"hello", litepool::kVersion});
  if (!rows.ok()) return std::cerr << rows.error() << "\n", 1;
  std::cout << rows->rows[0][0].text() << "\n";
  return 0;
}
