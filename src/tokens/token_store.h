// TokenStore: bearer tokens that authenticate principals (admin, operator,
// approver, auditor, agent), persisted in a Store, sealed at rest.
//
// A token is "sgl_" + 16 hex (the token id) + 64 hex (32 random bytes): 84
// ASCII characters, returned once by Create in SecretBytes and never stored.
// The store keeps, per token, HMAC-SHA256(pepper, token) where the pepper is
// HKDF-SHA256(state key, info "sigil/tokens/pepper/v1"); so neither the
// database nor a backup of it can be used to authenticate, and nothing
// stored can be brute-forced without the state key.
//
// Security contract:
//  * Authenticate looks the row up by the id embedded in the token and then
//    compares the HMAC in constant time; an unknown id costs the same HMAC
//    and comparison, so the comparison is no timing oracle for the secret.
//  * Every row (table "tokens", key = token id) is
//    0x01 || XChaCha20-Poly1305(state key, JSON, ad = "tokens:" + id); a row
//    altered, or moved under another id, fails to open with DataLoss naming
//    the row ("token row 'tok_...' failed authentication"). Open checks every
//    row. Deleting or rolling back a row is not detected here (see
//    doc/tokens.md).
//  * The TOTP secret of an approver or admin lives in its token row, sealed a
//    second time (ad = "tokens:" + id + ":totp"), with the last used time
//    step (replay protection) and a wrong-code counter: 5 wrong codes in a
//    row lock the second factor for 5 minutes.
//  * Authenticate serves a row it read and authenticated from memory for at
//    most options.row_cache_max_age (default 1 s), keyed by token id; the
//    presented token's HMAC is still compared in constant time and expiry
//    still checked against the clock on every call. Revoke, Create,
//    EnrolTotp and CheckTotp in this process drop every cached row when they
//    finish, and a read that overlapped one of them is never cached, so a
//    revocation here takes effect at once. A revocation by another process
//    sharing the database, or a row tampered with on disk, is seen at the
//    first read after that age. row_cache_max_age = 0 reads the Store on
//    every call.
//  * Names are unique among live (not revoked, not expired) tokens, so a name
//    identifies one principal; approvals and lockdown compare names.
//
// Thread-safety: thread-safe; mutations are serialised by a mutex and each
// runs in one Store transaction.
// Ownership: borrows `store` and `clock`, which must outlive the TokenStore.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/secret.h"
#include "crypto/hash.h"
#include "store/store.h"
#include "tokens/role.h"
#include "tokens/token_rate.h"

namespace sigil::tokens {

inline constexpr char kTokensTable[] = "tokens";
inline constexpr char kTokenPrefix[] = "sgl_";
inline constexpr size_t kTokenSize = 84;  // "sgl_" + 16 hex id + 64 hex secret
inline constexpr size_t kMaxNameSize = 64;
inline constexpr size_t kMaxKeyNameSize = 128;
inline constexpr size_t kMaxKeysPerToken = 256;
inline constexpr int kTotpMaxFailures = 5;
inline constexpr absl::Duration kTotpLockout = absl::Minutes(5);

// Who a token authenticates.
struct Principal {
  std::string id;                 // "tok_" + 16 hex; public, shown by List
  std::string name;               // unique among live tokens
  Role role = Role::kAgent;
  std::vector<std::string> keys;  // key names this principal may use (see MayUseKey)
  absl::Time created;
  absl::Time expires = absl::InfiniteFuture();
  // This token's own request rate; nullopt = the daemon's default for the role.
  std::optional<TokenRate> rate;

  // agent: `key` is in keys. admin: keys is empty (all keys) or contains
  // `key`. Other roles never use keys to sign.
  bool MayUseKey(std::string_view key) const;
  bool Can(Permission permission) const { return Allows(role, permission); }
};

struct TokenSpec {
  Role role = Role::kAgent;
  // 1..64 of [A-Za-z0-9._@-], starting with a letter or digit. Empty: a name
  // is made up as "<role>-<first 8 hex of the id>".
  std::string name;
  // Key names (1..128 printable ASCII, no spaces or commas), at most 256.
  // Agents: the keys the agent may use; empty = none. Admin: empty = all.
  // Must be empty for operator, approver and auditor.
  std::vector<std::string> keys;
  // absl::InfiniteFuture() = never expires. Must be in the future.
  absl::Time expires = absl::InfiniteFuture();
  // Optional request rate (see tokens/token_rate.h); validated by Create.
  std::optional<TokenRate> rate;
};

struct IssuedToken {
  Principal principal;
  SecretBytes token;  // the bearer token, shown once; never stored
};

// What List shows: never the token.
struct TokenInfo {
  Principal principal;
  bool revoked = false;
  absl::Time revoked_at = absl::InfinitePast();  // when revoked
  bool expired = false;                           // at the time of the List
  bool totp_enrolled = false;
};

// Verifies a TOTP code given the principal's secret and last used step;
// returns the matched step (policy::VerifyTotp bound to the code and time).
// Must be pure: it may be called more than once.
using TotpCheck = absl::FunctionRef<absl::StatusOr<int64_t>(const SecretBytes& secret, int64_t last_used_step)>;

struct TokenStoreOptions {
  // How long Authenticate may serve a row from memory; ZeroDuration() = never.
  absl::Duration row_cache_max_age = absl::Seconds(1);
  // Upper bound on cached rows; when reached the cache is emptied.
  size_t row_cache_size = 10000;
};

class TokenStore {
 public:
  // `state_key`: 32 bytes, derived by the core from the master key. Reads and
  // authenticates every stored row. InvalidArgument for a bad key size;
  // DataLoss naming the row for a row that fails authentication or parsing;
  // Unavailable when the store cannot be read.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TokenStore>> Open(store::Store& store, SecretBytes state_key,
                                                                        const Clock& clock,
                                                                        const TokenStoreOptions& options = {});
  ~TokenStore();
  TokenStore(const TokenStore&) = delete;
  TokenStore& operator=(const TokenStore&) = delete;

  // Issues a token. InvalidArgument for a bad name, keys or expiry;
  // AlreadyExists when a live token has the name.
  [[nodiscard]] absl::StatusOr<IssuedToken> Create(const TokenSpec& spec);

  // The principal the bearer token belongs to. Unauthenticated with
  // "invalid token" for anything malformed or unknown, "token expired",
  // "token revoked"; DataLoss if its row fails authentication.
  [[nodiscard]] absl::StatusOr<Principal> Authenticate(std::string_view token) const;

  // Revokes the token with this id ("tok_...") or every live token with this
  // name. Returns the ids revoked. NotFound when nothing live matches.
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> Revoke(std::string_view name_or_id);

  // Every token, ordered by id; revoked and expired ones included, marked.
  [[nodiscard]] absl::StatusOr<std::vector<TokenInfo>> List() const;

  // Enrols (or replaces) the TOTP secret of the live token named `name`; the
  // last used step and failure counter are reset. Only admin and approver
  // principals hold a second factor (FailedPrecondition otherwise); NotFound
  // if no live token has the name. The caller makes the secret and its URI
  // (policy::NewTotpSecret / TotpProvisioningUri) and shows the URI once.
  [[nodiscard]] absl::Status EnrolTotp(std::string_view name, const SecretBytes& secret);

  // True if the live token named `name` has a TOTP secret. NotFound if none.
  [[nodiscard]] absl::StatusOr<bool> HasTotp(std::string_view name) const;

  // Checks a code of the live principal `name`: lends its TOTP secret and last
  // used step to `check`, stores the step `check` returns as the new last
  // used step, or counts a failure. FailedPrecondition if the principal has no
  // TOTP enrolled; PermissionDenied while locked out after too many wrong
  // codes; otherwise `check`'s error.
  [[nodiscard]] absl::Status CheckTotp(std::string_view name, TotpCheck check);

 private:
  struct Row;
  TokenStore(store::Store& store, SecretBytes state_key, SecretBytes pepper, const Clock& clock,
             const TokenStoreOptions& options);
  // What Authenticate needs of a row, as cached.
  struct CachedRow {
    crypto::Hash256 hash{};
    Principal principal;
    bool revoked = false;
    absl::Time read_at;  // taken before the store was read
  };
  // The row of token `id`, from the cache when fresh, else from the store.
  absl::StatusOr<std::shared_ptr<const CachedRow>> AuthRow(const std::string& id) const;
  // Empties the row cache and invalidates reads in flight; called after
  // every change to the rows.
  void ForgetRows() const;

  absl::StatusOr<Row> ReadRow(store::Transaction* txn, std::string_view id) const;
  absl::StatusOr<std::vector<Row>> ReadAll(store::Transaction* txn) const;
  absl::Status WriteRow(store::Transaction& txn, const Row& row) const;
  absl::StatusOr<Row> ParseRow(std::string_view id, std::span<const uint8_t> value) const;
  // The live row named `name` (not revoked, not expired), or NotFound.
  absl::StatusOr<Row> FindLive(store::Transaction* txn, std::string_view name) const;

  store::Store& store_;
  const SecretBytes state_key_;
  const SecretBytes pepper_;
  const Clock& clock_;
  // Serialises read-modify-write sequences within this process; the Store
  // transaction makes each one atomic against other processes.
  absl::Mutex mu_;

  const TokenStoreOptions options_;
  mutable absl::Mutex cache_mu_;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const CachedRow>> cache_ ABSL_GUARDED_BY(cache_mu_);
  // Bumped by ForgetRows; a read begun under an older value is not cached.
  mutable uint64_t cache_generation_ ABSL_GUARDED_BY(cache_mu_) = 0;
};

}  // namespace sigil::tokens
