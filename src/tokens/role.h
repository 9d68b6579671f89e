// Roles and permissions of token principals, and the one table that says
// which role may do what (least privilege; doc/tokens.md has the table).
//
//  agent     sign, explain, key.list (its own keys only), approval.status
//            (of its own requests only)
//  approver  approval.decide, approval.list, approval.status
//  auditor   audit.read, attest.get, policy.read
//  operator  lockdown.on, key.list, policy.read, approval.list,
//            approval.status, metrics.read
//  admin     everything
//
// Where a permission is further scoped ("own keys", "own requests") the
// caller applies the scope: Principal::MayUseKey for keys, the approval's
// agent for requests. Allows() answers only "may this role ever do this".
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace sigil::tokens {

enum class Role { kAdmin, kOperator, kApprover, kAuditor, kAgent };

enum class Permission {
  kSign,            // "sign"
  kExplain,         // "explain"
  kKeyCreate,       // "key.create"
  kKeyList,         // "key.list"
  kKeyRotate,       // "key.rotate"
  kPolicyApply,     // "policy.apply"
  kPolicyRead,      // "policy.read"
  kTokenCreate,     // "token.create"
  kTokenRevoke,     // "token.revoke"
  kApprovalDecide,  // "approval.decide"
  kApprovalList,    // "approval.list"
  kApprovalStatus,  // "approval.status"
  kLockdownOn,      // "lockdown.on"
  kLockdownOff,     // "lockdown.off"
  kAuditRead,       // "audit.read"
  kAttestGet,       // "attest.get"
  kBackupCreate,    // "backup.create"
  kMetricsRead,     // "metrics.read"
};

inline constexpr Role kAllRoles[] = {Role::kAdmin, Role::kOperator, Role::kApprover, Role::kAuditor, Role::kAgent};
inline constexpr Permission kAllPermissions[] = {
    Permission::kSign,           Permission::kExplain,        Permission::kKeyCreate,    Permission::kKeyList,
    Permission::kKeyRotate,      Permission::kPolicyApply,    Permission::kPolicyRead,   Permission::kTokenCreate,
    Permission::kTokenRevoke,    Permission::kApprovalDecide, Permission::kApprovalList, Permission::kApprovalStatus,
    Permission::kLockdownOn,     Permission::kLockdownOff,    Permission::kAuditRead,    Permission::kAttestGet,
    Permission::kBackupCreate,   Permission::kMetricsRead,
};

// True if `role` holds `permission` (the table above).
bool Allows(Role role, Permission permission);

// "admin", "operator", "approver", "auditor", "agent".
std::string_view RoleName(Role role);
// Exact, lower-case names only; nullopt for anything else.
std::optional<Role> ParseRole(std::string_view name);

// "sign", "key.create", ... as listed above.
std::string_view PermissionName(Permission permission);
std::optional<Permission> ParsePermission(std::string_view name);

}  // namespace sigil::tokens
