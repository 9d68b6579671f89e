// The entry point every ctime_* check shares: `raw` runs the libraries
// directly (the baseline of their own reports), `sigil` runs Sigil's code on
// the same secrets; run_ctime.sh runs both under valgrind and compares.
#pragma once

#include <cstdio>
#include <cstring>

inline int CtimeMain(int argc, char** argv, int (*run_raw)(), int (*run_sigil)()) {
  if (argc == 2 && std::strcmp(argv[1], "raw") == 0) return run_raw();
  if (argc == 2 && std::strcmp(argv[1], "sigil") == 0) return run_sigil();
  std::fprintf(stderr, "usage: %s raw|sigil  (run under valgrind; see run_ctime.sh)\n", argv[0]);
  return 2;
}
