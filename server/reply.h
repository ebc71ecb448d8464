// Every reply line of docs/protocol.md is formatted here, written straight
// into a string without building a JSON DOM: the reply path is the hot path
// of every request. The ops gather what a reply says; this module says how.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "pool/backup.h"
#include "pool/handle.h"
#include "pool/lease_table.h"
#include "pool/pool.h"
#include "pool/pool_events.h"
#include "pool/reaper.h"
#include "pool/value.h"
#include "pool/wal_report.h"

namespace litepool::server {

// Appends one JSON object. Usage:
//   ReplyWriter w(&line, id_json);   // writes {"id":..,"ok":true
//   w.Key("lease").String(id);       // ,"lease":"..."
//   w.Finish();                      // }\n
// Not thread-safe; one per reply.
class ReplyWriter {
 public:
  ReplyWriter(std::string* out, std::string_view id_json);

  ReplyWriter& Key(std::string_view key);
  ReplyWriter& String(std::string_view s);  // invalid UTF-8 is replaced with U+FFFD
  ReplyWriter& Int(int64_t v);
  ReplyWriter& Double(double v);  // shortest round-trip form, always with . or e
  ReplyWriter& Bool(bool v);
  ReplyWriter& Null();
  ReplyWriter& Cell(const ValueView& v);  // a SQL value as docs/protocol.md maps it
  ReplyWriter& BeginArray();
  ReplyWriter& EndArray();
  ReplyWriter& BeginObject();
  ReplyWriter& EndObject();
  void Finish();

  std::string* out() { return out_; }

 private:
  void Separate();

  std::string* out_;
  bool need_comma_ = true;
};

// A complete error reply line for `status`.
std::string ErrorReply(std::string_view id_json, const Status& status);

// Streams a query's rows into its reply line, and stops the query when the
// reply would pass max_result_bytes. One per query, on the thread running it.
class ResultWriter final : public RowSink {
 public:
  ResultWriter(std::string* out, std::string_view id_json, int64_t max_bytes, bool decltypes);

  void Columns(const std::vector<std::string_view>& names) override;
  bool WantsDeclTypes() const override { return decltypes_; }
  void DeclTypes(const std::vector<const char*>& types) override;
  Status Row(const std::vector<ValueView>& cells) override;
  // Closes the line once the statement has finished.
  void Finish(const StatementOutcome& outcome);

 private:
  Status TooLarge() const;

  ReplyWriter writer_;
  size_t start_;
  int64_t max_bytes_;
  bool decltypes_;
  bool reserved_ = false;
};

// What `stats` reports, gathered by the op.
struct StatsView {
  struct Database {
    PoolSnapshot snapshot;
    PoolCounters counters[kModeCount];
  };
  std::vector<Database> databases;
  ReaperStats reaper;
  int64_t clients = 0;
  int64_t leases = 0;
  std::vector<WalReport> wal;
};

// The success replies of the ops, one line each.
std::string OkReply(std::string_view id_json);  // ping
std::string HelloReply(std::string_view id_json, const std::vector<std::string>& databases);
std::string LeaseReply(std::string_view id_json, LeaseId lease, std::string_view db, Mode mode,
                       Millis lease_ms);
std::string ReleaseReply(std::string_view id_json, bool rolled_back);
void AppendExecReply(std::string* out, std::string_view id_json, const StatementOutcome& outcome);
std::string StatsReply(std::string_view id_json, const StatsView& stats);
// `leases` in the order to show them.
std::string LeasesReply(std::string_view id_json, const std::vector<LeaseInfo>& leases);
std::string BackupReply(std::string_view id_json, std::string_view db, std::string_view file,
                        const BackupOutcome& done);

}  // namespace litepool::server
