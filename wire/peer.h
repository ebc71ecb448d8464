// Who is on the other end of a Unix socket connection, as the kernel saw it
// when the peer connected (SO_PEERCRED). The listener admits by uid
// (allowed_uids), the dispatcher checks per-database uids and admins, and
// logs name the pid.
#pragma once

#include <cstdint>

namespace litepool::wire {

struct PeerCredentials {
  int pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// SO_PEERCRED of the connected Unix socket `fd`; all zeros if the kernel
// cannot tell (not a connected Unix socket).
PeerCredentials ReadPeerCredentials(int fd);

}  // namespace litepool::wire
