// Declassification marks for the valgrind constant-time check
// (tests/ctime): a value derived from a secret that is allowed to become
// public (a key's validity bit, a finished signature) is marked defined, so
// that memcheck, which tracks secrets marked "undefined", flags only real
// secret-dependent branches and memory indices. bitcoin-core/secp256k1 uses
// the same technique (secp256k1_declassify).
//
// Compiled to nothing unless SIGIL_CTIME_CHECK is defined; only the ctime
// check executable defines it.
#pragma once

#if defined(SIGIL_CTIME_CHECK)
#include <valgrind/memcheck.h>
#define SIGIL_DECLASSIFY(ptr, len) VALGRIND_MAKE_MEM_DEFINED((ptr), (len))
#else
#define SIGIL_DECLASSIFY(ptr, len) ((void)(ptr), (void)(len))
#endif
