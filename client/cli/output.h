// How the `litepool` CLI prints query results: JSON lines or a table.
#pragma once

#include <ostream>

#include "litepool/client.h"

namespace litepool::cli {

// The columns as one JSON array, then one JSON array per row, each on its
// own line; values in their wire form (so a blob is {"$blob": base64}).
// With `decltypes`, the declared types (a string, or null for an
// expression) as one more array right after the columns.
void PrintJsonLines(const client::QueryResult& result, std::ostream& out, bool decltypes = false);

// The whole result as one JSON object on one line: {"columns": [...],
// "rows": [[...], ...], "changes": N, "last_insert_rowid": N}; what the
// shell prints per statement in JSON mode.
void PrintJsonResult(const client::QueryResult& result, std::ostream& out);

// An aligned table with a header, numbers right-aligned, NULL shown as NULL,
// then a "(N rows)" line; for a statement without columns, "(N changes)".
// With `decltypes`, a second header line holds the declared types (blank
// for an expression).
void PrintTable(const client::QueryResult& result, std::ostream& out, bool decltypes = false);

}  // namespace litepool::cli
