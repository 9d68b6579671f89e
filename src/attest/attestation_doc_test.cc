// Round-trips the worked example in doc/attestation.md: the documented report
// must verify under the documented public key and nonce, be exactly what the
// Reporter produces from the documented inputs, sign exactly the documented
// canonical bytes, and give exactly the documented verifier output. Run with
// SIGIL_PRINT_ATTEST_DOC_EXAMPLE=1 to print the blocks (after an intentional
// format change).
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "attest/reporter.h"
#include "attest/verifier.h"
#include "base/hex.h"
#include "chains/ethereum/address.h"
#include "chains/solana/base58.h"
#include "crypto/secp256k1.h"
#include "gtest/gtest.h"

namespace sigil::attest {
namespace {

// The fenced block whose opening line is "```<info>", as text.
std::string DocBlock(const std::string& doc, const std::string& info) {
  std::istringstream in(doc);
  std::string line, out;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```" + info) {
      inside = true;
    } else if (inside && line == "```") {
      return out;
    } else if (inside) {
      out += line + "\n";
    }
  }
  ADD_FAILURE() << "doc/attestation.md has no block ```" << info;
  return "";
}

std::string ValueAfter(const std::string& block, const std::string& key) {
  std::istringstream in(block);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ": ", 0) == 0) return line.substr(key.size() + 2);
  }
  ADD_FAILURE() << "no '" << key << ":' line";
  return "";
}

SecretBytes SeedFrom(std::string_view label) {
  const crypto::Hash256 h = crypto::Sha256(AsBytes(label));
  return SecretBytes::CopyFrom(h);
}

std::vector<uint8_t> Range(uint8_t first, size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(first + i);
  return v;
}

// The example's inputs (doc/attestation.md §5 describes them).
struct Example {
  SecretBytes attestation_seed = SecretBytes::CopyFrom(Range(0x00, 32));
  std::vector<uint8_t> nonce = Range(0xa0, 32);
  ReportState state;
  crypto::Hash256 measurement = crypto::Sha256(AsBytes("sigil example binary"));

  Example() {
    state.config_hash = crypto::Sha256(AsBytes("sigil example config"));
    state.policy_hash = crypto::Sha256(AsBytes("sigil example policy"));
    state.audit.size = 1042;
    state.audit.root = crypto::Sha256(AsBytes("sigil example audit root"));
    state.audit_public_key = crypto::DeriveEd25519PublicKey(SecretBytes::CopyFrom(Range(0x20, 32))).value();

    const crypto::Secp256k1PublicKey treasury =
        crypto::DeriveSecp256k1PublicKey(SeedFrom("sigil example treasury key")).value();
    state.keys.push_back(ServedKey{"treasury", "secp256k1", {treasury.begin(), treasury.end()},
                                   eth::Address::FromPublicKey(treasury).ToChecksumHex()});
    const crypto::XOnlyPublicKey nostr = crypto::DeriveXOnlyPublicKey(SeedFrom("sigil example nostr key")).value();
    state.keys.push_back(ServedKey{"nostr-bot", "schnorr", {nostr.begin(), nostr.end()}, ""});
    const crypto::Ed25519PublicKey solana =
        crypto::DeriveEd25519PublicKey(SeedFrom("sigil example solana key")).value();
    state.keys.push_back(ServedKey{"solana-ops", "ed25519", {solana.begin(), solana.end()},
                                   solana::Base58Encode(solana)});
  }

  crypto::Ed25519PublicKey AttestationPublicKey() const {
    return crypto::DeriveEd25519PublicKey(attestation_seed).value();
  }

  AttestationReport Build() const {
    const FakeClock clock(absl::FromUnixMillis(1767225600000));  // 2026-01-01T00:00:00Z
    const SecretBytes* seed = &attestation_seed;
    ReporterOptions o;
    o.signer = [seed](std::span<const uint8_t> m) { return crypto::Ed25519Sign(*seed, m); };
    o.attestation_public_key = AttestationPublicKey();
    o.measurement = measurement;
    o.sigil_version = "0.1.0";
    o.debug = false;
    o.clock = &clock;
    return Reporter::Create(std::move(o)).value().Build(nonce, state).value();
  }
};

VerifyOptions ExampleVerifyOptions(const Example& ex) {
  VerifyOptions o;
  o.nonce = ex.nonce;
  o.expected_measurement = ex.measurement;
  o.expected_pubkey = ex.AttestationPublicKey();
  o.min_security_version = 1;
  return o;
}

// The documented failing verification: another nonce, and a minimum
// security version above the report's; only `valid` and `errors` are shown.
std::string ReplayedVerification(const Example& ex, const std::string& report_text) {
  VerifyOptions o = ExampleVerifyOptions(ex);
  o.nonce = Range(0xb0, 32);
  o.min_security_version = 2;
  const nlohmann::json full = Verify(report_text, o).ToJson();
  return nlohmann::json{{"errors", full["errors"]}, {"valid", full["valid"]}}.dump(2) + "\n";
}

std::string ReadDoc() {
  std::ifstream in(std::string(SIGIL_SOURCE_DIR) + "/doc/attestation.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AttestationDoc, WorkedExampleRoundTrips) {
  const Example ex;
  const AttestationReport built = ex.Build();
  if (std::getenv("SIGIL_PRINT_ATTEST_DOC_EXAMPLE") != nullptr) {
    std::cout << "attestation seed: " << HexEncode(ex.attestation_seed.Reveal(SecretAccess::Get())) << "\n"
              << "attestation public key: " << HexEncode(ex.AttestationPublicKey()) << "\n"
              << "nonce: " << HexEncode(ex.nonce) << "\n\n"
              << SerializeReport(built) << "\n"
              << CanonicalReportBytes(built) << "\n\n"
              << Verify(SerializeReport(built), ExampleVerifyOptions(ex)).ToJson().dump(2) << "\n\n"
              << ReplayedVerification(ex, SerializeReport(built));
  }

  const std::string doc = ReadDoc();
  ASSERT_FALSE(doc.empty()) << "doc/attestation.md is missing";
  const std::string params = DocBlock(doc, "text attestation-example-parameters");
  const std::string report_text = DocBlock(doc, "json attestation-example-report");
  const std::string signed_bytes = DocBlock(doc, "text attestation-example-signed-bytes");
  const std::string verify_text = DocBlock(doc, "json attestation-example-verify");
  const std::string replayed_text = DocBlock(doc, "json attestation-example-verify-replayed");

  // The documented key material is what the documented seed gives.
  auto seed = HexDecode(ValueAfter(params, "attestation seed"));
  ASSERT_TRUE(seed.ok());
  const SecretBytes doc_seed = SecretBytes::CopyFrom(*seed);
  auto pub = HexDecode(ValueAfter(params, "attestation public key"));
  ASSERT_TRUE(pub.ok() && pub->size() == 32);
  crypto::Ed25519PublicKey doc_pub{};
  std::copy(pub->begin(), pub->end(), doc_pub.begin());
  EXPECT_EQ(crypto::DeriveEd25519PublicKey(doc_seed).value(), doc_pub);
  auto nonce = HexDecode(ValueAfter(params, "nonce"));
  ASSERT_TRUE(nonce.ok());

  // The documented report verifies, on its own terms, with the documented inputs.
  VerifyOptions options;
  options.nonce = *nonce;
  options.expected_pubkey = doc_pub;
  VerifyResult result = Verify(report_text, options);
  EXPECT_TRUE(result.valid) << result.ToJson().dump(2);
  ASSERT_TRUE(result.report.has_value());
  const AttestationReport& documented = *result.report;

  // It signs exactly the documented bytes (the block ends in one "\n" that is not signed).
  EXPECT_EQ(CanonicalReportBytes(documented) + "\n", signed_bytes);
  // Ed25519 is deterministic: the documented seed re-creates the documented signature.
  EXPECT_EQ(crypto::Ed25519Sign(doc_seed, AsBytes(CanonicalReportBytes(documented))).value(), documented.signature);

  // It is exactly what the Reporter writes for the example's inputs.
  EXPECT_EQ(report_text, SerializeReport(built));
  EXPECT_EQ(documented, built);
  EXPECT_EQ(HexEncode(ex.AttestationPublicKey()), HexEncode(doc_pub));
  EXPECT_EQ(ex.nonce, *nonce);

  // The documented verifier output.
  EXPECT_EQ(verify_text, Verify(report_text, ExampleVerifyOptions(ex)).ToJson().dump(2) + "\n");
  EXPECT_EQ(replayed_text, ReplayedVerification(ex, report_text));

  // The served keys' addresses belong to their public keys.
  for (const ServedKey& k : documented.keys) {
    if (k.type == "secp256k1") {
      crypto::Secp256k1PublicKey p{};
      std::copy(k.public_key.begin(), k.public_key.end(), p.begin());
      EXPECT_EQ(k.address, eth::Address::FromPublicKey(p).ToChecksumHex());
    } else if (k.type == "ed25519") {
      EXPECT_EQ(k.address, solana::Base58Encode(k.public_key));
    }
  }

  // And one changed byte in the documented text is caught.
  std::string tampered = report_text;
  const size_t at = tampered.find("\"size\": 1042");
  ASSERT_NE(at, std::string::npos);
  tampered.replace(at, 12, "\"size\": 1041");
  VerifyResult bad = Verify(tampered, options);
  EXPECT_FALSE(bad.valid);
  EXPECT_TRUE(bad.HasError(kErrorBadSignature));
}

}  // namespace
}  // namespace sigil::attest
