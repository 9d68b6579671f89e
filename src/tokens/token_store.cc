#include "tokens/token_store.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "base/hex.h"
#include "base/status.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "nlohmann/json.hpp"

namespace sigil::tokens {
namespace {

using json = nlohmann::json;

constexpr uint8_t kRowFormatV1 = 0x01;
constexpr int kRowVersion = 1;
constexpr size_t kIdHexSize = 16;
constexpr size_t kSecretHexSize = 64;
constexpr char kIdPrefix[] = "tok_";
constexpr char kPepperInfo[] = "sigil/tokens/pepper/v1";

// A row key is printed in errors; a tampered database may hold any bytes.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

std::string AssociatedData(std::string_view key) { return std::string(kTokensTable) + ":" + std::string(key); }

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsTokenId(std::string_view s) {
  return s.size() == 4 + kIdHexSize && s.substr(0, 4) == kIdPrefix && IsLowerHex(s.substr(4));
}

absl::Status ValidateName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameSize) {
    return absl::InvalidArgumentError("token name must be 1 to 64 characters");
  }
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '@' || c == '-';
  };
  if (!std::all_of(name.begin(), name.end(), ok)) {
    return absl::InvalidArgumentError("token name may contain only letters, digits and . _ @ -");
  }
  const char first = name[0];
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || (first >= '0' && first <= '9'))) {
    return absl::InvalidArgumentError("token name must start with a letter or digit");
  }
  if (name.find('_') != std::string_view::npos && name.substr(0, 4) == kIdPrefix) {
    return absl::InvalidArgumentError("token name must not look like a token id (tok_...)");
  }
  return absl::OkStatus();
}

absl::Status ValidateKeys(const TokenSpec& spec) {
  if (spec.keys.size() > kMaxKeysPerToken) return absl::InvalidArgumentError("a token may name at most 256 keys");
  if (!spec.keys.empty() && spec.role != Role::kAgent && spec.role != Role::kAdmin) {
    return absl::InvalidArgumentError("only agent and admin tokens are bound to keys");
  }
  for (const std::string& k : spec.keys) {
    if (k.empty() || k.size() > kMaxKeyNameSize) {
      return absl::InvalidArgumentError("key names must be 1 to 128 characters");
    }
    for (char c : k) {
      if (c <= 0x20 || c >= 0x7f || c == ',') {
        return absl::InvalidArgumentError("key name '" + Printable(k) +
                                          "' must be printable ASCII without spaces or commas");
      }
    }
  }
  return absl::OkStatus();
}

std::optional<int64_t> ToMillis(absl::Time t) {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return std::nullopt;
  return absl::ToUnixMillis(t);
}

json TimeJson(absl::Time t) {
  auto ms = ToMillis(t);
  return ms ? json(*ms) : json(nullptr);
}

absl::Time TimeFromJson(const json& j, absl::Time if_null) {
  if (j.is_null()) return if_null;
  return absl::FromUnixMillis(j.get<int64_t>());
}

absl::StatusOr<store::Bytes> SealValue(const SecretBytes& key, std::string_view ad, std::span<const uint8_t> plain) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> sealed, crypto::AeadSeal(key, plain, AsBytes(ad)));
  store::Bytes out;
  out.reserve(sealed.size() + 1);
  out.push_back(kRowFormatV1);
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

absl::StatusOr<SecretBytes> OpenValue(const SecretBytes& key, std::string_view ad, std::span<const uint8_t> value,
                                 const std::string& what) {
  if (value.empty() || value[0] != kRowFormatV1) {
    return absl::DataLossError(what + " has an unknown format (expected version 1)");
  }
  auto opened = crypto::AeadOpen(key, value.subspan(1), AsBytes(ad));
  if (!opened.ok()) return absl::DataLossError(what + " failed authentication");
  return std::move(opened).value();
}

std::string RowName(std::string_view id) { return "token row '" + Printable(id) + "'"; }

}  // namespace

struct TokenStore::Row {
  Principal p;
  crypto::Hash256 hash{};
  absl::Time revoked_at = absl::InfinitePast();  // InfinitePast = not revoked
  store::Bytes totp_sealed;                      // empty = not enrolled
  int64_t totp_last_step = -1;
  int totp_failures = 0;
  absl::Time totp_locked_until = absl::InfinitePast();

  bool revoked() const { return revoked_at != absl::InfinitePast(); }
  bool expired(absl::Time now) const { return now >= p.expires; }
};

bool Principal::MayUseKey(std::string_view key) const {
  const bool listed = std::find(keys.begin(), keys.end(), key) != keys.end();
  switch (role) {
    case Role::kAgent:
      return listed;
    case Role::kAdmin:
      return keys.empty() || listed;
    default:
      return false;
  }
}

TokenStore::TokenStore(store::Store& store, SecretBytes state_key, SecretBytes pepper, const Clock& clock,
                       const TokenStoreOptions& options)
    : store_(store), state_key_(std::move(state_key)), pepper_(std::move(pepper)), clock_(clock), options_(options) {}

TokenStore::~TokenStore() = default;

absl::StatusOr<std::unique_ptr<TokenStore>> TokenStore::Open(store::Store& store, SecretBytes state_key,
                                                             const Clock& clock, const TokenStoreOptions& options) {
  if (state_key.size() != crypto::kAeadKeySize) {
    return absl::InvalidArgumentError("token store state key must be 32 bytes");
  }
  ASSIGN_OR_RETURN(SecretBytes pepper, crypto::HkdfSha256(state_key, {}, kPepperInfo, 32));
  std::unique_ptr<TokenStore> ts(new TokenStore(store, std::move(state_key), std::move(pepper), clock, options));
  // Fail closed at start-up: every row must authenticate.
  RETURN_IF_ERROR(ts->ReadAll(nullptr).status());
  return ts;
}

absl::StatusOr<TokenStore::Row> TokenStore::ParseRow(std::string_view id, std::span<const uint8_t> value) const {
  const std::string what = RowName(id);
  ASSIGN_OR_RETURN(SecretBytes plain, OpenValue(state_key_, AssociatedData(id), value, what));
  try {
    json j = json::parse(plain.RevealText(SecretAccess::Get()));
    if (j.at("v").get<int>() != kRowVersion) return absl::DataLossError(what + " has an unsupported version");
    Row row;
    row.p.id = j.at("id").get<std::string>();
    if (row.p.id != id) return absl::DataLossError(what + " holds a different id");
    row.p.name = j.at("name").get<std::string>();
    auto role = ParseRole(j.at("role").get<std::string>());
    if (!role) return absl::DataLossError(what + " has an unknown role");
    row.p.role = *role;
    row.p.keys = j.at("keys").get<std::vector<std::string>>();
    row.p.created = absl::FromUnixMillis(j.at("created_ms").get<int64_t>());
    row.p.expires = TimeFromJson(j.at("expires_ms"), absl::InfiniteFuture());
    if (auto r = j.find("rate"); r != j.end() && !r->is_null()) {
      TokenRate rate{r->at("count").get<uint64_t>(), absl::Milliseconds(r->at("per_ms").get<int64_t>())};
      if (rate.count == 0 || rate.per <= absl::ZeroDuration()) return absl::DataLossError(what + " has a bad rate");
      row.p.rate = rate;
    }
    ASSIGN_OR_RETURN(Bytes hash, HexDecode(j.at("hash").get<std::string>()));
    if (hash.size() != row.hash.size()) return absl::DataLossError(what + " has a bad token hash");
    std::copy(hash.begin(), hash.end(), row.hash.begin());
    row.revoked_at = TimeFromJson(j.at("revoked_ms"), absl::InfinitePast());
    const json& totp = j.at("totp");
    if (!totp.is_null()) {
      ASSIGN_OR_RETURN(row.totp_sealed, HexDecode(totp.at("sealed").get<std::string>()));
      row.totp_last_step = totp.at("last_step").get<int64_t>();
      row.totp_failures = totp.at("failures").get<int>();
      row.totp_locked_until = TimeFromJson(totp.at("locked_until_ms"), absl::InfinitePast());
    }
    return row;
  } catch (const json::exception&) {
    return absl::DataLossError(what + " is not a valid token record");
  }
}

absl::Status TokenStore::WriteRow(store::Transaction& txn, const Row& row) const {
  json j = {
      {"v", kRowVersion},
      {"id", row.p.id},
      {"name", row.p.name},
      {"role", std::string(RoleName(row.p.role))},
      {"keys", row.p.keys},
      {"created_ms", absl::ToUnixMillis(row.p.created)},
      {"expires_ms", TimeJson(row.p.expires)},
      {"hash", HexEncode(row.hash)},
      {"revoked_ms", TimeJson(row.revoked_at)},
      {"totp", nullptr},
  };
  if (row.p.rate) j["rate"] = {{"count", row.p.rate->count}, {"per_ms", absl::ToInt64Milliseconds(row.p.rate->per)}};
  if (!row.totp_sealed.empty()) {
    j["totp"] = {{"sealed", HexEncode(row.totp_sealed)},
                 {"last_step", row.totp_last_step},
                 {"failures", row.totp_failures},
                 {"locked_until_ms", TimeJson(row.totp_locked_until)}};
  }
  const std::string text = j.dump();
  ASSIGN_OR_RETURN(store::Bytes value, SealValue(state_key_, AssociatedData(row.p.id), AsBytes(text)));
  return txn.Put(kTokensTable, row.p.id, value);
}

absl::StatusOr<TokenStore::Row> TokenStore::ReadRow(store::Transaction* txn, std::string_view id) const {
  absl::StatusOr<std::optional<store::Bytes>> value = txn ? txn->Get(kTokensTable, id) : store_.Get(kTokensTable, id);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return absl::NotFoundError("no token with id " + Printable(id));
  return ParseRow(id, **value);
}

absl::StatusOr<std::vector<TokenStore::Row>> TokenStore::ReadAll(store::Transaction* txn) const {
  store::ScanOptions all;
  absl::StatusOr<std::vector<store::Entry>> entries = txn ? txn->Scan(kTokensTable, all) : store_.Scan(kTokensTable, all);
  if (!entries.ok()) return entries.status();
  std::vector<Row> rows;
  rows.reserve(entries->size());
  for (const store::Entry& e : *entries) {
    ASSIGN_OR_RETURN(Row row, ParseRow(e.key, e.value));
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<TokenStore::Row> TokenStore::FindLive(store::Transaction* txn, std::string_view name) const {
  ASSIGN_OR_RETURN(std::vector<Row> rows, ReadAll(txn));
  const absl::Time now = clock_.Now();
  for (Row& row : rows) {
    if (row.p.name == name && !row.revoked() && !row.expired(now)) return std::move(row);
  }
  return absl::NotFoundError("no live token named '" + Printable(name) + "'");
}

absl::StatusOr<IssuedToken> TokenStore::Create(const TokenSpec& spec) {
  const absl::Time now = clock_.Now();
  if (!spec.name.empty()) RETURN_IF_ERROR(ValidateName(spec.name));
  RETURN_IF_ERROR(ValidateKeys(spec));
  if (spec.expires <= now) return absl::InvalidArgumentError("token expiry must be in the future");
  if (spec.rate) {
    // Round-trip through the text form: the one place the bounds live.
    auto checked = ParseTokenRate(TokenRateText(*spec.rate));
    if (!checked.ok() || !(*checked == *spec.rate)) {
      return absl::InvalidArgumentError("token rate must be 1..1000000 requests per 1s..1d in whole seconds");
    }
  }

  // The token: "sgl_" + hex(id 8 bytes) + hex(secret 32 bytes), built in
  // locked memory. The id is public; only the 32 secret bytes matter.
  std::array<uint8_t, kIdHexSize / 2> id_bytes{};
  crypto::RandomBytes(id_bytes);
  const std::string id_hex = HexEncode(id_bytes);
  SecretBytes secret = crypto::RandomSecret(kSecretHexSize / 2);
  SecretBytes token = SecretBytes::Zeroed(kTokenSize);
  {
    static constexpr char kHex[] = "0123456789abcdef";
    auto out = token.RevealMutable(SecretAccess::Get());
    size_t o = 0;
    for (char c : std::string_view(kTokenPrefix)) out[o++] = static_cast<uint8_t>(c);
    for (char c : id_hex) out[o++] = static_cast<uint8_t>(c);
    for (uint8_t b : secret.Reveal(SecretAccess::Get())) {
      out[o++] = static_cast<uint8_t>(kHex[b >> 4]);
      out[o++] = static_cast<uint8_t>(kHex[b & 0xf]);
    }
  }

  Row row;
  row.p.id = kIdPrefix + id_hex;
  row.p.name = spec.name.empty() ? std::string(RoleName(spec.role)) + "-" + id_hex.substr(0, 8) : spec.name;
  row.p.role = spec.role;
  row.p.keys = spec.keys;
  row.p.rate = spec.rate;
  row.p.created = absl::FromUnixMillis(absl::ToUnixMillis(now));  // stored at millisecond precision
  row.p.expires = spec.expires == absl::InfiniteFuture() ? spec.expires
                                                         : absl::FromUnixMillis(absl::ToUnixMillis(spec.expires));
  row.hash = crypto::HmacSha256(pepper_.Reveal(SecretAccess::Get()), token.Reveal(SecretAccess::Get()));

  absl::MutexLock lock(&mu_);
  // Also after a failed transaction: a commit can fail after it took effect.
  absl::Cleanup forget = [this] { ForgetRows(); };
  RETURN_IF_ERROR(store_.RunTransaction([&](store::Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<Row> rows, ReadAll(&txn));
    for (const Row& other : rows) {
      if (other.p.id == row.p.id) return absl::AlreadyExistsError("token id collision; try again");
      if (other.p.name == row.p.name && !other.revoked() && !other.expired(now)) {
        return absl::AlreadyExistsError("a live token named '" + row.p.name +
                                        "' already exists; revoke it first or pick another name");
      }
    }
    return WriteRow(txn, row);
  }));
  return IssuedToken{row.p, std::move(token)};
}

absl::StatusOr<Principal> TokenStore::Authenticate(std::string_view token) const {
  static const absl::Status kInvalid = absl::UnauthenticatedError("invalid token");
  const size_t prefix = std::string_view(kTokenPrefix).size();
  const bool well_formed =
      token.size() == kTokenSize && token.substr(0, prefix) == kTokenPrefix && IsLowerHex(token.substr(prefix));
  if (!well_formed) return kInvalid;
  const std::string id = kIdPrefix + std::string(token.substr(prefix, kIdHexSize));
  const crypto::Hash256 presented = crypto::HmacSha256(pepper_.Reveal(SecretAccess::Get()), AsBytes(token));

  absl::StatusOr<std::shared_ptr<const CachedRow>> row = AuthRow(id);
  if (!row.ok() && !absl::IsNotFound(row.status())) return row.status();
  // An unknown id is compared against a zero hash so both paths do the same
  // work; the presented HMAC is never all zero in practice.
  const crypto::Hash256 expected = row.ok() ? (*row)->hash : crypto::Hash256{};
  const bool match = ConstantTimeEquals(presented, expected);
  if (!row.ok() || !match) return kInvalid;
  if ((*row)->revoked) return absl::UnauthenticatedError("token revoked");
  if (clock_.Now() >= (*row)->principal.expires) return absl::UnauthenticatedError("token expired");
  return (*row)->principal;
}

absl::StatusOr<std::shared_ptr<const TokenStore::CachedRow>> TokenStore::AuthRow(const std::string& id) const {
  const absl::Duration max_age = options_.row_cache_max_age;
  const bool caching = max_age > absl::ZeroDuration() && options_.row_cache_size > 0;
  const absl::Time now = clock_.Now();
  uint64_t generation = 0;
  if (caching) {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(id);
    // A clock that went back does not extend an entry's life.
    if (it != cache_.end() && now >= it->second->read_at && now - it->second->read_at < max_age) return it->second;
    generation = cache_generation_;
  }
  ASSIGN_OR_RETURN(Row row, ReadRow(nullptr, id));
  auto cached = std::make_shared<CachedRow>();
  cached->hash = row.hash;
  cached->principal = std::move(row.p);
  cached->revoked = row.revoked();
  cached->read_at = now;
  if (caching) {
    absl::MutexLock lock(&cache_mu_);
    // Not cached if a change finished while the row was read: it may predate it.
    if (generation == cache_generation_) {
      if (cache_.size() >= options_.row_cache_size) cache_.clear();
      cache_[id] = cached;
    }
  }
  return cached;
}

void TokenStore::ForgetRows() const {
  absl::MutexLock lock(&cache_mu_);
  cache_.clear();
  ++cache_generation_;
}

absl::StatusOr<std::vector<std::string>> TokenStore::Revoke(std::string_view name_or_id) {
  const absl::Time now = clock_.Now();
  std::vector<std::string> revoked;
  absl::MutexLock lock(&mu_);
  absl::Cleanup forget = [this] { ForgetRows(); };
  RETURN_IF_ERROR(store_.RunTransaction([&](store::Transaction& txn) -> absl::Status {
    revoked.clear();
    ASSIGN_OR_RETURN(std::vector<Row> rows, ReadAll(&txn));
    const bool by_id = IsTokenId(name_or_id);
    for (Row& row : rows) {
      const bool selected = by_id ? row.p.id == name_or_id : row.p.name == name_or_id;
      if (!selected || row.revoked()) continue;
      // By name only live tokens; an expired token can still be revoked by id.
      if (!by_id && row.expired(now)) continue;
      row.revoked_at = absl::FromUnixMillis(absl::ToUnixMillis(now));
      RETURN_IF_ERROR(WriteRow(txn, row));
      revoked.push_back(row.p.id);
    }
    if (revoked.empty()) {
      return absl::NotFoundError("no unrevoked token with id or name '" + Printable(name_or_id) + "'");
    }
    return absl::OkStatus();
  }));
  return revoked;
}

absl::StatusOr<std::vector<TokenInfo>> TokenStore::List() const {
  ASSIGN_OR_RETURN(std::vector<Row> rows, ReadAll(nullptr));
  const absl::Time now = clock_.Now();
  std::vector<TokenInfo> out;
  out.reserve(rows.size());
  for (Row& row : rows) {
    TokenInfo info;
    info.revoked = row.revoked();
    info.revoked_at = row.revoked_at;
    info.expired = row.expired(now);
    info.totp_enrolled = !row.totp_sealed.empty();
    info.principal = std::move(row.p);
    out.push_back(std::move(info));
  }
  return out;
}

absl::Status TokenStore::EnrolTotp(std::string_view name, const SecretBytes& secret) {
  if (secret.size() < 16 || secret.size() > 64) {
    return absl::InvalidArgumentError("TOTP secret must be between 16 and 64 bytes");
  }
  absl::MutexLock lock(&mu_);
  absl::Cleanup forget = [this] { ForgetRows(); };
  return store_.RunTransaction([&](store::Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(Row row, FindLive(&txn, name));
    if (row.p.role != Role::kAdmin && row.p.role != Role::kApprover) {
      return absl::FailedPreconditionError("only admin and approver principals enrol a second factor; '" +
                                           row.p.name + "' is " + std::string(RoleName(row.p.role)));
    }
    ASSIGN_OR_RETURN(row.totp_sealed,
                     SealValue(state_key_, AssociatedData(row.p.id) + ":totp", secret.Reveal(SecretAccess::Get())));
    row.totp_last_step = -1;
    row.totp_failures = 0;
    row.totp_locked_until = absl::InfinitePast();
    return WriteRow(txn, row);
  });
}

absl::StatusOr<bool> TokenStore::HasTotp(std::string_view name) const {
  ASSIGN_OR_RETURN(Row row, FindLive(nullptr, name));
  return !row.totp_sealed.empty();
}

absl::Status TokenStore::CheckTotp(std::string_view name, TotpCheck check) {
  const absl::Time now = clock_.Now();
  // The verdict is kept outside the transaction: a wrong code must still
  // commit the failure counter, so the transaction itself succeeds.
  absl::Status verdict;
  absl::MutexLock lock(&mu_);
  absl::Cleanup forget = [this] { ForgetRows(); };
  RETURN_IF_ERROR(store_.RunTransaction([&](store::Transaction& txn) -> absl::Status {
    verdict = absl::OkStatus();
    absl::StatusOr<Row> found = FindLive(&txn, name);
    if (absl::IsNotFound(found.status())) {
      verdict = absl::PermissionDeniedError("'" + Printable(name) + "' has no second factor enrolled");
      return absl::OkStatus();
    }
    if (!found.ok()) return found.status();
    Row& row = *found;
    if (row.totp_sealed.empty()) {
      verdict = absl::PermissionDeniedError("'" + row.p.name + "' has no second factor enrolled");
      return absl::OkStatus();
    }
    if (now < row.totp_locked_until) {
      verdict = absl::PermissionDeniedError("too many wrong TOTP codes for '" + row.p.name + "'; try again after " +
                                            absl::FormatTime(absl::RFC3339_sec, row.totp_locked_until,
                                                             absl::UTCTimeZone()));
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(SecretBytes secret, OpenValue(state_key_, AssociatedData(row.p.id) + ":totp",
                                                      row.totp_sealed, "TOTP secret of " + RowName(row.p.id)));
    absl::StatusOr<int64_t> step = check(secret, row.totp_last_step);
    if (step.ok()) {
      row.totp_last_step = *step;
      row.totp_failures = 0;
    } else {
      verdict = step.status();
      if (++row.totp_failures >= kTotpMaxFailures) {
        row.totp_failures = 0;
        row.totp_locked_until = absl::FromUnixMillis(absl::ToUnixMillis(now + kTotpLockout));
      }
    }
    return WriteRow(txn, row);
  }));
  return verdict;
}

}  // namespace sigil::tokens
