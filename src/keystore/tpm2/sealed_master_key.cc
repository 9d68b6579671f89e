#include "keystore/tpm2/sealed_master_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/hex.h"
#include "base/status.h"
#include "crypto/random.h"
#include "nlohmann/json.hpp"

namespace sigil::keystore::tpm2 {
namespace {

using nlohmann::json;

constexpr size_t kMaxFileBytes = 64 * 1024;

std::string Encode(const SealedMasterKeyFile& f) {
  json j{{"version", kSealedMasterKeyFormatVersion},
         {"pcr", f.pcr},
         {"pcr_bank", "sha256"},
         {"event", HexEncode(f.event)},
         {"pcr_value", HexEncode(f.pcr_value)},
         {"public", HexEncode(f.sealed.public_area)},
         {"private", HexEncode(f.sealed.private_area)}};
  return j.dump(2) + "\n";
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& content, bool must_not_exist) {
  if (must_not_exist && ::access(path.c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError(path + " already exists; a sealed master key is never overwritten");
  }
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError("cannot write " + tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return absl::UnavailableError("cannot write " + path);
  return absl::OkStatus();
}

absl::StatusOr<crypto::Hash256> Hash32(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) return absl::DataLossError(std::string("master.tpm: missing ") + field);
  auto bytes = HexDecode(j[field].get<std::string>());
  if (!bytes.ok() || bytes->size() != 32) return absl::DataLossError(std::string("master.tpm: bad ") + field);
  crypto::Hash256 out;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

std::string RefusalMessage(const SealedMasterKeyFile& f, const crypto::Hash256& event, const std::string& detail) {
  return "the TPM refused to unseal the master key: the measured binary or configuration changed (PCR " +
         std::to_string(f.pcr) + " now holds the measurement " + HexEncode(event) +
         ", the key is sealed to " + HexEncode(f.event) +
         "). If you upgraded Sigil or changed its configuration on purpose, re-seal with the previous version "
         "(`sigil tpm reseal`, doc/tpm.md); otherwise do not trust this binary or configuration. TPM: " + detail;
}

}  // namespace

crypto::Hash256 PcrValueAfter(const crypto::Hash256& event) {
  uint8_t buf[64] = {};
  std::copy(event.begin(), event.end(), buf + 32);
  return crypto::Sha256(buf);
}

absl::Status PrepareMeasuredPcr(Tpm2Device& tpm, uint32_t pcr, const crypto::Hash256& event) {
  const crypto::Hash256 want = PcrValueAfter(event);
  ASSIGN_OR_RETURN(crypto::Hash256 now, tpm.ReadPcr(pcr));
  if (now == want) return absl::OkStatus();  // already measured this boot (a restart)
  if (now != crypto::Hash256{}) {
    absl::Status reset = tpm.ResetPcr(pcr);
    if (!reset.ok()) {
      if (reset.code() == absl::StatusCode::kUnavailable) return reset;
      return absl::FailedPreconditionError("PCR " + std::to_string(pcr) +
                                           " already holds another measurement and cannot be reset at this locality "
                                           "(" + std::string(reset.message()) +
                                           "); reboot, or configure a resettable PCR (16 or 23) in tpm.pcr");
    }
  }
  return tpm.ExtendPcr(pcr, event);
}

absl::StatusOr<SealedMasterKeyFile> ReadSealedMasterKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("the TPM-sealed master key " + path + " is missing");
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes) return absl::DataLossError(path + " is too large to be a sealed master key");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::DataLossError(path + " is not valid JSON");
  if (!j.contains("version") || !j["version"].is_number_unsigned() || j["version"].get<uint64_t>() != 1) {
    return absl::FailedPreconditionError(path + ": unsupported format version (this build reads version 1)");
  }
  if (!j.contains("pcr") || !j["pcr"].is_number_unsigned() || j["pcr"].get<uint64_t>() > kMaxPcr ||
      j.value("pcr_bank", std::string()) != "sha256") {
    return absl::DataLossError(path + ": bad pcr or pcr_bank");
  }
  SealedMasterKeyFile f;
  f.pcr = j["pcr"].get<uint32_t>();
  ASSIGN_OR_RETURN(f.event, Hash32(j, "event"));
  ASSIGN_OR_RETURN(f.pcr_value, Hash32(j, "pcr_value"));
  if (f.pcr_value != PcrValueAfter(f.event)) return absl::DataLossError(path + ": pcr_value does not match event");
  for (auto [field, out] : {std::pair{"public", &f.sealed.public_area}, std::pair{"private", &f.sealed.private_area}}) {
    if (!j.contains(field) || !j[field].is_string()) return absl::DataLossError(path + ": missing " + field);
    auto bytes = HexDecode(j[field].get<std::string>());
    if (!bytes.ok() || bytes->empty()) return absl::DataLossError(path + ": bad " + field);
    *out = std::move(*bytes);
  }
  return f;
}

absl::StatusOr<SecretBytes> CreateSealedMasterKey(Tpm2Device& tpm, const std::string& path, uint32_t pcr,
                                                  const crypto::Hash256& event) {
  if (::access(path.c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError(path + " already exists; a sealed master key is never overwritten");
  }
  RETURN_IF_ERROR(PrepareMeasuredPcr(tpm, pcr, event));
  SecretBytes master = crypto::RandomSecret(32);
  SealedMasterKeyFile f;
  f.pcr = pcr;
  f.event = event;
  f.pcr_value = PcrValueAfter(event);
  ASSIGN_OR_RETURN(f.sealed, tpm.Seal(master, pcr, f.pcr_value));
  // Prove the blob opens before anything is encrypted under the key.
  ASSIGN_OR_RETURN(SecretBytes check, tpm.Unseal(f.sealed, pcr));
  if (!(check == master)) return absl::InternalError("the TPM returned another secret than the one sealed");
  RETURN_IF_ERROR(WriteFileAtomically(path, Encode(f), /*must_not_exist=*/true));
  return master;
}

absl::StatusOr<SecretBytes> UnsealMasterKey(Tpm2Device& tpm, const std::string& path, const crypto::Hash256& event) {
  ASSIGN_OR_RETURN(SealedMasterKeyFile f, ReadSealedMasterKeyFile(path));
  RETURN_IF_ERROR(PrepareMeasuredPcr(tpm, f.pcr, event));
  absl::StatusOr<SecretBytes> key = tpm.Unseal(f.sealed, f.pcr);
  if (key.status().code() == absl::StatusCode::kFailedPrecondition) {
    return absl::FailedPreconditionError(RefusalMessage(f, event, std::string(key.status().message())));
  }
  return key;
}

absl::Status ResealMasterKey(Tpm2Device& tpm, const std::string& path, const crypto::Hash256& new_event) {
  ASSIGN_OR_RETURN(SealedMasterKeyFile f, ReadSealedMasterKeyFile(path));
  RETURN_IF_ERROR(PrepareMeasuredPcr(tpm, f.pcr, f.event));
  ASSIGN_OR_RETURN(SecretBytes master, tpm.Unseal(f.sealed, f.pcr));
  SealedMasterKeyFile g = f;
  g.event = new_event;
  g.pcr_value = PcrValueAfter(new_event);
  ASSIGN_OR_RETURN(g.sealed, tpm.Seal(master, g.pcr, g.pcr_value));
  RETURN_IF_ERROR(PrepareMeasuredPcr(tpm, g.pcr, new_event));
  ASSIGN_OR_RETURN(SecretBytes check, tpm.Unseal(g.sealed, g.pcr));
  if (!(check == master)) return absl::InternalError("the TPM returned another secret than the one sealed");
  return WriteFileAtomically(path, Encode(g), /*must_not_exist=*/false);
}

}  // namespace sigil::keystore::tpm2
