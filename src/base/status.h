// Error propagation helpers. Errors are values (absl::Status); these macros
// keep call sites short without hiding control flow.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SIGIL_CONCAT_INNER_(a, b) a##b
#define SIGIL_CONCAT_(a, b) SIGIL_CONCAT_INNER_(a, b)

// Returns from the current function with the status if it is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status sigil_status_ = (expr);             \
    if (!sigil_status_.ok()) return sigil_status_;     \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): evaluates a StatusOr expression; on error
// returns its status, otherwise moves the value into lhs (which may be a
// declaration such as `auto x`).
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(SIGIL_CONCAT_(sigil_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()
