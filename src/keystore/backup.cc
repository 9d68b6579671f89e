#include "keystore/backup.h"

#include <algorithm>
#include <set>
#include <string>

#include "base/hex.h"
#include "base/status.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "keystore/binary_codec.h"
#include "keystore/key_info_codec.h"

namespace sigil::keystore {

// The one holder of BackupAccess: moves private keys in and out of the
// software keystore for the functions below.
class BackupCodec {
 public:
  static absl::StatusOr<std::vector<ExportedKey>> Export(SoftwareKeyStore& keystore) {
    return keystore.ExportKeys(BackupAccess());
  }
  static absl::Status Import(SoftwareKeyStore& keystore, const std::vector<ExportedKey>& keys) {
    return keystore.ImportExportedKeys(BackupAccess(), keys);
  }
};

namespace {

constexpr std::array<uint8_t, 8> kFileMagic = {'S', 'I', 'G', 'I', 'L', 'B', 'A', 'K'};
constexpr std::array<uint8_t, 4> kPayloadMagic = {'S', 'G', 'B', 'P'};
constexpr uint8_t kProtectionPassphrase = 1;
constexpr uint8_t kProtectionShares = 2;
constexpr std::string_view kCheckPlaintext = "sigil backup key check v1";
constexpr std::string_view kCheckDomain = "sigil-backup-check-v1";
constexpr std::string_view kCheckInfo = "sigil/backup/v1/check";
constexpr std::string_view kPayloadInfo = "sigil/backup/v1/payload";
// Restoring a file must not be a way to make Sigil allocate unbounded memory.
constexpr uint64_t kMaxArgon2MemLimit = 2ull << 30;
constexpr uint64_t kMaxArgon2OpsLimit = 32;
constexpr uint32_t kMaxKeyCount = 10'000'000;

struct Header {
  BackupSummary summary;
  crypto::Argon2Params argon2{};
  std::array<uint8_t, crypto::kArgon2SaltSize> salt{};
  std::vector<uint8_t> check;
};

struct ParsedFile {
  Header header;
  std::span<const uint8_t> header_bytes;  // the associated data
  std::span<const uint8_t> payload;       // nonce || ciphertext || tag
};

void WriteHeader(BinaryWriter& w, const Header& h) {
  w.Raw(kFileMagic);
  w.U16(kBackupFormatVersion);
  const bool shares = h.summary.protection == BackupProtection::kShares;
  w.U8(shares ? kProtectionShares : kProtectionPassphrase);
  w.Raw(h.summary.backup_id);
  w.I64(absl::ToUnixSeconds(h.summary.created_at));
  if (shares) {
    w.U8(static_cast<uint8_t>(h.summary.threshold));
    w.U8(static_cast<uint8_t>(h.summary.share_count));
  } else {
    w.U64(h.argon2.ops_limit);
    w.U64(h.argon2.mem_limit);
    w.Raw(h.salt);
  }
  w.U32(h.summary.key_count);
  w.Bytes8(h.check);
}

std::vector<uint8_t> EncodeHeader(const Header& h) {
  BinaryWriter counter;
  WriteHeader(counter, h);
  std::vector<uint8_t> out(counter.size());
  BinaryWriter w(out);
  WriteHeader(w, h);
  return out;
}

absl::Status NotABackup(const std::string& why) {
  return absl::InvalidArgumentError("not a Sigil backup file: " + why);
}

absl::StatusOr<ParsedFile> ParseFile(std::span<const uint8_t> file) {
  if (file.size() > kMaxBackupFileSize) {
    return NotABackup("it is larger than " + std::to_string(kMaxBackupFileSize) + " bytes");
  }
  BinaryReader r(file);
  std::span<const uint8_t> magic;
  if (!r.Raw(kFileMagic.size(), &magic) || !std::equal(magic.begin(), magic.end(), kFileMagic.begin())) {
    return NotABackup("it does not start with SIGILBAK");
  }
  uint16_t version = 0;
  if (!r.U16(&version)) return NotABackup("it is truncated");
  if (version != kBackupFormatVersion) {
    return absl::FailedPreconditionError("backup format version " + std::to_string(version) +
                                         " is not one this Sigil reads (it reads " +
                                         std::to_string(kBackupFormatVersion) + "); upgrade Sigil");
  }
  ParsedFile out;
  Header& h = out.header;
  uint8_t protection = 0;
  std::span<const uint8_t> id;
  int64_t created_at = 0;
  if (!r.U8(&protection) || !r.Raw(h.summary.backup_id.size(), &id) || !r.I64(&created_at)) {
    return NotABackup("it is truncated");
  }
  std::copy(id.begin(), id.end(), h.summary.backup_id.begin());
  h.summary.created_at = absl::FromUnixSeconds(created_at);
  if (protection == kProtectionShares) {
    h.summary.protection = BackupProtection::kShares;
    uint8_t m = 0, n = 0;
    if (!r.U8(&m) || !r.U8(&n)) return NotABackup("it is truncated");
    if (m < 2 || n < m) return NotABackup("its share threshold is malformed");
    h.summary.threshold = m;
    h.summary.share_count = n;
  } else if (protection == kProtectionPassphrase) {
    h.summary.protection = BackupProtection::kPassphrase;
    std::span<const uint8_t> salt;
    if (!r.U64(&h.argon2.ops_limit) || !r.U64(&h.argon2.mem_limit) || !r.Raw(h.salt.size(), &salt)) {
      return NotABackup("it is truncated");
    }
    std::copy(salt.begin(), salt.end(), h.salt.begin());
  } else {
    return NotABackup("its protection mode is unknown");
  }
  std::span<const uint8_t> check;
  if (!r.U32(&h.summary.key_count) || !r.Bytes8(&check)) return NotABackup("it is truncated");
  if (h.summary.key_count > kMaxKeyCount) return NotABackup("its key count is implausible");
  h.check.assign(check.begin(), check.end());
  out.header_bytes = file.first(r.position());
  if (!r.Bytes32(&out.payload)) {
    return absl::DataLossError("backup file is truncated: its encrypted payload is incomplete");
  }
  if (!r.AtEnd()) return absl::DataLossError("backup file has trailing bytes after its payload");
  return out;
}

struct Keys {
  SecretBytes check;
  SecretBytes payload;
};

absl::StatusOr<Keys> DeriveKeys(const SecretBytes& root, const BackupId& id) {
  Keys keys;
  ASSIGN_OR_RETURN(keys.check, crypto::HkdfSha256(root, id, kCheckInfo, crypto::kAeadKeySize));
  ASSIGN_OR_RETURN(keys.payload, crypto::HkdfSha256(root, id, kPayloadInfo, crypto::kAeadKeySize));
  return keys;
}

std::vector<uint8_t> CheckDomain(const BackupId& id) {
  BinaryWriter counter;
  counter.Raw(AsBytes(kCheckDomain));
  counter.Raw(id);
  std::vector<uint8_t> ad(counter.size());
  BinaryWriter w(ad);
  w.Raw(AsBytes(kCheckDomain));
  w.Raw(id);
  return ad;
}

void WritePayload(BinaryWriter& w, const std::vector<ExportedKey>& keys) {
  w.Raw(kPayloadMagic);
  w.U16(kBackupFormatVersion);
  w.U32(static_cast<uint32_t>(keys.size()));
  for (const ExportedKey& key : keys) {
    WriteKeyInfo(w, key.info);
    w.Bytes8(key.private_key.Reveal(SecretAccess::Get()));
  }
}

absl::Status CheckEnabled(const BackupOptions& options) {
  if (!options.enabled) {
    return absl::FailedPreconditionError(
        "backups are disabled by configuration (backup.enabled = false): no backup was written; an administrator "
        "must enable backups before key material can be exported");
  }
  return absl::OkStatus();
}

// Seals every key of `keystore` under `root` into a complete backup file.
absl::StatusOr<std::vector<uint8_t>> WriteBackup(SoftwareKeyStore& keystore, Header header,
                                                 const SecretBytes& root) {
  ASSIGN_OR_RETURN(std::vector<ExportedKey> keys, BackupCodec::Export(keystore));
  if (keys.size() > kMaxKeyCount) return absl::ResourceExhaustedError("too many keys for one backup file");
  header.summary.key_count = static_cast<uint32_t>(keys.size());
  ASSIGN_OR_RETURN(Keys k, DeriveKeys(root, header.summary.backup_id));
  ASSIGN_OR_RETURN(header.check,
                   crypto::AeadSeal(k.check, AsBytes(kCheckPlaintext), CheckDomain(header.summary.backup_id)));
  const std::vector<uint8_t> header_bytes = EncodeHeader(header);

  // The plaintext payload exists only in locked memory.
  BinaryWriter counter;
  WritePayload(counter, keys);
  SecretBytes payload = SecretBytes::Zeroed(counter.size());
  BinaryWriter w(payload.RevealMutable(SecretAccess::Get()));
  WritePayload(w, keys);
  if (!w.ok()) return absl::InternalError("backup payload did not fit its computed size");
  ASSIGN_OR_RETURN(std::vector<uint8_t> sealed,
                   crypto::AeadSeal(k.payload, payload.Reveal(SecretAccess::Get()), header_bytes));

  std::vector<uint8_t> file(header_bytes);
  const uint32_t n = static_cast<uint32_t>(sealed.size());
  for (int shift : {24, 16, 8, 0}) file.push_back(static_cast<uint8_t>(n >> shift));
  file.insert(file.end(), sealed.begin(), sealed.end());
  return file;
}

// Opens the payload with `root` and restores its keys into `target`.
absl::Status ReadBackup(const ParsedFile& parsed, const SecretBytes& root, std::string_view wrong_key,
                        absl::StatusCode wrong_key_code, SoftwareKeyStore& target) {
  const Header& h = parsed.header;
  ASSIGN_OR_RETURN(Keys k, DeriveKeys(root, h.summary.backup_id));
  auto check = crypto::AeadOpen(k.check, h.check, CheckDomain(h.summary.backup_id));
  if (!check.ok() || check->RevealText(SecretAccess::Get()) != kCheckPlaintext) {
    return absl::Status(wrong_key_code, std::string(wrong_key));
  }
  auto payload = crypto::AeadOpen(k.payload, parsed.payload, parsed.header_bytes);
  if (!payload.ok()) {
    return absl::DataLossError(
        "backup file failed authentication: it was altered or damaged after it was written; nothing was restored");
  }
  BinaryReader r(payload->Reveal(SecretAccess::Get()));
  std::span<const uint8_t> magic;
  uint16_t version = 0;
  uint32_t count = 0;
  if (!r.Raw(kPayloadMagic.size(), &magic) || !std::equal(magic.begin(), magic.end(), kPayloadMagic.begin()) ||
      !r.U16(&version) || version != kBackupFormatVersion || !r.U32(&count) || count != h.summary.key_count) {
    return absl::DataLossError("backup payload is malformed (authenticated, so written by a faulty Sigil)");
  }
  std::vector<ExportedKey> keys;
  keys.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    ExportedKey key;
    std::string why;
    std::span<const uint8_t> private_key;
    if (!ReadKeyInfo(r, &key.info, &why) || !r.Bytes8(&private_key)) {
      return absl::DataLossError("backup payload entry " + std::to_string(i) + " is malformed: " +
                                 (why.empty() ? "it is truncated" : why));
    }
    key.private_key = SecretBytes::CopyFrom(private_key);
    keys.push_back(std::move(key));
  }
  if (!r.AtEnd()) return absl::DataLossError("backup payload has trailing bytes");
  return BackupCodec::Import(target, keys);
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> CreateBackup(SoftwareKeyStore& keystore, const SecretBytes& passphrase,
                                                  const BackupOptions& options) {
  RETURN_IF_ERROR(CheckEnabled(options));
  if (passphrase.size() < kMinBackupPassphraseSize) {
    return absl::InvalidArgumentError("the backup passphrase must be at least " +
                                      std::to_string(kMinBackupPassphraseSize) + " characters");
  }
  const Clock& clock = options.clock != nullptr ? *options.clock : RealClock::Instance();
  Header header;
  header.summary.protection = BackupProtection::kPassphrase;
  crypto::RandomBytes(header.summary.backup_id);
  header.summary.created_at = absl::FromUnixSeconds(clock.NowUnixSeconds());
  header.argon2 = options.argon2;
  crypto::RandomBytes(header.salt);
  ASSIGN_OR_RETURN(SecretBytes root, crypto::Argon2id(passphrase, header.salt, header.argon2, 32));
  return WriteBackup(keystore, std::move(header), root);
}

absl::StatusOr<SharedBackup> CreateSharedBackup(SoftwareKeyStore& keystore, int threshold, int count,
                                                const BackupOptions& options) {
  RETURN_IF_ERROR(CheckEnabled(options));
  if (threshold < 2 || count < threshold || count > kMaxShares) {
    return absl::InvalidArgumentError("shares must be M of N with 2 <= M <= N <= 255 (got " +
                                      std::to_string(threshold) + " of " + std::to_string(count) + ")");
  }
  const Clock& clock = options.clock != nullptr ? *options.clock : RealClock::Instance();
  Header header;
  header.summary.protection = BackupProtection::kShares;
  crypto::RandomBytes(header.summary.backup_id);
  header.summary.created_at = absl::FromUnixSeconds(clock.NowUnixSeconds());
  header.summary.threshold = threshold;
  header.summary.share_count = count;
  SecretBytes root = crypto::RandomSecret(32);
  ASSIGN_OR_RETURN(std::vector<SecretShare> pieces, ShamirSplit(root, threshold, count));
  SharedBackup out;
  ASSIGN_OR_RETURN(out.file, WriteBackup(keystore, header, root));
  ASSIGN_OR_RETURN(out.summary, InspectBackup(out.file));
  for (SecretShare& piece : pieces) {
    BackupShare share;
    share.backup_id = header.summary.backup_id;
    share.threshold = threshold;
    share.count = count;
    share.share = std::move(piece);
    out.shares.push_back(EncodeBackupShare(share));
  }
  return out;
}

absl::StatusOr<BackupSummary> InspectBackup(std::span<const uint8_t> file) {
  ASSIGN_OR_RETURN(ParsedFile parsed, ParseFile(file));
  return parsed.header.summary;
}

absl::StatusOr<BackupSummary> RestoreBackup(std::span<const uint8_t> file, const SecretBytes& passphrase,
                                            SoftwareKeyStore& target) {
  ASSIGN_OR_RETURN(ParsedFile parsed, ParseFile(file));
  const Header& h = parsed.header;
  if (h.summary.protection != BackupProtection::kPassphrase) {
    return absl::FailedPreconditionError("this backup is protected by " + std::to_string(h.summary.threshold) +
                                         "-of-" + std::to_string(h.summary.share_count) +
                                         " share files, not a passphrase; restore it with its share files");
  }
  if (h.argon2.mem_limit > kMaxArgon2MemLimit || h.argon2.ops_limit > kMaxArgon2OpsLimit) {
    return absl::InvalidArgumentError("the backup asks for Argon2id parameters beyond Sigil's limits (at most " +
                                      std::to_string(kMaxArgon2OpsLimit) + " passes and " +
                                      std::to_string(kMaxArgon2MemLimit >> 20) + " MiB); refusing to restore it");
  }
  ASSIGN_OR_RETURN(SecretBytes root, crypto::Argon2id(passphrase, h.salt, h.argon2, 32));
  RETURN_IF_ERROR(ReadBackup(parsed, root, "wrong backup passphrase (or an altered backup header): it does not open this backup; nothing was restored",
                             absl::StatusCode::kPermissionDenied, target));
  return h.summary;
}

absl::StatusOr<BackupSummary> RestoreSharedBackup(std::span<const uint8_t> file,
                                                  std::span<const SecretBytes> share_files,
                                                  SoftwareKeyStore& target) {
  ASSIGN_OR_RETURN(ParsedFile parsed, ParseFile(file));
  const Header& h = parsed.header;
  if (h.summary.protection != BackupProtection::kShares) {
    return absl::FailedPreconditionError("this backup is protected by a passphrase, not share files");
  }
  const std::string needs = std::to_string(h.summary.threshold) + " of " + std::to_string(h.summary.share_count);
  const std::string this_backup = HexEncode(h.summary.backup_id);
  std::vector<SecretShare> pieces;
  std::set<int> indices;
  for (size_t i = 0; i < share_files.size(); ++i) {
    const std::string which = "share file #" + std::to_string(i + 1);
    auto share = DecodeBackupShare(share_files[i]);
    if (!share.ok()) return absl::Status(share.status().code(), which + ": " + std::string(share.status().message()));
    if (share->backup_id != h.summary.backup_id) {
      return absl::InvalidArgumentError(which + " belongs to another backup (" + HexEncode(share->backup_id) +
                                        "), not to this one (" + this_backup + "); shares of different backups "
                                        "cannot be combined");
    }
    if (share->threshold != h.summary.threshold || share->count != h.summary.share_count) {
      return absl::InvalidArgumentError(which + " says " + std::to_string(share->threshold) + " of " +
                                        std::to_string(share->count) + ", but this backup needs " + needs);
    }
    if (!indices.insert(share->share.index).second) {
      return absl::InvalidArgumentError(which + " repeats share " + std::to_string(share->share.index) +
                                        "; give " + std::to_string(h.summary.threshold) + " different shares");
    }
    pieces.push_back(std::move(share->share));
  }
  if (static_cast<int>(pieces.size()) < h.summary.threshold) {
    return absl::FailedPreconditionError(std::to_string(pieces.size()) + " share file" +
                                         (pieces.size() == 1 ? "" : "s") + " given, but this backup needs " + needs +
                                         " to restore; nothing was restored");
  }
  ASSIGN_OR_RETURN(SecretBytes root, ShamirCombine(pieces));
  RETURN_IF_ERROR(ReadBackup(parsed, root,
                             "the share files do not reconstruct this backup's key (a share was altered); nothing "
                             "was restored",
                             absl::StatusCode::kDataLoss, target));
  return h.summary;
}

}  // namespace sigil::keystore
