// The statement splitter: sqlite3_complete()'s tokenizer and state machine
// (SQLite's complete.c), keeping where each complete statement ends.
#include "client/cli/splitter.h"

#include <cstdint>

namespace litepool::cli {
namespace {

enum Token { kSemi, kWhiteSpace, kOther, kExplain, kCreate, kTemp, kTrigger, kEnd };

// States: 0 invalid (nothing yet), 1 start (after a complete statement),
// 2 normal, 3 explain, 4 create, 5 in a trigger body, 6 ';' in a trigger
// body, 7 END in a trigger body. Input is complete in state 1.
constexpr uint8_t kTransitions[8][8] = {
    // kSemi kWhiteSpace kOther kExplain kCreate kTemp kTrigger kEnd
    {1, 0, 2, 3, 4, 2, 2, 2},  // 0 invalid
    {1, 1, 2, 3, 4, 2, 2, 2},  // 1 start
    {1, 2, 2, 2, 2, 2, 2, 2},  // 2 normal
    {1, 3, 3, 2, 4, 2, 2, 2},  // 3 explain
    {1, 4, 2, 2, 2, 4, 5, 2},  // 4 create
    {6, 5, 5, 5, 5, 5, 5, 5},  // 5 trigger
    {6, 6, 5, 5, 5, 5, 5, 7},  // 6 semi
    {1, 7, 5, 5, 5, 5, 5, 5},  // 7 end
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

// SQLite's identifier characters: letters, digits, '_', '$' and every byte
// of a multi-byte UTF-8 character.
bool IsIdChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
         u == '$' || u >= 0x80;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

Token Keyword(std::string_view word) {
  if (EqualsIgnoreCase(word, "create")) return kCreate;
  if (EqualsIgnoreCase(word, "trigger")) return kTrigger;
  if (EqualsIgnoreCase(word, "temp") || EqualsIgnoreCase(word, "temporary")) return kTemp;
  if (EqualsIgnoreCase(word, "end")) return kEnd;
  if (EqualsIgnoreCase(word, "explain")) return kExplain;
  return kOther;
}

std::string Trim(std::string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && IsSpace(s[begin])) ++begin;
  while (end > begin && IsSpace(s[end - 1])) --end;
  return std::string(s.substr(begin, end - begin));
}

// The outcome of scanning text from its start.
struct Scan {
  std::vector<size_t> ends;  // one past each statement-ending ';'
  std::vector<bool> empty;   // per end: the statement had no token but ';'
  size_t consumed = 0;       // text up to here is in complete statements
  bool has_content = false;  // a token other than white space after that
};

// Runs the state machine over `sql`. An unterminated quote or comment at the
// end leaves the rest pending (it may be closed by the next line).
Scan ScanStatements(std::string_view sql) {
  Scan scan;
  int state = 0;
  bool content = false;  // a non-white-space token since the last cut
  size_t i = 0;
  while (i < sql.size()) {
    Token token;
    char c = sql[i];
    if (c == ';') {
      token = kSemi;
      ++i;
    } else if (IsSpace(c)) {
      token = kWhiteSpace;
      ++i;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t close = sql.find("*/", i + 2);
      if (close == std::string_view::npos) break;  // unterminated: incomplete
      token = kWhiteSpace;
      i = close + 2;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t newline = sql.find('\n', i);
      token = kWhiteSpace;
      i = newline == std::string_view::npos ? sql.size() : newline + 1;
    } else if (c == '[' || c == '`' || c == '"' || c == '\'') {
      // A doubled quote ('it''s') is two adjacent quoted tokens here, which
      // leaves the state the same as one token would.
      size_t close = sql.find(c == '[' ? ']' : c, i + 1);
      if (close == std::string_view::npos) {
        content = true;
        break;  // unterminated: incomplete
      }
      token = kOther;
      i = close + 1;
    } else if (IsIdChar(c)) {
      size_t start = i;
      while (i < sql.size() && IsIdChar(sql[i])) ++i;
      token = Keyword(sql.substr(start, i - start));
    } else {
      token = kOther;
      ++i;
    }
    if (token != kWhiteSpace && token != kSemi) content = true;
    int next = kTransitions[state][token];
    if (token == kSemi && next == 1) {
      scan.ends.push_back(i);
      scan.empty.push_back(!content);
      scan.consumed = i;
      content = false;
    }
    state = next;
  }
  scan.has_content = content;
  return scan;
}

}  // namespace

std::vector<std::string> StatementSplitter::Feed(std::string_view text) {
  pending_.append(text);
  Scan scan = ScanStatements(pending_);
  std::vector<std::string> statements;
  size_t start = 0;
  for (size_t k = 0; k < scan.ends.size(); ++k) {
    if (!scan.empty[k]) {
      statements.push_back(Trim(std::string_view(pending_).substr(start, scan.ends[k] - start)));
    }
    start = scan.ends[k];
  }
  pending_.erase(0, scan.consumed);
  return statements;
}

bool StatementSplitter::HasPending() const { return ScanStatements(pending_).has_content; }

std::string StatementSplitter::TakePending() {
  std::string rest = HasPending() ? Trim(pending_) : std::string();
  pending_.clear();
  return rest;
}

}  // namespace litepool::cli
