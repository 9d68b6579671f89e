// Test support for the audit module's tests (header-only; not part of the
// library): temporary directories, deterministic signers and sample records.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "audit/checkpoint_signer.h"
#include "audit/record.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"

namespace sigil::audit::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/sigil-audit-XXXXXX";
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A signer whose seed is 32 copies of `fill`.
inline std::unique_ptr<Ed25519SeedSigner> TestSigner(uint8_t fill = 0x42) {
  Bytes seed(32, fill);
  auto signer = Ed25519SeedSigner::Create(SecretBytes::CopyFrom(seed));
  EXPECT_TRUE(signer.ok());
  return std::move(signer).value();
}

// A plausible record; `i` varies every field.
inline AuditRecord SampleRecord(uint64_t i) {
  AuditRecord r;
  static const char* kTypes[] = {"sign.request", "key.create", "policy.apply", "token.issue", "approval.approve"};
  static const char* kDecisions[] = {"allow", "deny", "require_approval"};
  r.type = kTypes[i % 5];
  r.time_ms = 1767225600000 + i * 1000;
  r.principal = "agent-" + std::to_string(i % 7);
  r.key = "key-" + std::to_string(i % 3);
  r.decision = kDecisions[i % 3];
  r.rule = i % 3 == 1 ? "no-blocked" : "small-payments";
  r.reason = "request " + std::to_string(i) + " evaluated \"by policy\"";
  r.payload_hash = HexEncode(crypto::Sha256(AsBytes("payload" + std::to_string(i))));
  if (i % 3 == 0) r.signature_hash = HexEncode(crypto::Sha256(AsBytes("sig" + std::to_string(i))));
  r.extra["to"] = "0x" + std::string(40, static_cast<char>('a' + i % 4));
  r.extra["value"] = std::to_string(1000 + i);
  r.extra["chain_id"] = "1";
  return r;
}

}  // namespace sigil::audit::testing
