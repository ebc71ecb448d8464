// The load generator's scenarios as per-connection scripts: which request
// line comes next, and what a reply means for the script.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace litepool::bench {

enum class Scenario {
  kPointSelect,      // one-shot SELECT v FROM kv WHERE k=? on a read handle
  kLease10,          // acquire read, 10 point selects on the lease, release
  kAcquireRelease,   // acquire read, release
  kInsert,           // one-shot autocommit INSERT on the writer
  kMixed,            // 90 % point_select, 10 % insert
  kLease1,           // acquire read, one point select, release (the soak)
  kPointSelectAuto,  // point_select as a one-shot in mode auto (what the Go driver sends)
  kInsertAuto,       // insert as a one-shot query in mode auto: starts on a read handle, moves
};

// Point selects in one lease10 cycle, between its acquire and its release.
constexpr int kLease10Queries = 10;

std::string_view ScenarioName(Scenario s);
std::optional<Scenario> ParseScenario(std::string_view name);

// The kinds of request the scripts send; echo replies mimic their sizes.
enum class Step {
  kPointSelect,
  kInsert,
  kAcquire,
  kLeaseQuery,
  kRelease,
  kPointSelectAuto,
  kInsertAuto,
  kCount
};

// Reply line sizes (bytes, newline included) per Step, learned from the
// daemon, so the echo server answers with lines of the same sizes.
struct ReplySizes {
  size_t bytes[static_cast<size_t>(Step::kCount)] = {88, 55, 69, 88, 31, 88, 55};
  size_t& operator[](Step s) { return bytes[static_cast<size_t>(s)]; }
  size_t operator[](Step s) const { return bytes[static_cast<size_t>(s)]; }
};

// Small, fast and good enough for picking keys.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

// One connection's progress through its scenario. Not thread-safe.
//
// With `echo` set, each request line is prefixed with the size of the reply
// litepool would send ("<bytes> "), which the echo server answers with, and
// replies are not parsed.
class Script {
 public:
  Script(Scenario scenario, uint64_t seed, int64_t rows, bool echo, const ReplySizes& sizes);

  // Writes the next request line (newline included) into *out.
  void NextRequest(std::string* out);

  // Feeds the reply to the last request (without its newline). Returns
  // false for an error reply (its text in *error); the script then starts
  // a new cycle. *cycle_done is set when the reply completed a cycle.
  bool OnReply(std::string_view reply, bool* cycle_done, std::string* error);

  Step last_step() const { return step_; }
  // True between a cycle's first reply and its last: a connection that
  // stops must finish the cycle, or it keeps its lease and others queue.
  bool mid_cycle() const { return position_ != 0; }

 private:
  Step ChooseStep();

  Scenario scenario_;
  Rng rng_;
  int64_t rows_;
  bool echo_;
  ReplySizes sizes_;
  Step step_ = Step::kPointSelect;
  int position_ = 0;  // requests done in this cycle
  char lease_[17] = "0000000000000000";
  uint64_t insert_seq_ = 0;
};

// The request line for `step` (used by the scripts, the probe and the tests).
void FormatRequest(Step step, int64_t key, std::string_view lease, std::string* out);

}  // namespace litepool::bench
