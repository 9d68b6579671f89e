#include "tokens/role.h"

namespace sigil::tokens {

bool Allows(Role role, Permission p) {
  using P = Permission;
  switch (role) {
    case Role::kAdmin:
      return true;
    case Role::kAgent:
      // Key and request scoping ("own") is applied by the caller.
      return p == P::kSign || p == P::kExplain || p == P::kKeyList || p == P::kApprovalStatus;
    case Role::kApprover:
      return p == P::kApprovalDecide || p == P::kApprovalList || p == P::kApprovalStatus;
    case Role::kAuditor:
      return p == P::kAuditRead || p == P::kAttestGet || p == P::kPolicyRead;
    case Role::kOperator:
      // Operators can stop signing (lockdown.on) but not resume it: lifting a
      // lockdown needs an admin with a second factor.
      return p == P::kLockdownOn || p == P::kKeyList || p == P::kPolicyRead || p == P::kApprovalList ||
             p == P::kApprovalStatus || p == P::kMetricsRead;
  }
  return false;
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kOperator:
      return "operator";
    case Role::kApprover:
      return "approver";
    case Role::kAuditor:
      return "auditor";
    case Role::kAgent:
      return "agent";
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : kAllRoles) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

std::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kSign:
      return "sign";
    case Permission::kExplain:
      return "explain";
    case Permission::kKeyCreate:
      return "key.create";
    case Permission::kKeyList:
      return "key.list";
    case Permission::kKeyRotate:
      return "key.rotate";
    case Permission::kPolicyApply:
      return "policy.apply";
    case Permission::kPolicyRead:
      return "policy.read";
    case Permission::kTokenCreate:
      return "token.create";
    case Permission::kTokenRevoke:
      return "token.revoke";
    case Permission::kApprovalDecide:
      return "approval.decide";
    case Permission::kApprovalList:
      return "approval.list";
    case Permission::kApprovalStatus:
      return "approval.status";
    case Permission::kLockdownOn:
      return "lockdown.on";
    case Permission::kLockdownOff:
      return "lockdown.off";
    case Permission::kAuditRead:
      return "audit.read";
    case Permission::kAttestGet:
      return "attest.get";
    case Permission::kBackupCreate:
      return "backup.create";
    case Permission::kMetricsRead:
      return "metrics.read";
  }
  return "unknown";
}

std::optional<Permission> ParsePermission(std::string_view name) {
  for (Permission p : kAllPermissions) {
    if (PermissionName(p) == name) return p;
  }
  return std::nullopt;
}

}  // namespace sigil::tokens
