#include "policy/approval.h"

namespace sigil::policy {

std::string_view ApprovalStateName(ApprovalState state) {
  switch (state) {
    case ApprovalState::kPending:
      return "pending";
    case ApprovalState::kApproved:
      return "approved";
    case ApprovalState::kRejected:
      return "rejected";
    case ApprovalState::kExpired:
      return "expired";
    case ApprovalState::kConsumed:
      return "consumed";
  }
  return "unknown";
}

std::optional<ApprovalState> ParseApprovalState(std::string_view name) {
  for (ApprovalState s : {ApprovalState::kPending, ApprovalState::kApproved, ApprovalState::kRejected,
                          ApprovalState::kExpired, ApprovalState::kConsumed}) {
    if (ApprovalStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view ApprovalStepName(ApprovalStep step) {
  switch (step) {
    case ApprovalStep::kCreate:
      return "create";
    case ApprovalStep::kApprove:
      return "approve";
    case ApprovalStep::kReject:
      return "reject";
    case ApprovalStep::kConsume:
      return "consume";
    case ApprovalStep::kExpire:
      return "expire";
    case ApprovalStep::kReturn:
      return "return";
  }
  return "unknown";
}

}  // namespace sigil::policy
