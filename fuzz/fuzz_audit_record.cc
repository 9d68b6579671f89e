// Fuzzes every parser of the audit module: the canonical record codec, the
// checkpoint text, the log/export file scanner and verifier, and the JSON
// proof/checkpoint readers. Nothing may crash; whatever the record and
// checkpoint parsers accept must re-encode to exactly the input (one record,
// one leaf hash).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "audit/checkpoint.h"
#include "audit/checkpoint_signer.h"
#include "audit/log_format.h"
#include "audit/log_verifier.h"
#include "audit/proof.h"
#include "audit/record.h"
#include "nlohmann/json.hpp"

namespace {

const sigil::audit::LogHeader& Header() {
  static const sigil::audit::LogHeader header = [] {
    sigil::audit::LogHeader h;
    auto signer = sigil::audit::Ed25519SeedSigner::Create(sigil::SecretBytes::CopyFrom(sigil::Bytes(32, 0x42)));
    if (!signer.ok()) std::abort();
    h.audit_key = (*signer)->PublicKey();
    for (size_t i = 0; i < h.log_id.size(); ++i) h.log_id[i] = static_cast<uint8_t>(i);
    return h;
  }();
  return header;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sigil::audit;
  std::span<const uint8_t> in(data, size);

  if (auto record = ParseRecord(in); record.ok()) {
    auto again = EncodeRecord(*record);
    if (!again.ok() || again->size() != size || !std::equal(again->begin(), again->end(), data)) std::abort();
  }
  if (auto checkpoint = ParseSignedCheckpoint(in); checkpoint.ok()) {
    const std::string again = EncodeSignedCheckpoint(*checkpoint);
    if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  }

  // As a whole file, and as the body of a file with a valid header.
  const auto& header = Header();
  VerifyOptions live;
  live.require_final_checkpoint = false;
  live.allow_torn_tail = true;
  (void)VerifyLogBytes(in, header.audit_key);
  sigil::Bytes file = EncodeLogHeader(header);
  file.insert(file.end(), data, data + size);
  VerifyReport report = VerifyLogBytes(file, header.audit_key, live);
  if (report.valid != report.errors.empty()) std::abort();
  (void)report.ToJson().dump();
  if (size >= 4) (void)ParseFrameAt(file, sigil::audit::kLogHeaderSize + (data[0] % 16));

  // JSON readers.
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) {
    if (auto p = InclusionProof::FromJson(j); p.ok()) (void)p->Verify();
    if (auto p = ConsistencyProof::FromJson(j); p.ok()) (void)p->Verify();
    (void)SignedCheckpoint::FromJson(j);
  }
  return 0;
}
