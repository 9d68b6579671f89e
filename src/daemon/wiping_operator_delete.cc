// The `sigil` binary's replacement for the global operator delete: every heap
// block freed by C++ code is zeroed before it goes back to malloc.
//
// Why: secrets live in SecretBytes (locked, MADV_DONTDUMP, wiped), but on
// their way there they pass through ordinary buffers that third-party code
// owns and frees without wiping: nlohmann::json's lexer token buffer and string
// nodes, std::string copies inside HTTP parsing, vectors grown by push_back
// (each reallocation frees a partial copy). glibc keeps freed blocks' contents
// (only the first 16 bytes are reused for free-list links), so those copies
// would sit in the heap, and in any core dump, until reused. Zeroing on free
// closes that class of leak at its root (tests/e2e/canary.test.mjs finds the
// copies otherwise). It does not touch live buffers: code holding secret text
// must still wipe it (SecureWipe) or keep it in SecretBytes.
//
// Cost: one memset of the block's usable size per delete, the same order as
// having written the block. Memory freed with free() by C libraries is not
// covered (they do not see our secrets: SQLite holds sealed records only).
//
// Linked into the `sigil` binary through libsigil_daemon.a: operator delete is
// undefined in main.o, so the archive member defining it is pulled in.
#include <malloc.h>
#include <string.h>

#include <cstdlib>
#include <new>

// Sanitizers bring their own allocator (and flag new/free mismatches): leave
// operator delete to them.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define SIGIL_SANITIZED_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SIGIL_SANITIZED_ALLOCATOR 1
#endif

#ifndef SIGIL_SANITIZED_ALLOCATOR
namespace {

inline void WipeAndFree(void* p) noexcept {
  if (p == nullptr) return;
  explicit_bzero(p, malloc_usable_size(p));
  std::free(p);
}

}  // namespace

void operator delete(void* p) noexcept { WipeAndFree(p); }
void operator delete[](void* p) noexcept { WipeAndFree(p); }
void operator delete(void* p, std::size_t) noexcept { WipeAndFree(p); }
void operator delete[](void* p, std::size_t) noexcept { WipeAndFree(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { WipeAndFree(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { WipeAndFree(p); }
#endif  // SIGIL_SANITIZED_ALLOCATOR
