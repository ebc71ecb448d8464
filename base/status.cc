// The errno text and the storage-fault table of the error vocabulary.
#include "base/status.h"

#include <cstring>

namespace litepool {

std::string ErrnoSuffix(int err) {
  return " (errno " + std::to_string(err) + ": " + std::strerror(err) + ")";
}

int StorageFaultIndex(Code code) {
  for (size_t i = 0; i < kStorageFaultCount; ++i) {
    if (kStorageFaults[i] == code) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace litepool
