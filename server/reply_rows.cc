// A query's rows, streamed into its reply line.
#include "server/reply.h"

namespace litepool::server {
namespace {

// Past this size a reply is given its full size once, so that no doubling
// realloc holds two copies of a large result.
constexpr int64_t kReserveAt = 256 << 10;
constexpr size_t kSlack = 64 << 10;  // the reply's tail; escapes in the last row

}  // namespace

ResultWriter::ResultWriter(std::string* out, std::string_view id_json, int64_t max_bytes,
                           bool decltypes)
    : writer_(out, id_json), start_(out->size()), max_bytes_(max_bytes), decltypes_(decltypes) {}

void ResultWriter::Columns(const std::vector<std::string_view>& names) {
  writer_.Key("columns").BeginArray();
  for (auto n : names) writer_.String(n);
  writer_.EndArray();
  if (!decltypes_) writer_.Key("rows").BeginArray();
}

void ResultWriter::DeclTypes(const std::vector<const char*>& types) {
  writer_.Key("decltypes").BeginArray();
  for (const char* t : types) {
    if (t != nullptr) {
      writer_.String(t);
    } else {
      writer_.Null();
    }
  }
  writer_.EndArray().Key("rows").BeginArray();
}

// Memory stays near max_result_bytes however large the result
// (docs/operations.md, "Memory"): a row that would pass the limit is
// refused before it is written.
Status ResultWriter::Row(const std::vector<ValueView>& cells) {
  std::string* out = writer_.out();
  int64_t used = static_cast<int64_t>(out->size() - start_);
  int64_t row = 0;
  for (const auto& c : cells) {
    row += 24;  // a number, a null, the punctuation
    if (c.type == ValueType::kText) row += static_cast<int64_t>(c.bytes.size());
    if (c.type == ValueType::kBlob) row += static_cast<int64_t>(c.bytes.size()) * 4 / 3;
  }
  if (used + row > max_bytes_) return TooLarge();
  if (used > kReserveAt && !reserved_) {
    out->reserve(start_ + static_cast<size_t>(max_bytes_) + kSlack);
    reserved_ = true;
  }
  writer_.BeginArray();
  for (const auto& c : cells) writer_.Cell(c);
  writer_.EndArray();
  if (static_cast<int64_t>(out->size() - start_) > max_bytes_) return TooLarge();
  return Status();
}

void ResultWriter::Finish(const StatementOutcome& outcome) {
  writer_.EndArray();
  writer_.Key("changes").Int(outcome.changes);
  writer_.Key("last_insert_rowid").Int(outcome.last_insert_rowid);
  writer_.Finish();
}

Status ResultWriter::TooLarge() const {
  return Status(Code::kResultTooLarge, "the result is larger than max_result_bytes (" +
                                           std::to_string(max_bytes_) +
                                           "); add a LIMIT or select fewer columns");
}

}  // namespace litepool::server
