// HttpGet: just enough HTTP/1.0 to scrape the metrics endpoint without curl.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "tests/support/daemon.h"
#include "tests/support/posix_io.h"

namespace litepool::testing {

HttpResponse HttpGet(int port, const std::string& path) {
  HttpResponse response;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return response;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
    ::close(fd);
    return response;
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  std::string raw;
  if (internal::WriteAll(fd, request)) {
    // HTTP/1.0: the server closes after the response, so read to EOF.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{fd, POLLIN, 0};
      int ready = ::poll(&pfd, 1, 100);
      if (ready < 0 && errno != EINTR) break;
      if (ready <= 0) continue;
      char chunk[16 * 1024];
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      raw.append(chunk, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  size_t end_of_headers = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/", 0) != 0 || end_of_headers == std::string::npos) return response;
  size_t space = raw.find(' ');
  response.status = std::atoi(raw.c_str() + space + 1);
  response.headers = raw.substr(0, end_of_headers);
  response.body = raw.substr(end_of_headers + 4);
  return response;
}

}  // namespace litepool::testing
