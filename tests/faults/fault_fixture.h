// A litepoold_faults daemon and the control page that arms its VFS.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <new>
#include <string>

#include "tests/faults/fault_control.h"
#include "tests/integration/protocol_fixture.h"  // IsOk
#include "tests/support/daemon.h"
#include "tests/support/metrics_text.h"

namespace litepool::testing {

// Owns the control file and its mapping. Arm() and Disarm() take effect at
// the daemon's next VFS call.
class FaultSwitch {
 public:
  explicit FaultSwitch(const std::string& path) : path_(path) {
    // Readable by a daemon run as another uid (setpriv) too.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    ::fchmod(fd, 0666);
    EXPECT_GE(fd, 0) << path;
    EXPECT_EQ(::ftruncate(fd, 4096), 0);
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    control_ = new (page) faults::FaultControl();
  }
  ~FaultSwitch() { ::munmap(control_, 4096); }

  // Fails `op` on files whose path contains `filter` with `result`, `times`
  // times (-1: until Disarm()).
  void Arm(faults::FaultOp op, int result, const std::string& filter, int times = -1) {
    control_->op.store(0);
    std::strncpy(control_->path_filter, filter.c_str(), sizeof(control_->path_filter) - 1);
    control_->result.store(result);
    control_->remaining.store(times);
    control_->op.store(static_cast<int32_t>(op));
  }
  void Disarm() { control_->op.store(0); }
  int hits() const { return control_->hits.load(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  faults::FaultControl* control_;
};

class FaultTest : public ::testing::Test {
 protected:
  FaultTest() : faults_(daemon_.dir() + "/faults") {
    daemon_.SetBinary(LITEPOOLD_FAULTS_PATH);
    daemon_.AddEnv(std::string(faults::kFaultControlEnv) + "=" + faults_.path());
  }

  LineClient Connect() { return LineClient(daemon_.socket_path()); }
  nlohmann::json Call(const nlohmann::json& request) { return Connect().Call(request); }
  nlohmann::json Exec(const std::string& sql) {
    return Call({{"op", "exec"}, {"db", "main"}, {"sql", sql}});
  }
  std::optional<double> Metric(const std::string& name,
                               const std::map<std::string, std::string>& labels) {
    return ParseMetrics(HttpGet(daemon_.metrics_port(), "/metrics").body).Value(name, labels);
  }
  static std::string Code(const nlohmann::json& reply) {
    return reply.contains("error") ? reply["error"].value("code", "") : "";
  }

  DaemonProcess daemon_;
  FaultSwitch faults_;
};

}  // namespace litepool::testing
