// SO_PEERCRED.
#include "wire/peer.h"

#include <sys/socket.h>

namespace litepool::wire {

PeerCredentials ReadPeerCredentials(int fd) {
  PeerCredentials peer;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    peer.pid = cred.pid;
    peer.uid = cred.uid;
    peer.gid = cred.gid;
  }
  return peer;
}

}  // namespace litepool::wire
