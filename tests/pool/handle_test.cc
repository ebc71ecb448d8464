// Tests of pool/handle: values, parameters, the sandbox, the clean-return
// check, the statement cache and interruption.
#include "pool/handle.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include "pool/handle_factory.h"
#include "tests/pool/pool_test_util.h"
#include "wire/error_code.h"

namespace litepool {
namespace {

using testing::CopySink;
using testing::Named;
using testing::Positional;
using testing::RunQuery;
using testing::TempDir;

constexpr const char* kEndless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c";

class HandleTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset({}); }

  // Rebuilds the factory with `client_pragmas`.
  void Reset(std::vector<std::string> client_pragmas) {
    config::PoolLimits limits;
    limits.client_pragmas = std::move(client_pragmas);
    db_ = testing::MakeDatabase(dir_, "h", limits);
    factory_ = std::make_unique<HandleFactory>(db_, RealTime());
    ASSERT_TRUE(factory_->Prepare().ok());
  }

  std::unique_ptr<Handle> Open(Mode mode) {
    std::unique_ptr<Handle> h;
    Status st = factory_->Open(mode, &h);
    EXPECT_TRUE(st.ok()) << st.message();
    return h;
  }

  TempDir dir_;
  config::Database db_;
  std::unique_ptr<HandleFactory> factory_;
};

// An endless stream of rows (not one row after an endless count).
const char* EndlessRowsSql() {
  return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c";
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Checks that `got` is exactly `want`, doubles bit for bit.
void ExpectSameValue(const Value& want, const Value& got, const std::string& what) {
  ASSERT_EQ(want.index(), got.index()) << what << ": storage class differs";
  if (std::holds_alternative<double>(want)) {
    EXPECT_TRUE(SameBits(std::get<double>(want), std::get<double>(got)))
        << what << ": want " << std::get<double>(want) << " got " << std::get<double>(got);
  } else {
    EXPECT_TRUE(want == got) << what;
  }
}

std::vector<Value> RoundTripValues() {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  return {
      Value(std::monostate{}),
      Value(std::numeric_limits<int64_t>::min()),
      Value(std::numeric_limits<int64_t>::max()),
      Value(int64_t{0}),
      Value(int64_t{-1}),
      Value(0.1),
      Value(1e300),
      Value(5e-324),
      Value(-0.0),
      Value(-1.5),
      Value(std::numeric_limits<double>::max()),
      Value(std::string("")),
      Value(std::string("h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac "
                        "\xf0\x9f\x8e\x89")),  // héllo wörld ✓ 日本 🎉
      Value(std::string("nul\0inside", 10)),
      Value(Blob{all_bytes}),
      Value(Blob{""}),
  };
}

TEST_F(HandleTest, ValuesRoundTripThroughParameters) {
  auto h = Open(Mode::kWrite);
  for (const Value& v : RoundTripValues()) {
    CopySink sink;
    Status st = RunQuery(h.get(), "SELECT ?", Positional({v}), &sink);
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_EQ(sink.rows.size(), 1u);
    ASSERT_EQ(sink.rows[0].size(), 1u);
    ExpectSameValue(v, sink.rows[0][0], "SELECT ? of value #" + std::to_string(v.index()));
  }
}

TEST_F(HandleTest, ValuesRoundTripThroughATable) {
  auto w = Open(Mode::kWrite);
  StatementOutcome changes;
  ASSERT_TRUE(w->Exec("CREATE TABLE t(i INTEGER PRIMARY KEY, v)", Millis(0), &changes).ok());
  auto values = RoundTripValues();
  for (size_t i = 0; i < values.size(); ++i) {
    StatementOutcome outcome;
    Status st = RunQuery(w.get(), "INSERT INTO t(i, v) VALUES (?, ?)",
                         Positional({Value(static_cast<int64_t>(i)), values[i]}), nullptr,
                         Millis(0), &outcome);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(outcome.changes, 1);
    EXPECT_EQ(outcome.last_insert_rowid, static_cast<int64_t>(i));
  }
  // Read back through a read handle: another connection, the file's bytes.
  auto r = Open(Mode::kRead);
  CopySink sink;
  Status st = RunQuery(r.get(), "SELECT i, v FROM t ORDER BY i", {}, &sink);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(sink.columns, (std::vector<std::string>{"i", "v"}));
  ASSERT_EQ(sink.rows.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    ExpectSameValue(values[i], sink.rows[i][1], "row " + std::to_string(i));
  }
}

TEST_F(HandleTest, PositionalParameters) {
  auto h = Open(Mode::kWrite);
  CopySink sink;
  ASSERT_TRUE(RunQuery(h.get(), "SELECT ?2, ?1, ?2 + 1",
                       Positional({Value(int64_t{1}), Value(int64_t{2})}), &sink)
                  .ok());
  ASSERT_EQ(sink.rows.size(), 1u);
  EXPECT_EQ(sink.rows[0], (std::vector<Value>{int64_t{2}, int64_t{1}, int64_t{3}}));
}

TEST_F(HandleTest, NamedParametersWithEachPrefix) {
  auto h = Open(Mode::kWrite);
  for (const char* sql : {"SELECT :a + 1", "SELECT @a + 1", "SELECT $a + 1"}) {
    CopySink sink;
    Status st = RunQuery(h.get(), sql, Named({{"a", Value(int64_t{41})}}), &sink);
    ASSERT_TRUE(st.ok()) << sql << ": " << st.message();
    ASSERT_EQ(sink.rows.size(), 1u);
    EXPECT_EQ(sink.rows[0][0], Value(int64_t{42})) << sql;
  }
  CopySink sink;
  Status st = RunQuery(
      h.get(), "SELECT :x, @y, $z, :x",
      Named({{"z", Value(int64_t{3})}, {"x", Value(std::string("one"))}, {"y", Value(2.5)}}),
      &sink);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(sink.rows.at(0),
            (std::vector<Value>{std::string("one"), 2.5, int64_t{3}, std::string("one")}));
}

// docs/protocol.md: {"a": 1} binds :a, @a or $a; a statement naming the same
// parameter with two prefixes must get the one value in both places.
TEST_F(HandleTest, NamedParameterUnderSeveralPrefixes) {
  auto h = Open(Mode::kWrite);
  CopySink sink;
  Status st = RunQuery(h.get(), "SELECT :a, @a, $a", Named({{"a", Value(int64_t{7})}}), &sink);
  ASSERT_TRUE(st.ok()) << wire::CodeName(st.code()) << ": " << st.message();
  EXPECT_EQ(sink.rows.at(0), (std::vector<Value>{int64_t{7}, int64_t{7}, int64_t{7}}));
}

TEST_F(HandleTest, ParameterMismatchIsBadRequest) {
  auto h = Open(Mode::kWrite);
  EXPECT_EQ(RunQuery(h.get(), "SELECT ?, ?", Positional({Value(int64_t{1})})).code(),
            Code::kBadRequest);
  EXPECT_EQ(
      RunQuery(h.get(), "SELECT ?", Positional({Value(int64_t{1}), Value(int64_t{2})})).code(),
      Code::kBadRequest);
  EXPECT_EQ(RunQuery(h.get(), "SELECT 1", Positional({Value(int64_t{1})})).code(),
            Code::kBadRequest);
  EXPECT_EQ(RunQuery(h.get(), "SELECT :a", Named({{"b", Value(int64_t{1})}})).code(),
            Code::kBadRequest);
  EXPECT_EQ(
      RunQuery(h.get(), "SELECT :a", Named({{"a", Value(int64_t{1})}, {"b", Value(int64_t{1})}}))
          .code(),
      Code::kBadRequest);
  EXPECT_EQ(RunQuery(h.get(), "SELECT ?", Named({{"a", Value(int64_t{1})}})).code(),
            Code::kBadRequest);
  // The failures left the cached statements usable.
  CopySink sink;
  ASSERT_TRUE(
      RunQuery(h.get(), "SELECT ?, ?", Positional({Value(int64_t{1}), Value(int64_t{2})}), &sink)
          .ok());
  EXPECT_EQ(sink.rows.at(0), (std::vector<Value>{int64_t{1}, int64_t{2}}));
}

TEST_F(HandleTest, QueryTakesOneStatement) {
  auto h = Open(Mode::kWrite);
  EXPECT_EQ(RunQuery(h.get(), "SELECT 1; SELECT 2").code(), Code::kBadRequest);
  EXPECT_EQ(RunQuery(h.get(), "").code(), Code::kBadRequest);
  // Trailing trivia is not a second statement.
  EXPECT_TRUE(RunQuery(h.get(), "SELECT 1; -- done\n /* really */ ;").ok());
  EXPECT_EQ(RunQuery(h.get(), "SELEC 1").code(), Code::kSqlError);
}

TEST_F(HandleTest, ExecSumsChanges) {
  auto h = Open(Mode::kWrite);
  StatementOutcome changes;
  ASSERT_TRUE(h->Exec("CREATE TABLE t(v); INSERT INTO t VALUES (1);"
                      "INSERT INTO t VALUES (2), (3); UPDATE t SET v = v + 1;",
                      Millis(0), &changes)
                  .ok());
  EXPECT_EQ(changes.changes, 1 + 2 + 3);
  ASSERT_TRUE(h->Exec("DELETE FROM t WHERE v > 2", Millis(0), &changes).ok());
  EXPECT_EQ(changes.changes, 2);
  ASSERT_TRUE(h->Exec("  ;; -- nothing\n", Millis(0), &changes).ok());
  EXPECT_EQ(changes.changes, 0);
  EXPECT_TRUE(h->Clean());
}

TEST_F(HandleTest, ReadHandleRefusesWrites) {
  auto w = Open(Mode::kWrite);
  StatementOutcome changes;
  ASSERT_TRUE(w->Exec("CREATE TABLE t(v)", Millis(0), &changes).ok());
  auto r = Open(Mode::kRead);
  EXPECT_EQ(RunQuery(r.get(), "INSERT INTO t VALUES (1)").code(), Code::kReadOnly);
  EXPECT_EQ(r->Exec("INSERT INTO t VALUES (1)", Millis(0), &changes).code(), Code::kReadOnly);
  EXPECT_EQ(r->Exec("SELECT 1; DELETE FROM t", Millis(0), &changes).code(), Code::kReadOnly);
  CopySink sink;
  ASSERT_TRUE(RunQuery(r.get(), "SELECT count(*) FROM t", {}, &sink).ok());
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{0}));
}

TEST_F(HandleTest, AttachAndDetachAreForbidden) {
  auto h = Open(Mode::kWrite);
  std::string other = dir_.File("other.db");
  EXPECT_EQ(RunQuery(h.get(), "ATTACH DATABASE '" + other + "' AS o").code(), Code::kForbidden);
  StatementOutcome changes;
  EXPECT_EQ(h->Exec("ATTACH '" + other + "' AS o", Millis(0), &changes).code(), Code::kForbidden);
  EXPECT_EQ(RunQuery(h.get(), "DETACH DATABASE main").code(), Code::kForbidden);
  EXPECT_FALSE(std::filesystem::exists(other));
  // Extensions cannot be loaded either.
  EXPECT_FALSE(RunQuery(h.get(), "SELECT load_extension('/nonexistent/x')").ok());
  EXPECT_TRUE(h->Clean());
}

TEST_F(HandleTest, PragmaAssignmentRefusedUnlessListed) {
  auto h = Open(Mode::kWrite);
  EXPECT_EQ(RunQuery(h.get(), "PRAGMA user_version=5").code(), Code::kForbidden);
  StatementOutcome changes;
  EXPECT_EQ(h->Exec("PRAGMA user_version=5", Millis(0), &changes).code(), Code::kForbidden);
  EXPECT_EQ(RunQuery(h.get(), "PRAGMA main.user_version = 5").code(), Code::kForbidden);
  // Reading pragmas stay allowed and leave the handle clean.
  CopySink sink;
  ASSERT_TRUE(RunQuery(h.get(), "PRAGMA user_version", {}, &sink).ok());
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{0}));
  ASSERT_TRUE(h->Exec("CREATE TABLE t(a)", Millis(0), &changes).ok());
  ASSERT_TRUE(RunQuery(h.get(), "PRAGMA table_info(t)").ok());
  EXPECT_TRUE(h->Clean());

  Reset({"user_version"});
  auto listed = Open(Mode::kWrite);
  EXPECT_TRUE(listed->Clean());
  Status st = RunQuery(listed.get(), "PRAGMA user_version=5");
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(listed->Clean()) << "a changed PRAGMA must not outlive the lease";
  sink = CopySink();
  ASSERT_TRUE(RunQuery(listed.get(), "PRAGMA user_version", {}, &sink).ok());
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{5}));
  // Still refused: a pragma not on the list.
  EXPECT_EQ(RunQuery(listed.get(), "PRAGMA cache_size=10").code(), Code::kForbidden);

  // Through Exec too, on a fresh handle.
  auto via_exec = Open(Mode::kWrite);
  ASSERT_TRUE(via_exec->Exec("PRAGMA user_version=6", Millis(0), &changes).ok());
  EXPECT_FALSE(via_exec->Clean());
}

TEST_F(HandleTest, CachedPragmaStatementStillMakesDirty) {
  Reset({"user_version"});
  auto a = Open(Mode::kWrite);
  ASSERT_TRUE(RunQuery(a.get(), "PRAGMA user_version=1").ok());
  EXPECT_FALSE(a->Clean());
  // The same handle's cache is per handle; a second handle prepares anew.
  auto b = Open(Mode::kWrite);
  ASSERT_TRUE(RunQuery(b.get(), "PRAGMA user_version=1").ok());
  ASSERT_TRUE(RunQuery(b.get(), "PRAGMA user_version=1").ok());  // from the cache
  EXPECT_FALSE(b->Clean());
}

TEST_F(HandleTest, TempObjectsMakeTheHandleUnclean) {
  auto h = Open(Mode::kWrite);
  ASSERT_TRUE(h->Clean());
  ASSERT_TRUE(RunQuery(h.get(), "CREATE TEMP TABLE scratch(a)").ok());
  EXPECT_FALSE(h->Clean());

  auto via_exec = Open(Mode::kWrite);
  StatementOutcome changes;
  ASSERT_TRUE(via_exec->Exec("CREATE TEMP VIEW v AS SELECT 1", Millis(0), &changes).ok());
  EXPECT_FALSE(via_exec->Clean());

  // A plain table is not session state.
  auto plain = Open(Mode::kWrite);
  ASSERT_TRUE(RunQuery(plain.get(), "CREATE TABLE kept(a)").ok());
  EXPECT_TRUE(plain->Clean());
}

// docs/protocol.md, "Clean return": no temporary table may outlive the lease, however it
// was named.
// SQLite reports `CREATE TABLE temp.x` and `CREATE VIEW temp.v` to the
// authorizer as SQLITE_CREATE_TABLE / SQLITE_CREATE_VIEW with the database
// name "temp" in its third argument, not as the TEMP action codes.
TEST_F(HandleTest, TempSchemaQualifiedObjectsMakeTheHandleUnclean) {
  auto table = Open(Mode::kWrite);
  ASSERT_TRUE(RunQuery(table.get(), "CREATE TABLE temp.scratch(a)").ok());
  EXPECT_FALSE(table->Clean()) << "CREATE TABLE temp.scratch left the handle clean";

  auto view = Open(Mode::kWrite);
  StatementOutcome changes;
  ASSERT_TRUE(view->Exec("CREATE VIEW temp.v AS SELECT 1", Millis(0), &changes).ok());
  EXPECT_FALSE(view->Clean()) << "CREATE VIEW temp.v left the handle clean";

  // Virtual tables reach the authorizer as SQLITE_CREATE_VTABLE, database
  // name in the third argument, whatever the spelling.
  auto vtab = Open(Mode::kWrite);
  Status st = RunQuery(vtab.get(), "CREATE VIRTUAL TABLE temp.r USING rtree(id, a, b)");
  if (st.ok()) {
    EXPECT_FALSE(vtab->Clean()) << "CREATE VIRTUAL TABLE temp.r left the handle clean";
  } else {
    EXPECT_NE(st.message().find("no such module"), std::string::npos) << st.message();
  }
}

TEST_F(HandleTest, TransactionAndRollback) {
  auto h = Open(Mode::kWrite);
  StatementOutcome changes;
  ASSERT_TRUE(h->Exec("CREATE TABLE t(v)", Millis(0), &changes).ok());
  EXPECT_FALSE(h->InTransaction());
  EXPECT_FALSE(h->Rollback());

  ASSERT_TRUE(RunQuery(h.get(), "BEGIN").ok());
  ASSERT_TRUE(RunQuery(h.get(), "INSERT INTO t VALUES (1)").ok());
  EXPECT_TRUE(h->InTransaction());
  EXPECT_FALSE(h->Clean());
  EXPECT_TRUE(h->Rollback());
  EXPECT_FALSE(h->InTransaction());
  EXPECT_TRUE(h->Clean());

  CopySink sink;
  ASSERT_TRUE(RunQuery(h.get(), "SELECT count(*) FROM t", {}, &sink).ok());
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{0})) << "the insert was rolled back";
}

// A sink that stops after `limit` rows, as the server's does at
// max_result_bytes.
class LimitedSink final : public RowSink {
 public:
  explicit LimitedSink(int limit) : limit_(limit) {}
  void Columns(const std::vector<std::string_view>&) override {}
  Status Row(const std::vector<ValueView>&) override {
    if (++rows_ > limit_) return Status(Code::kResultTooLarge, "too many rows");
    return Status();
  }
  int rows() const { return rows_; }

 private:
  int limit_;
  int rows_ = 0;
};

TEST_F(HandleTest, SinkCanStopTheQuery) {
  auto h = Open(Mode::kWrite);
  LimitedSink sink(2);
  StatementOutcome outcome;
  Status st = h->Query(EndlessRowsSql(), {}, Millis(0), &sink, &outcome);
  EXPECT_EQ(st.code(), Code::kResultTooLarge);
  EXPECT_EQ(sink.rows(), 3);
  // The statement was reset: the same SQL runs again from the start.
  LimitedSink again(1000000);
  ASSERT_TRUE(h->Query("SELECT 1 UNION ALL SELECT 2", {}, Millis(0), &again, &outcome).ok());
  EXPECT_EQ(again.rows(), 2);
  EXPECT_TRUE(h->Clean());
}

TEST_F(HandleTest, StatementCacheReuseAndEviction) {
  auto h = Open(Mode::kWrite);
  for (int round = 0; round < 3; ++round) {
    CopySink sink;
    ASSERT_TRUE(RunQuery(h.get(), "SELECT ? * 2", Positional({Value(int64_t{round})}), &sink).ok());
    EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{round * 2}));
  }
  // Far more distinct statements than the cache holds (64), twice over, so
  // evicted statements are prepared again.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 150; ++i) {
      CopySink sink;
      std::string sql = "SELECT " + std::to_string(i) + ", ?";
      Status st = RunQuery(h.get(), sql, Positional({Value(int64_t{round})}), &sink);
      ASSERT_TRUE(st.ok()) << sql << ": " << st.message();
      EXPECT_EQ(sink.rows.at(0), (std::vector<Value>{int64_t{i}, int64_t{round}}));
    }
  }
  // The most recently used statement is still there and still right.
  CopySink sink;
  ASSERT_TRUE(RunQuery(h.get(), "SELECT 149, ?", Positional({Value(int64_t{9})}), &sink).ok());
  EXPECT_EQ(sink.rows.at(0), (std::vector<Value>{int64_t{149}, int64_t{9}}));
}

TEST_F(HandleTest, StatementTimeoutInterruptsAndHandleStaysUsable) {
  auto h = Open(Mode::kWrite);
  auto start = std::chrono::steady_clock::now();
  Status st = RunQuery(h.get(), kEndless, {}, nullptr, Millis(100));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(st.code(), Code::kStatementTimeout) << st.message();
  EXPECT_GE(took, Millis(100));
  EXPECT_LT(took, std::chrono::seconds(10));

  CopySink sink;
  st = RunQuery(h.get(), "SELECT 42", {}, &sink);
  ASSERT_TRUE(st.ok()) << wire::CodeName(st.code()) << ": " << st.message();
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{42}));
  // And the same endless statement again, from the cache, times out again.
  EXPECT_EQ(RunQuery(h.get(), kEndless, {}, nullptr, Millis(50)).code(), Code::kStatementTimeout);
  // A bounded recursive query under a generous timeout completes.
  sink = CopySink();
  st = RunQuery(h.get(),
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100000) "
                "SELECT count(*) FROM c",
                {}, &sink, Millis(60000));
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{100000}));

  StatementOutcome changes;
  EXPECT_EQ(h->Exec(std::string(kEndless) + ";", Millis(50), &changes).code(),
            Code::kStatementTimeout);
  EXPECT_TRUE(RunQuery(h.get(), "SELECT 1").ok());
}

TEST_F(HandleTest, InterruptForRevokedLeaseStopsTheStatement) {
  auto h = Open(Mode::kWrite);
  Status st;
  std::atomic<bool> done{false};
  std::thread runner([&] {
    st = RunQuery(h.get(), kEndless);
    done = true;
  });
  std::this_thread::sleep_for(Millis(50));
  h->Interrupt(InterruptReason::kLeaseRevoked);
  for (int i = 0; i < 1000 && !done; ++i) std::this_thread::sleep_for(Millis(10));
  if (!done) h->Interrupt(InterruptReason::kLeaseRevoked);  // let join() finish
  runner.join();
  EXPECT_EQ(st.code(), Code::kLeaseExpired) << st.message();
  // The revocation sticks until the pool takes the handle back ...
  EXPECT_EQ(RunQuery(h.get(), kEndless).code(), Code::kLeaseExpired);
  // ... and its rollback clears it for the next lease.
  h->Rollback();
  CopySink sink;
  st = RunQuery(h.get(), "SELECT 7", {}, &sink);
  ASSERT_TRUE(st.ok()) << wire::CodeName(st.code()) << ": " << st.message();
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{7}));
}

TEST_F(HandleTest, RevocationWinsOverStatementTimeout) {
  auto h = Open(Mode::kWrite);
  h->Interrupt(InterruptReason::kLeaseRevoked);
  // A revocation sent before the statement started is not lost, and a
  // statement timeout does not turn it into statement_timeout.
  EXPECT_EQ(RunQuery(h.get(), kEndless, {}, nullptr, Millis(100)).code(), Code::kLeaseExpired);
}

// Runs `sql` as a quick run with `budget`; *gave_up tells whether it did.
Status RunQuick(Handle* h, std::string_view sql, bool* gave_up, CopySink* sink = nullptr,
                std::chrono::microseconds budget = std::chrono::milliseconds(50)) {
  CopySink local;
  StatementOutcome outcome;
  QuickRun quick{Clock::now() + budget};
  Status st = h->Query(sql, {}, Millis(0), sink ? sink : &local, &outcome, &quick);
  *gave_up = quick.gave_up;
  return st;
}

TEST_F(HandleTest, QuickRunAnswersReadOnlyStatements) {
  auto h = Open(Mode::kWrite);
  StatementOutcome changes;
  ASSERT_TRUE(h->Exec("CREATE TABLE t(v); INSERT INTO t VALUES (7)", Millis(0), &changes).ok());
  bool gave_up = true;
  CopySink sink;
  Status st = RunQuick(h.get(), "SELECT v FROM t", &gave_up, &sink);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(gave_up);
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{7}));
  // A read inside a transaction may run quick too: it ends nothing.
  ASSERT_TRUE(RunQuery(h.get(), "BEGIN").ok());
  ASSERT_TRUE(RunQuick(h.get(), "SELECT count(*) FROM t", &gave_up).ok());
  EXPECT_FALSE(gave_up);
  EXPECT_TRUE(h->InTransaction());
}

TEST_F(HandleTest, QuickRunRefusesWhatCouldBlockOrLeaveState) {
  auto h = Open(Mode::kWrite);
  StatementOutcome changes;
  ASSERT_TRUE(h->Exec("CREATE TABLE t(v)", Millis(0), &changes).ok());
  ASSERT_TRUE(RunQuery(h.get(), "BEGIN").ok());
  // Writes, transaction control (COMMIT counts as read-only to SQLite),
  // savepoints, PRAGMAs and temp objects: none is even started.
  for (const char* sql :
       {"INSERT INTO t VALUES (1)", "SAVEPOINT s", "RELEASE s", "COMMIT", "PRAGMA wal_checkpoint",
        "PRAGMA user_version", "CREATE TEMP TABLE x(v)"}) {
    bool gave_up = false;
    Status st = RunQuick(h.get(), sql, &gave_up);
    EXPECT_TRUE(gave_up) << sql;
    EXPECT_TRUE(st.ok()) << sql << ": " << st.message();
  }
  EXPECT_TRUE(h->InTransaction()) << "the COMMIT did not run";
  ASSERT_TRUE(RunQuery(h.get(), "COMMIT").ok());
  CopySink sink;
  ASSERT_TRUE(RunQuery(h.get(), "SELECT count(*) FROM t", {}, &sink).ok());
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{0})) << "the INSERT did not run";
  EXPECT_TRUE(h->Clean()) << "the temp table was never created";
}

TEST_F(HandleTest, QuickRunGivesUpWhenOverBudgetAndTheHandleStaysUsable) {
  auto h = Open(Mode::kRead);
  bool gave_up = false;
  auto start = std::chrono::steady_clock::now();
  Status st = RunQuick(h.get(), kEndless, &gave_up, nullptr, std::chrono::microseconds(500));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(gave_up);
  EXPECT_LT(took, std::chrono::seconds(2));
  // Not a statement_timeout: the next statement runs normally, and a
  // bounded query run in full gives the complete answer.
  CopySink sink;
  st = RunQuery(h.get(),
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200000) "
                "SELECT count(*) FROM c",
                {}, &sink);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{200000}));
}

TEST_F(HandleTest, QuickRunDoesNotWaitForALock) {
  // Rollback-journal mode: a writer holding an exclusive lock blocks readers.
  db_.pragmas = {{"journal_mode", "delete"}};
  db_.limits.busy_timeout_ms = 2000;
  factory_ = std::make_unique<HandleFactory>(db_, RealTime());
  ASSERT_TRUE(factory_->Prepare().ok());
  auto writer = Open(Mode::kWrite);
  auto reader = Open(Mode::kRead);
  StatementOutcome changes;
  ASSERT_TRUE(writer
                  ->Exec("CREATE TABLE t(v); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)", Millis(0),
                         &changes)
                  .ok());
  bool gave_up = false;
  auto start = std::chrono::steady_clock::now();
  RunQuick(reader.get(), "SELECT count(*) FROM t", &gave_up);
  EXPECT_TRUE(gave_up);
  EXPECT_LT(std::chrono::steady_clock::now() - start, Millis(500)) << "it waited for the lock";
  // Outside a quick run busy_timeout applies: the read waits, then fails.
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(RunQuery(reader.get(), "SELECT count(*) FROM t").code(), Code::kBusy);
  EXPECT_GE(std::chrono::steady_clock::now() - start, Millis(1900));
  writer->Rollback();
}

TEST_F(HandleTest, ReadOnlyDatabaseFileOpensReadOnly) {
  auto w = Open(Mode::kWrite);
  StatementOutcome changes;
  ASSERT_TRUE(w->Exec("CREATE TABLE t(v); INSERT INTO t VALUES (1)", Millis(0), &changes).ok());
  w.reset();
  config::Database ro = db_;
  ro.read_only = true;
  HandleFactory factory(ro, RealTime());
  ASSERT_TRUE(factory.Prepare().ok());
  std::unique_ptr<Handle> h;
  ASSERT_TRUE(factory.Open(Mode::kWrite, &h).ok());
  Status st = RunQuery(h.get(), "INSERT INTO t VALUES (2)");
  EXPECT_EQ(st.code(), Code::kReadOnly) << wire::CodeName(st.code()) << ": " << st.message();
}

TEST_F(HandleTest, JournalModeIsWal) {
  auto h = Open(Mode::kWrite);
  CopySink sink;
  ASSERT_TRUE(RunQuery(h.get(), "PRAGMA journal_mode", {}, &sink).ok());
  EXPECT_EQ(sink.rows.at(0).at(0), Value(std::string("wal")));
  EXPECT_GT(h->CacheBytes(), -1);
}

TEST_F(HandleTest, LastInsertRowidIsOnlyTheStatementsOwnInsert) {
  auto w = Open(Mode::kWrite);
  StatementOutcome o;
  ASSERT_TRUE(w->Exec("CREATE TABLE t(i INTEGER PRIMARY KEY, v)", Millis(0), &o).ok());
  ASSERT_TRUE(RunQuery(w.get(), "INSERT INTO t(v) VALUES (1)", {}, nullptr, Millis(0), &o).ok());
  EXPECT_EQ(o.last_insert_rowid, 1);
  // A read, an update and an ignored insert report none: on a pooled
  // handle the connection's last insert may be another lease's.
  for (const char* sql :
       {"SELECT * FROM t", "UPDATE t SET v = 2", "INSERT OR IGNORE INTO t(i, v) VALUES (1, 3)"}) {
    ASSERT_TRUE(RunQuery(w.get(), sql, {}, nullptr, Millis(0), &o).ok()) << sql;
    EXPECT_EQ(o.last_insert_rowid, 0) << sql;
  }
  // SQL itself still sees the connection's last insert.
  CopySink sink;
  ASSERT_TRUE(RunQuery(w.get(), "SELECT last_insert_rowid()", {}, &sink).ok());
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{1}));
  // An insert that gets the same rowid as the one before still reports it.
  ASSERT_TRUE(RunQuery(w.get(), "DELETE FROM t").ok());
  ASSERT_TRUE(RunQuery(w.get(), "INSERT INTO t(v) VALUES (5)", {}, nullptr, Millis(0), &o).ok());
  EXPECT_EQ(o.last_insert_rowid, 1);
  // exec: the last insert among its statements, and every change summed.
  ASSERT_TRUE(w->Exec("INSERT INTO t(v) VALUES (6); UPDATE t SET v = 7", Millis(0), &o).ok());
  EXPECT_EQ(o.last_insert_rowid, 2);
  EXPECT_EQ(o.changes, 3);
  ASSERT_TRUE(w->Exec("UPDATE t SET v = 8", Millis(0), &o).ok());
  EXPECT_EQ(o.last_insert_rowid, 0);
}

TEST_F(HandleTest, RedirectStopsAWriteOnAReadHandleBeforeItRuns) {
  auto w = Open(Mode::kWrite);
  StatementOutcome o;
  ASSERT_TRUE(w->Exec("CREATE TABLE t(v)", Millis(0), &o).ok());
  auto r = Open(Mode::kRead);
  CopySink sink;
  ASSERT_TRUE(r->Query("INSERT INTO t VALUES (1)", {}, Millis(0), &sink, &o, nullptr,
                       WriteOnRead::kRedirect)
                  .ok());
  EXPECT_TRUE(o.needs_writer);
  EXPECT_TRUE(sink.columns.empty());  // nothing ran
  // A read runs where it is.
  ASSERT_TRUE(
      r->Query("SELECT count(*) FROM t", {}, Millis(0), &sink, &o, nullptr, WriteOnRead::kRedirect)
          .ok());
  EXPECT_FALSE(o.needs_writer);
  EXPECT_EQ(sink.rows.at(0).at(0), Value(int64_t{0}));
  // Without redirection a read lease's write fails as it always did.
  EXPECT_EQ(RunQuery(r.get(), "INSERT INTO t VALUES (1)").code(), Code::kReadOnly);
  // The writer runs a write whatever the flag.
  ASSERT_TRUE(w->Query("INSERT INTO t VALUES (1)", {}, Millis(0), &sink, &o, nullptr,
                       WriteOnRead::kRedirect)
                  .ok());
  EXPECT_FALSE(o.needs_writer);
  EXPECT_EQ(o.changes, 1);
}

// Keeps the declared types it is given.
class DeclTypeSink final : public RowSink {
 public:
  void Columns(const std::vector<std::string_view>&) override {}
  bool WantsDeclTypes() const override { return true; }
  void DeclTypes(const std::vector<const char*>& types) override {
    for (const char* t : types) got.push_back(t ? t : "<null>");
  }
  Status Row(const std::vector<ValueView>&) override { return Status(); }
  std::vector<std::string> got;
};

TEST_F(HandleTest, DeclaredTypesOfColumnsNotOfExpressions) {
  auto w = Open(Mode::kWrite);
  StatementOutcome o;
  ASSERT_TRUE(w->Exec("CREATE TABLE t(a INTEGER, b DATETIME, c)", Millis(0), &o).ok());
  DeclTypeSink sink;
  ASSERT_TRUE(w->Query("SELECT a, b, c, a + 1 FROM t", {}, Millis(0), &sink, &o).ok());
  EXPECT_EQ(sink.got, (std::vector<std::string>{"INTEGER", "DATETIME", "<null>", "<null>"}));
}

}  // namespace
}  // namespace litepool
