// The stable wire names of the error codes ("acquire_timeout", ...), which
// docs/protocol.md ("Errors") promises never change. Logs and metric labels
// use the same names, so an operator sees one vocabulary.
#pragma once

#include <optional>
#include <string_view>

#include "base/status.h"

namespace litepool::wire {

// The name of `code`; never null. An out-of-range value names "internal".
const char* CodeName(Code code);

// The code a name stands for, or nullopt for a name the protocol does not
// have (the client receives names; the fuzz target checks them).
std::optional<Code> CodeFromName(std::string_view name);

}  // namespace litepool::wire
