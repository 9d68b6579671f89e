#include "testing/fault_injecting_key_store.h"

#include "base/status.h"

namespace sigil::keystore {

void FaultInjectingKeyStore::FailSigning(absl::Status status) {
  absl::MutexLock lock(&mu_);
  sign_fault_ = std::move(status);
}

void FaultInjectingKeyStore::FailNthSign(int n, absl::Status status) {
  absl::MutexLock lock(&mu_);
  nth_sign_ = signs_ + n;
  nth_sign_fault_ = std::move(status);
}

void FaultInjectingKeyStore::FailChanges(absl::Status status) {
  absl::MutexLock lock(&mu_);
  change_fault_ = std::move(status);
}

void FaultInjectingKeyStore::FailReads(absl::Status status) {
  absl::MutexLock lock(&mu_);
  read_fault_ = std::move(status);
}

void FaultInjectingKeyStore::Heal() {
  absl::MutexLock lock(&mu_);
  signs_ = 0;
  nth_sign_ = 0;
  sign_fault_ = nth_sign_fault_ = change_fault_ = read_fault_ = absl::OkStatus();
}

int FaultInjectingKeyStore::signs_seen() const {
  absl::MutexLock lock(&mu_);
  return signs_;
}

absl::Status FaultInjectingKeyStore::NextSign() {
  absl::MutexLock lock(&mu_);
  ++signs_;
  if (!sign_fault_.ok()) return sign_fault_;
  if (signs_ == nth_sign_) return nth_sign_fault_;
  return absl::OkStatus();
}

absl::Status FaultInjectingKeyStore::ChangeFault() const {
  absl::MutexLock lock(&mu_);
  return change_fault_;
}

absl::Status FaultInjectingKeyStore::ReadFault() const {
  absl::MutexLock lock(&mu_);
  return read_fault_;
}

absl::StatusOr<KeyInfo> FaultInjectingKeyStore::Generate(std::string_view name, KeyType type, KeyPurpose purpose) {
  RETURN_IF_ERROR(ChangeFault());
  return ForwardingKeyStore::Generate(name, type, purpose);
}

absl::StatusOr<KeyInfo> FaultInjectingKeyStore::Get(std::string_view name_or_id) {
  RETURN_IF_ERROR(ReadFault());
  return ForwardingKeyStore::Get(name_or_id);
}

absl::StatusOr<std::vector<KeyInfo>> FaultInjectingKeyStore::List() {
  RETURN_IF_ERROR(ReadFault());
  return ForwardingKeyStore::List();
}

absl::StatusOr<crypto::RecoverableSignature> FaultInjectingKeyStore::SignEcdsa(std::string_view key_id,
                                                                               KeyPurpose purpose,
                                                                               const crypto::Hash256& digest) {
  RETURN_IF_ERROR(NextSign());
  return ForwardingKeyStore::SignEcdsa(key_id, purpose, digest);
}

absl::StatusOr<crypto::SchnorrSignature> FaultInjectingKeyStore::SignSchnorr(std::string_view key_id,
                                                                             KeyPurpose purpose,
                                                                             const crypto::Hash256& message) {
  RETURN_IF_ERROR(NextSign());
  return ForwardingKeyStore::SignSchnorr(key_id, purpose, message);
}

absl::StatusOr<crypto::Ed25519Signature> FaultInjectingKeyStore::SignEd25519(std::string_view key_id,
                                                                             KeyPurpose purpose,
                                                                             std::span<const uint8_t> message) {
  RETURN_IF_ERROR(NextSign());
  return ForwardingKeyStore::SignEd25519(key_id, purpose, message);
}

absl::StatusOr<KeyInfo> FaultInjectingKeyStore::Rotate(std::string_view name_or_id) {
  RETURN_IF_ERROR(ChangeFault());
  return ForwardingKeyStore::Rotate(name_or_id);
}

absl::Status FaultInjectingKeyStore::Archive(std::string_view name_or_id) {
  RETURN_IF_ERROR(ChangeFault());
  return ForwardingKeyStore::Archive(name_or_id);
}

}  // namespace sigil::keystore
