#include "tokens/role.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace sigil::tokens {
namespace {

std::set<std::string> Granted(Role role) {
  std::set<std::string> out;
  for (Permission p : kAllPermissions) {
    if (Allows(role, p)) out.insert(std::string(PermissionName(p)));
  }
  return out;
}

TEST(RoleTest, PermissionTableIsLeastPrivilege) {
  EXPECT_EQ(Granted(Role::kAgent), (std::set<std::string>{"sign", "explain", "key.list", "approval.status"}));
  EXPECT_EQ(Granted(Role::kApprover),
            (std::set<std::string>{"approval.decide", "approval.list", "approval.status"}));
  EXPECT_EQ(Granted(Role::kAuditor), (std::set<std::string>{"audit.read", "attest.get", "policy.read"}));
  EXPECT_EQ(Granted(Role::kOperator),
            (std::set<std::string>{"lockdown.on", "key.list", "policy.read", "approval.list", "approval.status",
                                   "metrics.read"}));
  EXPECT_EQ(Granted(Role::kAdmin).size(), std::size(kAllPermissions));
}

TEST(RoleTest, SensitivePermissionsOnlyForAdmin) {
  for (Permission p : {Permission::kLockdownOff, Permission::kTokenCreate, Permission::kTokenRevoke,
                       Permission::kPolicyApply, Permission::kKeyCreate, Permission::kKeyRotate,
                       Permission::kBackupCreate}) {
    for (Role r : kAllRoles) {
      EXPECT_EQ(Allows(r, p), r == Role::kAdmin) << RoleName(r) << " " << PermissionName(p);
    }
  }
  // Only agents and admins sign; approvers cannot sign what they approve.
  for (Role r : kAllRoles) {
    EXPECT_EQ(Allows(r, Permission::kSign), r == Role::kAgent || r == Role::kAdmin) << RoleName(r);
  }
}

TEST(RoleTest, NamesRoundTrip) {
  for (Role r : kAllRoles) EXPECT_EQ(ParseRole(RoleName(r)), r);
  for (Permission p : kAllPermissions) EXPECT_EQ(ParsePermission(PermissionName(p)), p);
  EXPECT_EQ(ParseRole("Admin"), std::nullopt);
  EXPECT_EQ(ParseRole(""), std::nullopt);
  EXPECT_EQ(ParseRole("root"), std::nullopt);
  EXPECT_EQ(ParsePermission("sign "), std::nullopt);
  EXPECT_EQ(ParsePermission("lockdown"), std::nullopt);
}

}  // namespace
}  // namespace sigil::tokens
