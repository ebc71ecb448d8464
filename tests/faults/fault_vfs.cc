// A SQLite VFS that wraps the default one and fails chosen calls, the way
// SQLite's own test harness injects I/O errors. Linked only into the test
// binary litepoold_faults; registered as the default VFS when
// $LITEPOOL_FAULT_CONTROL names a control file (fault_control.h), so the
// daemon runs unchanged on top of it.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "tests/faults/fault_control.h"

namespace litepool::faults {
namespace {

sqlite3_vfs* g_real = nullptr;
FaultControl* g_control = nullptr;

// Our file: the wrapper's methods, then the real VFS's file in place.
struct FaultFile {
  sqlite3_file base;
  const char* path;  // valid until xClose (SQLite's promise for zName)
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

FaultFile* Self(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f); }

// The result to return instead of calling `op`, or SQLITE_OK to call it.
int Injected(FaultFile* f, FaultOp op) {
  FaultControl* c = g_control;
  if (c->op.load() != static_cast<int32_t>(op)) return SQLITE_OK;
  if (c->path_filter[0] != '\0' &&
      (f->path == nullptr || std::strstr(f->path, c->path_filter) == nullptr)) {
    return SQLITE_OK;
  }
  int32_t left = c->remaining.load();
  while (left != -1) {
    if (left == 0) return SQLITE_OK;
    if (c->remaining.compare_exchange_weak(left, left - 1)) break;
  }
  c->hits.fetch_add(1);
  return c->result.load();
}

int Close(sqlite3_file* f) {
  int rc = Self(f)->real()->pMethods->xClose(Self(f)->real());
  f->pMethods = nullptr;
  return rc;
}
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  if (int rc = Injected(Self(f), FaultOp::kRead)) return rc;
  return Self(f)->real()->pMethods->xRead(Self(f)->real(), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (int rc = Injected(Self(f), FaultOp::kWrite)) return rc;
  return Self(f)->real()->pMethods->xWrite(Self(f)->real(), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = Injected(Self(f), FaultOp::kTruncate)) return rc;
  return Self(f)->real()->pMethods->xTruncate(Self(f)->real(), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (int rc = Injected(Self(f), FaultOp::kSync)) return rc;
  return Self(f)->real()->pMethods->xSync(Self(f)->real(), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Self(f)->real()->pMethods->xFileSize(Self(f)->real(), size);
}
int Lock(sqlite3_file* f, int level) {
  return Self(f)->real()->pMethods->xLock(Self(f)->real(), level);
}
int Unlock(sqlite3_file* f, int level) {
  return Self(f)->real()->pMethods->xUnlock(Self(f)->real(), level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Self(f)->real()->pMethods->xCheckReservedLock(Self(f)->real(), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Self(f)->real()->pMethods->xFileControl(Self(f)->real(), op, arg);
}
int SectorSize(sqlite3_file* f) { return Self(f)->real()->pMethods->xSectorSize(Self(f)->real()); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Self(f)->real()->pMethods->xDeviceCharacteristics(Self(f)->real());
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  if (int rc = Injected(Self(f), FaultOp::kShmMap)) return rc;
  return Self(f)->real()->pMethods->xShmMap(Self(f)->real(), page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Self(f)->real()->pMethods->xShmLock(Self(f)->real(), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Self(f)->real()->pMethods->xShmBarrier(Self(f)->real()); }
int ShmUnmap(sqlite3_file* f, int remove) {
  return Self(f)->real()->pMethods->xShmUnmap(Self(f)->real(), remove);
}
int Fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return Self(f)->real()->pMethods->xFetch(Self(f)->real(), off, n, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return Self(f)->real()->pMethods->xUnfetch(Self(f)->real(), off, p);
}

const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  FaultFile* self = Self(f);
  self->path = name;
  self->base.pMethods = nullptr;
  // The VFS this one wraps: the default, or unix-excl (file_lock "exclusive").
  auto* real = static_cast<sqlite3_vfs*>(vfs->pAppData);
  int rc = real->xOpen(real, name, self->real(), flags, out_flags);
  if (self->real()->pMethods != nullptr) self->base.pMethods = &kMethods;
  return rc;
}

// Everything but xOpen goes straight to the real VFS.
int Delete(sqlite3_vfs*, const char* name, int sync) { return g_real->xDelete(g_real, name, sync); }
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_real->xAccess(g_real, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void DlError(sqlite3_vfs*, int n, char* out) { g_real->xDlError(g_real, n, out); }
void (*DlSym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return g_real->xDlSym(g_real, h, sym);
}
void DlClose(sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); }
int Randomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int Sleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int CurrentTime(sqlite3_vfs*, double* out) { return g_real->xCurrentTime(g_real, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) { return g_real->xGetLastError(g_real, n, out); }
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_real->xCurrentTimeInt64(g_real, out);
}

sqlite3_vfs g_vfs;
sqlite3_vfs g_excl;  // the same over unix-excl, which the daemon asks for by name

// A wrapper of `real` named `name`.
sqlite3_vfs Wrap(sqlite3_vfs* real, const char* name) {
  sqlite3_vfs vfs = *real;
  vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + real->szOsFile;
  vfs.zName = name;
  vfs.pNext = nullptr;
  vfs.pAppData = real;
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  vfs.xSetSystemCall = nullptr;
  vfs.xGetSystemCall = nullptr;
  vfs.xNextSystemCall = nullptr;
  return vfs;
}

// Registers the VFS before main() when the test asked for it.
struct Registration {
  Registration() {
    const char* path = std::getenv(kFaultControlEnv);
    if (path == nullptr || *path == '\0') return;
    int fd = ::open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) std::abort();  // a test that asked for faults must get them
    void* page = ::mmap(nullptr, sizeof(FaultControl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (page == MAP_FAILED) std::abort();
    g_control = static_cast<FaultControl*>(page);
    g_real = sqlite3_vfs_find(nullptr);
    sqlite3_vfs* excl = sqlite3_vfs_find("unix-excl");
    if (excl == nullptr) std::abort();
    g_vfs = Wrap(g_real, "litepool-faults");
    // Same name: registered after the default, it comes before the real
    // unix-excl in SQLite's list, so sqlite3_vfs_find("unix-excl") finds it.
    g_excl = Wrap(excl, "unix-excl");
    if (sqlite3_vfs_register(&g_vfs, /*makeDflt=*/1) != SQLITE_OK) std::abort();
    if (sqlite3_vfs_register(&g_excl, /*makeDflt=*/0) != SQLITE_OK) std::abort();
  }
} g_registration;

}  // namespace
}  // namespace litepool::faults
