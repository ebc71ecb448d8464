// Clang's thread-safety attributes, so that lock rules written beside a
// member ("guarded by mu_") are checked by the compiler: the
// `-Wthread-safety -Werror` build in scripts/test.sh fails on a member read
// without its lock, or a function called without the lock it requires.
// Empty on compilers without the analysis (GCC builds the product).
#pragma once

#if defined(__clang__)
#define LITEPOOL_TSA(x) __attribute__((x))
#else
#define LITEPOOL_TSA(x)
#endif

#define CAPABILITY(x) LITEPOOL_TSA(capability(x))
#define SCOPED_CAPABILITY LITEPOOL_TSA(scoped_lockable)
#define GUARDED_BY(x) LITEPOOL_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) LITEPOOL_TSA(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) LITEPOOL_TSA(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) LITEPOOL_TSA(acquired_after(__VA_ARGS__))
#define REQUIRES(...) LITEPOOL_TSA(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) LITEPOOL_TSA(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) LITEPOOL_TSA(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) LITEPOOL_TSA(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) LITEPOOL_TSA(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) LITEPOOL_TSA(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) LITEPOOL_TSA(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) LITEPOOL_TSA(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) LITEPOOL_TSA(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) LITEPOOL_TSA(assert_capability(x))
#define RETURN_CAPABILITY(x) LITEPOOL_TSA(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS LITEPOOL_TSA(no_thread_safety_analysis)
