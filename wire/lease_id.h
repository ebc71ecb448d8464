// Lease ids as they travel (docs/protocol.md): exactly 16 lowercase hex
// digits. The table hands out ids that do not reveal how many leases came
// before (pool/lease_table.cc); this is only their spelling.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace litepool::wire {

std::string FormatLeaseId(uint64_t id);

// False, leaving *id alone, unless `text` is 16 lowercase hex digits.
bool ParseLeaseId(std::string_view text, uint64_t* id);

}  // namespace litepool::wire
