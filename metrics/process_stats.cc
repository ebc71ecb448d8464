// /proc/self parsing for the process_* metrics.
#include "metrics/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace litepool::metrics {
namespace {

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

int CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  int n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the descriptor opendir itself holds
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats s;
  s.open_fds = CountOpenFds();
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) s.max_fds = static_cast<double>(lim.rlim_cur);

  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return s;
  // The command name (field 2) may hold spaces: parse after its ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream fields(line.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0, starttime = 0;
  long long rss_pages = 0;
  // Fields from 3 (state) on; utime 14, stime 15, starttime 22, rss 24.
  for (int i = 3; fields >> f; ++i) {
    if (i == 14)
      utime = std::stoull(f);
    else if (i == 15)
      stime = std::stoull(f);
    else if (i == 22)
      starttime = std::stoull(f);
    else if (i == 24) {
      rss_pages = std::stoll(f);
      break;
    }
  }
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.cpu_seconds_total = static_cast<double>(utime + stime) / ticks;
  s.start_time_seconds = BootTimeSeconds() + static_cast<double>(starttime) / ticks;
  s.resident_memory_bytes =
      static_cast<double>(rss_pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
  return s;
}

}  // namespace litepool::metrics
