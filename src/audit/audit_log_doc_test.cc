// Round-trips the worked example in doc/audit-log.md: the documented records
// and keys must produce exactly the documented file bytes, and the
// documented file must verify. Run with SIGIL_PRINT_AUDIT_DOC_EXAMPLE=1 to
// print the blocks (after an intentional format change).
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "audit/checkpoint_signer.h"
#include "audit/log_format.h"
#include "audit/log_verifier.h"
#include "base/hex.h"
#include "gtest/gtest.h"

namespace sigil::audit {
namespace {

// The fenced block whose opening line is "```<info>".
std::vector<std::string> DocBlock(const std::string& doc, const std::string& info) {
  std::istringstream in(doc);
  std::vector<std::string> lines;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```" + info) {
      inside = true;
    } else if (inside && line == "```") {
      return lines;
    } else if (inside) {
      lines.push_back(line);
    }
  }
  ADD_FAILURE() << "doc/audit-log.md has no block ```" << info;
  return {};
}

std::string JoinHex(const std::vector<std::string>& lines) {
  std::string hex;
  for (const std::string& l : lines) {
    for (char c : l) {
      if (c != ' ') hex.push_back(c);
    }
  }
  return hex;
}

std::string ValueAfter(const std::vector<std::string>& lines, const std::string& key) {
  for (const std::string& l : lines) {
    if (l.rfind(key + ": ", 0) == 0) return l.substr(key.size() + 2);
  }
  ADD_FAILURE() << "no '" << key << ":' line";
  return "";
}

TEST(AuditLogDoc, WorkedExampleRoundTrips) {
  std::ifstream in(std::string(SIGIL_SOURCE_DIR) + "/doc/audit-log.md");
  ASSERT_TRUE(in) << "doc/audit-log.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();

  const auto params = DocBlock(doc, "text audit-example-parameters");
  const auto records = DocBlock(doc, "json audit-example-records");
  const auto checkpoint_text = DocBlock(doc, "text audit-example-checkpoint");
  const std::string file_hex = JoinHex(DocBlock(doc, "text audit-example-file"));
  ASSERT_EQ(records.size(), 2u);

  // Rebuild the file from the documented inputs.
  auto seed = HexDecode(ValueAfter(params, "seed"));
  ASSERT_TRUE(seed.ok());
  auto signer = Ed25519SeedSigner::Create(SecretBytes::CopyFrom(*seed)).value();
  EXPECT_EQ(HexEncode(signer->PublicKey()), ValueAfter(params, "public key"));
  LogHeader header;
  auto log_id = HexDecode(ValueAfter(params, "log id"));
  ASSERT_TRUE(log_id.ok() && log_id->size() == 16);
  std::copy(log_id->begin(), log_id->end(), header.log_id.begin());
  header.audit_key = signer->PublicKey();
  Bytes file = EncodeLogHeader(header);
  MerkleTree tree;
  for (size_t i = 0; i < records.size(); ++i) {
    auto record = ParseRecord(AsBytes(records[i]));
    ASSERT_TRUE(record.ok()) << "documented record " << i << " is not canonical: " << record.status();
    EXPECT_EQ(record->seq, i);
    AppendFrame(file, FrameType::kRecord, AsBytes(records[i]));
    tree.Append(HashLeaf(AsBytes(records[i])));
    EXPECT_EQ(HexEncode(tree.LeafHash(i)), ValueAfter(params, "leaf hash " + std::to_string(i)));
  }
  EXPECT_EQ(HexEncode(tree.Root()), ValueAfter(params, "root"));
  SignedCheckpoint cp;
  cp.checkpoint.log_id = header.log_id;
  cp.checkpoint.tree_size = 2;
  cp.checkpoint.root = tree.Root();
  cp.checkpoint.time_ms = std::stoull(ValueAfter(params, "checkpoint time"));
  cp.signature = signer->Sign(AsBytes(CheckpointMessage(cp.checkpoint))).value();
  const std::string stored = EncodeSignedCheckpoint(cp);
  AppendFrame(file, FrameType::kCheckpoint, AsBytes(stored));

  if (const char* print = std::getenv("SIGIL_PRINT_AUDIT_DOC_EXAMPLE"); print && *print == '1') {
    std::cout << "leaf hash 0: " << HexEncode(tree.LeafHash(0)) << "\nleaf hash 1: " << HexEncode(tree.LeafHash(1))
              << "\nroot: " << HexEncode(tree.Root()) << "\n\n" << stored << "\n";
    const std::string hex = HexEncode(file);
    for (size_t i = 0; i < hex.size(); i += 64) std::cout << hex.substr(i, 64) << "\n";
  }

  std::string documented_checkpoint;
  for (const std::string& l : checkpoint_text) documented_checkpoint += l + "\n";
  EXPECT_EQ(stored, documented_checkpoint);
  EXPECT_EQ(HexEncode(file), file_hex) << "the documented file bytes are stale";

  // The documented file verifies offline with only the public key...
  auto bytes = HexDecode(file_hex);
  ASSERT_TRUE(bytes.ok());
  VerifyReport report = VerifyLogBytes(*bytes, signer->PublicKey());
  EXPECT_TRUE(report.valid) << report.ToJson().dump();
  EXPECT_EQ(report.records, 2u);
  EXPECT_EQ(HexEncode(report.root), ValueAfter(params, "root"));
  // ...and the documented frame offsets hold.
  auto scan = ScanLog(*bytes).value();
  ASSERT_EQ(scan.frames.size(), 3u);
  EXPECT_EQ(std::to_string(scan.frames[1].offset), ValueAfter(params, "record 1 offset"));
  EXPECT_EQ(std::to_string(scan.frames[2].offset), ValueAfter(params, "checkpoint offset"));
}

}  // namespace
}  // namespace sigil::audit
