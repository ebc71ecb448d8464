// Rendering of query results for the CLI.
#include "client/cli/output.h"

#include <wchar.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "client/value_json.h"

namespace litepool::cli {
namespace {

using client::Value;
using client::ValueType;

// Terminal columns `s` takes: wcwidth() of each UTF-8 code point (so CJK
// counts 2), 1 where the locale does not know the character.
size_t Width(const std::string& s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    auto byte = static_cast<unsigned char>(s[i]);
    int length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
    char32_t cp = length == 1 ? byte : byte & (0x7F >> length);
    for (int k = 1; k < length && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    int w = ::wcwidth(static_cast<wchar_t>(cp));
    width += w < 0 ? 1 : static_cast<size_t>(w);
    i += length;
  }
  return width;
}

// A table cell on one line: control characters would break the layout.
std::string Cell(const Value& value) {
  std::string s;
  for (char c : value.ToString()) {
    if (c == '\n') {
      s += "\\n";
    } else if (c == '\t') {
      s += "\\t";
    } else if (c == '\r') {
      s += "\\r";
    } else {
      s.push_back(c);
    }
  }
  return s;
}

void Pad(std::ostream& out, size_t n) {
  for (size_t i = 0; i < n; ++i) out.put(' ');
}

// A row in its wire form.
nlohmann::json RowJson(const client::Row& row) {
  nlohmann::json line = nlohmann::json::array();
  for (const Value& value : row) {
    // Values from the daemon are always encodable (finite, valid UTF-8).
    auto encoded = client::internal::ValueToJson(value);
    line.push_back(encoded.ok() ? std::move(encoded).value() : nlohmann::json());
  }
  return line;
}

std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The declared types, null for an expression.
nlohmann::json DeclTypesJson(const client::QueryResult& result) {
  nlohmann::json types = nlohmann::json::array();
  for (const std::optional<std::string>& type : result.decltypes) {
    types.push_back(type ? nlohmann::json(*type) : nlohmann::json());
  }
  return types;
}

// One header line of the table: `names` padded to `widths`, aligned as the
// column's values are.
void PrintHeaderLine(const std::vector<std::string>& names, const std::vector<size_t>& widths,
                     const std::vector<bool>& numeric, std::ostream& out) {
  const size_t n = names.size();
  for (size_t c = 0; c < n; ++c) {
    if (c > 0) out << " | ";
    size_t pad = widths[c] - Width(names[c]);
    if (numeric[c]) Pad(out, pad);
    out << names[c];
    if (!numeric[c] && c + 1 < n) Pad(out, pad);
  }
  out << '\n';
}

}  // namespace

void PrintJsonLines(const client::QueryResult& result, std::ostream& out, bool decltypes) {
  out << Dump(nlohmann::json(result.columns)) << '\n';
  if (decltypes) out << Dump(DeclTypesJson(result)) << '\n';
  for (const client::Row& row : result.rows) out << Dump(RowJson(row)) << '\n';
}

void PrintJsonResult(const client::QueryResult& result, std::ostream& out) {
  nlohmann::json rows = nlohmann::json::array();
  for (const client::Row& row : result.rows) rows.push_back(RowJson(row));
  nlohmann::json object = {{"columns", result.columns},
                           {"rows", std::move(rows)},
                           {"changes", result.changes},
                           {"last_insert_rowid", result.last_insert_rowid}};
  out << Dump(object) << '\n';
}

void PrintTable(const client::QueryResult& result, std::ostream& out, bool decltypes) {
  if (result.columns.empty()) {
    out << "(" << result.changes << (result.changes == 1 ? " change)" : " changes)") << '\n';
    return;
  }
  const size_t n = result.columns.size();
  std::vector<size_t> widths(n);
  std::vector<bool> numeric(n, true);  // right-align a column of numbers only
  std::vector<std::vector<std::string>> cells;
  cells.reserve(result.rows.size());
  for (size_t c = 0; c < n; ++c) widths[c] = Width(result.columns[c]);
  std::vector<std::string> types;
  if (decltypes) {
    for (size_t c = 0; c < n; ++c) {
      bool known = c < result.decltypes.size() && result.decltypes[c].has_value();
      types.push_back(known ? *result.decltypes[c] : std::string());
      widths[c] = std::max(widths[c], Width(types.back()));
    }
  }
  for (const client::Row& row : result.rows) {
    std::vector<std::string>& line = cells.emplace_back();
    for (size_t c = 0; c < n && c < row.size(); ++c) {
      line.push_back(Cell(row[c]));
      widths[c] = std::max(widths[c], Width(line.back()));
      ValueType type = row[c].type();
      if (type != ValueType::kInteger && type != ValueType::kReal && type != ValueType::kNull) {
        numeric[c] = false;
      }
    }
  }
  PrintHeaderLine(result.columns, widths, numeric, out);
  if (decltypes) PrintHeaderLine(types, widths, numeric, out);
  for (size_t c = 0; c < n; ++c) {
    if (c > 0) out << "-+-";
    out << std::string(widths[c], '-');
  }
  out << '\n';
  for (const std::vector<std::string>& line : cells) {
    for (size_t c = 0; c < line.size(); ++c) {
      if (c > 0) out << " | ";
      size_t pad = widths[c] - Width(line[c]);
      if (numeric[c]) Pad(out, pad);
      out << line[c];
      if (!numeric[c] && c + 1 < line.size()) Pad(out, pad);
    }
    out << '\n';
  }
  size_t rows = result.rows.size();
  out << "(" << rows << (rows == 1 ? " row)" : " rows)") << '\n';
}

}  // namespace litepool::cli
