// Splitting shell input into SQL statements, the way sqlite3_complete()
// decides that a statement is complete; the CLI does not link SQLite.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace litepool::cli {

// Accumulates input text and cuts it into statements at each ';' outside
// quotes ('...', "...", [...], `...`) and comments (-- to the end of the
// line, /* ... */). Inside CREATE TRIGGER ... BEGIN ... END the ';' between
// the body's statements does not end the statement; the one after END does.
// Empty statements (only white space, comments and ';') are dropped.
//
// A plain value; not thread-safe.
class StatementSplitter {
 public:
  // Appends `text` (a line with its "\n", or several) and returns the
  // statements it completed, each trimmed of surrounding white space and
  // ending with its ';'.
  std::vector<std::string> Feed(std::string_view text);

  // True while text that is not only white space or comments waits for its
  // ';' (the shell's continuation prompt).
  bool HasPending() const;

  // Takes the pending text (trimmed; "" if it holds no statement) and
  // starts afresh: what the shell runs at end of input.
  std::string TakePending();

 private:
  std::string pending_;  // input after the last complete statement
};

}  // namespace litepool::cli
