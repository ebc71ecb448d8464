// Request lines of each scenario, written by hand so that the client's own
// cost stays small next to the daemon's (the client shares the cores).
#include "bench/load_scenarios.h"

#include <charconv>
#include <cstring>

namespace litepool::bench {
namespace {

struct Named {
  std::string_view name;
  Scenario scenario;
};
constexpr Named kScenarios[] = {
    {"point_select", Scenario::kPointSelect},
    {"lease10", Scenario::kLease10},
    {"acquire_release", Scenario::kAcquireRelease},
    {"insert", Scenario::kInsert},
    {"mixed", Scenario::kMixed},
    {"lease1", Scenario::kLease1},
    {"point_select_auto", Scenario::kPointSelectAuto},
    {"insert_auto", Scenario::kInsertAuto},
};

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

}  // namespace

std::string_view ScenarioName(Scenario s) {
  for (const Named& n : kScenarios) {
    if (n.scenario == s) return n.name;
  }
  return "?";
}

std::optional<Scenario> ParseScenario(std::string_view name) {
  for (const Named& n : kScenarios) {
    if (n.name == name) return n.scenario;
  }
  return std::nullopt;
}

void FormatRequest(Step step, int64_t key, std::string_view lease, std::string* out) {
  switch (step) {
    case Step::kPointSelect:
    case Step::kPointSelectAuto:
      out->append(step == Step::kPointSelect ? R"({"op":"query","db":"main","mode":"read",)"
                                             : R"({"op":"query","db":"main","mode":"auto",)");
      out->append(R"("sql":"SELECT v FROM kv WHERE k=?","params":[)");
      AppendInt(out, key);
      out->append("]}\n");
      return;
    case Step::kInsert:
    case Step::kInsertAuto:
      out->append(step == Step::kInsert ? R"({"op":"query","db":"main",)"
                                        : R"({"op":"query","db":"main","mode":"auto",)");
      out->append(R"x("sql":"INSERT INTO w(v) VALUES(?)","params":["row-)x");
      AppendInt(out, key);
      out->append("\"]}\n");
      return;
    case Step::kAcquire:
      out->append(R"({"op":"acquire","db":"main","mode":"read"})"
                  "\n");
      return;
    case Step::kLeaseQuery:
      out->append(R"({"op":"query","lease":")");
      out->append(lease);
      out->append(R"(","sql":"SELECT v FROM kv WHERE k=?","params":[)");
      AppendInt(out, key);
      out->append("]}\n");
      return;
    case Step::kRelease:
      out->append(R"({"op":"release","lease":")");
      out->append(lease);
      out->append("\"}\n");
      return;
    case Step::kCount:
      return;
  }
}

Script::Script(Scenario scenario, uint64_t seed, int64_t rows, bool echo, const ReplySizes& sizes)
    : scenario_(scenario), rng_(seed), rows_(rows), echo_(echo), sizes_(sizes) {}

Step Script::ChooseStep() {
  switch (scenario_) {
    case Scenario::kPointSelect:
      return Step::kPointSelect;
    case Scenario::kInsert:
      return Step::kInsert;
    case Scenario::kPointSelectAuto:
      return Step::kPointSelectAuto;
    case Scenario::kInsertAuto:
      return Step::kInsertAuto;
    case Scenario::kMixed:
      return rng_.Below(10) == 0 ? Step::kInsert : Step::kPointSelect;
    case Scenario::kAcquireRelease:
      return position_ == 0 ? Step::kAcquire : Step::kRelease;
    case Scenario::kLease10:
    case Scenario::kLease1: {
      int queries = scenario_ == Scenario::kLease10 ? kLease10Queries : 1;
      if (position_ == 0) return Step::kAcquire;
      return position_ <= queries ? Step::kLeaseQuery : Step::kRelease;
    }
  }
  return Step::kPointSelect;
}

void Script::NextRequest(std::string* out) {
  step_ = ChooseStep();
  if (echo_) {
    AppendInt(out, static_cast<int64_t>(sizes_[step_]));
    out->push_back(' ');
  }
  int64_t key = static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(rows_))) + 1;
  if (step_ == Step::kInsert || step_ == Step::kInsertAuto) {
    key = static_cast<int64_t>(++insert_seq_);
  }
  FormatRequest(step_, key, lease_, out);
}

bool Script::OnReply(std::string_view reply, bool* cycle_done, std::string* error) {
  *cycle_done = false;
  bool ok = echo_ || reply.substr(0, 16).find(R"("ok":true)") != std::string_view::npos;
  if (!ok) {
    *error = std::string(reply.substr(0, 300));
    // A failed query on a lease still holds the lease: release it next.
    if (step_ == Step::kLeaseQuery) {
      position_ = scenario_ == Scenario::kLease10 ? kLease10Queries + 1 : 2;
    } else {
      position_ = 0;
    }
    return false;
  }
  if (step_ == Step::kAcquire && !echo_) {
    constexpr std::string_view kKey = R"("lease":")";
    size_t at = reply.find(kKey);
    if (at == std::string_view::npos || at + kKey.size() + 16 > reply.size()) {
      *error = "acquire reply without a lease: " + std::string(reply.substr(0, 300));
      position_ = 0;
      return false;
    }
    std::memcpy(lease_, reply.data() + at + kKey.size(), 16);
  }
  ++position_;
  bool done = false;
  switch (scenario_) {
    case Scenario::kPointSelect:
    case Scenario::kInsert:
    case Scenario::kMixed:
    case Scenario::kPointSelectAuto:
    case Scenario::kInsertAuto:
      done = true;
      break;
    case Scenario::kAcquireRelease:
      done = position_ == 2;
      break;
    case Scenario::kLease10:
      done = position_ == kLease10Queries + 2;
      break;
    case Scenario::kLease1:
      done = position_ == 3;
      break;
  }
  if (done) position_ = 0;
  *cycle_done = done;
  return true;
}

}  // namespace litepool::bench
