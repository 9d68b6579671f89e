#include "tokens/token_store.h"

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <utility>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>

#include "base/hex.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "nlohmann/json.hpp"
#include "crypto/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/forwarding_store.h"
#include "store/sqlite_store.h"

namespace sigil::tokens {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

// The ```json block that follows `marker` in a doc/ page.
json DocExample(const std::string& page, const std::string& marker) {
  std::ifstream in(std::string(SIGIL_SOURCE_DIR) + "/doc/" + page);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t at = text.find(marker);
  EXPECT_NE(at, std::string::npos) << marker;
  size_t begin = text.find("```json\n", at) + 8;
  size_t end = text.find("```", begin);
  return json::parse(text.substr(begin, end - begin));
}

// Field names (recursively into objects), which is what the page documents.
void ExpectSameShape(const json& documented, const json& actual, const std::string& path = "") {
  ASSERT_TRUE(actual.is_object()) << path;
  for (auto it = documented.begin(); it != documented.end(); ++it) {
    ASSERT_TRUE(actual.contains(it.key())) << "documented field missing: " << path << it.key();
    if (it->is_object() && !actual[it.key()].is_null()) ExpectSameShape(*it, actual[it.key()], path + it.key() + ".");
  }
  for (auto it = actual.begin(); it != actual.end(); ++it) {
    EXPECT_TRUE(documented.contains(it.key())) << "undocumented field: " << path << it.key();
  }
}

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sigil-tokens-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    key_ = crypto::RandomSecret(32);
    OpenStore();
  }
  void TearDown() override {
    tokens_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void OpenStore() {
    tokens_.reset();
    db_.reset();
    auto db = store::SqliteStore::Open(dir_, {});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(db).value();
    auto ts = TokenStore::Open(*db_, key_.Clone(), clock_);
    ASSERT_TRUE(ts.ok()) << ts.status();
    tokens_ = std::move(ts).value();
  }

  IssuedToken MustCreate(Role role, std::string name, std::vector<std::string> keys = {},
                         absl::Time expires = absl::InfiniteFuture()) {
    TokenSpec spec;
    spec.role = role;
    spec.name = std::move(name);
    spec.keys = std::move(keys);
    spec.expires = expires;
    auto issued = tokens_->Create(spec);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return std::move(issued).value();
  }

  static std::string Text(const SecretBytes& s) { return std::string(s.RevealText(SecretAccess::Get())); }

  // Every byte the database holds on disk (main file and WAL).
  std::string DiskBytes() const {
    std::string all;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      std::ifstream in(entry.path(), std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }

  std::string dir_;
  SecretBytes key_;
  FakeClock clock_;
  std::unique_ptr<store::SqliteStore> db_;
  std::unique_ptr<TokenStore> tokens_;
};

TEST_F(TokenStoreTest, CreateThenAuthenticate) {
  IssuedToken t = MustCreate(Role::kAgent, "bot-1", {"trader", "notes"});
  const std::string token = Text(t.token);
  EXPECT_TRUE(std::regex_match(token, std::regex("sgl_[0-9a-f]{80}"))) << "format";
  EXPECT_TRUE(std::regex_match(t.principal.id, std::regex("tok_[0-9a-f]{16}")));
  EXPECT_EQ(token.substr(4, 16), t.principal.id.substr(4));

  auto p = tokens_->Authenticate(token);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->id, t.principal.id);
  EXPECT_EQ(p->name, "bot-1");
  EXPECT_EQ(p->role, Role::kAgent);
  EXPECT_EQ(p->keys, (std::vector<std::string>{"trader", "notes"}));
  EXPECT_EQ(p->expires, absl::InfiniteFuture());
  EXPECT_TRUE(p->MayUseKey("trader"));
  EXPECT_FALSE(p->MayUseKey("treasury"));
  EXPECT_TRUE(p->Can(Permission::kSign));
  EXPECT_FALSE(p->Can(Permission::kApprovalDecide));
}

TEST_F(TokenStoreTest, WrongOrMalformedTokensAreRefused) {
  IssuedToken t = MustCreate(Role::kAdmin, "root");
  std::string token = Text(t.token);
  std::string wrong = token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';  // same id, different secret
  std::string other_id = token;
  other_id[5] = other_id[5] == '0' ? '1' : '0';  // unknown id
  for (const std::string& bad : {wrong, other_id, std::string(""), token.substr(0, 83), token + "0",
                                 "Bearer " + token, std::string("sgl_") + std::string(80, 'G'),
                                 [&] { std::string u = token; u[10] = 'A'; return u; }()}) {
    auto p = tokens_->Authenticate(bad);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated) << bad;
    EXPECT_EQ(p.status().message(), "invalid token");
  }
  EXPECT_TRUE(tokens_->Authenticate(token).ok());
}

TEST_F(TokenStoreTest, ExpiredTokenRefused) {
  IssuedToken t = MustCreate(Role::kOperator, "ops", {}, clock_.Now() + absl::Hours(1));
  EXPECT_TRUE(tokens_->Authenticate(Text(t.token)).ok());
  clock_.Advance(absl::Minutes(59));
  EXPECT_TRUE(tokens_->Authenticate(Text(t.token)).ok());
  clock_.Advance(absl::Minutes(1));
  auto p = tokens_->Authenticate(Text(t.token));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(p.status().message(), "token expired");
  // The name is free again once the holder expired.
  MustCreate(Role::kOperator, "ops");
}

TEST_F(TokenStoreTest, RevokeByIdAndByName) {
  IssuedToken a = MustCreate(Role::kAgent, "bot-1", {"k"});
  IssuedToken b = MustCreate(Role::kApprover, "alice");
  auto r = tokens_->Revoke(a.principal.id);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, std::vector<std::string>{a.principal.id});
  auto pa = tokens_->Authenticate(Text(a.token));
  EXPECT_EQ(pa.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(pa.status().message(), "token revoked");

  r = tokens_->Revoke("alice");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::vector<std::string>{b.principal.id});
  EXPECT_EQ(tokens_->Authenticate(Text(b.token)).status().message(), "token revoked");

  EXPECT_EQ(tokens_->Revoke("alice").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tokens_->Revoke("nobody").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tokens_->Revoke(a.principal.id).status().code(), absl::StatusCode::kNotFound);

  // A revoked name can be issued again, with a different token.
  IssuedToken a2 = MustCreate(Role::kAgent, "bot-1", {"k"});
  EXPECT_NE(a2.principal.id, a.principal.id);
  EXPECT_TRUE(tokens_->Authenticate(Text(a2.token)).ok());
  EXPECT_FALSE(tokens_->Authenticate(Text(a.token)).ok());
}

TEST_F(TokenStoreTest, ListNeverShowsTheTokenAndMarksState) {
  IssuedToken a = MustCreate(Role::kAgent, "bot-1", {"k"});
  IssuedToken b = MustCreate(Role::kAuditor, "", {}, clock_.Now() + absl::Minutes(1));
  ASSERT_TRUE(tokens_->Revoke("bot-1").ok());
  clock_.Advance(absl::Minutes(2));
  auto list = tokens_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  for (const TokenInfo& info : *list) {
    if (info.principal.id == a.principal.id) {
      EXPECT_TRUE(info.revoked);
      EXPECT_FALSE(info.expired);
    } else {
      EXPECT_EQ(info.principal.id, b.principal.id);
      EXPECT_EQ(info.principal.name, "auditor-" + b.principal.id.substr(4, 8));  // generated name
      EXPECT_FALSE(info.revoked);
      EXPECT_TRUE(info.expired);
    }
  }
}

TEST_F(TokenStoreTest, NamesAreUniqueAmongLiveTokensAndValidated) {
  MustCreate(Role::kAgent, "bot-1");
  TokenSpec spec;
  spec.name = "bot-1";
  EXPECT_EQ(tokens_->Create(spec).status().code(), absl::StatusCode::kAlreadyExists);
  for (std::string bad : {std::string("has space"), std::string("-dash"), std::string(65, 'a'),
                          std::string("tok_0123456789abcdef"), std::string("a/b"), std::string("é")}) {
    spec.name = bad;
    EXPECT_EQ(tokens_->Create(spec).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  spec.name = "bot-2";
  spec.keys = {"a b"};
  EXPECT_EQ(tokens_->Create(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec.keys = {std::string(129, 'k')};
  EXPECT_EQ(tokens_->Create(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec.keys = {"k"};
  spec.role = Role::kApprover;  // approvers are not bound to keys
  EXPECT_EQ(tokens_->Create(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec.role = Role::kAgent;
  spec.expires = clock_.Now();
  EXPECT_EQ(tokens_->Create(spec).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TokenStoreTest, AdminKeysEmptyMeansAll) {
  IssuedToken admin = MustCreate(Role::kAdmin, "root");
  IssuedToken agent = MustCreate(Role::kAgent, "bot-0");
  IssuedToken approver = MustCreate(Role::kApprover, "alice");
  EXPECT_TRUE(admin.principal.MayUseKey("anything"));
  EXPECT_FALSE(agent.principal.MayUseKey("anything"));  // empty = none for agents
  EXPECT_FALSE(approver.principal.MayUseKey("anything"));
}

TEST_F(TokenStoreTest, TokenValueNeverStored) {
  IssuedToken t = MustCreate(Role::kAdmin, "root");
  const std::string token = Text(t.token);
  const std::string secret_hex = token.substr(20);
  auto secret_raw = HexDecode(secret_hex).value();
  // Through the Store API...
  auto rows = db_->Scan(kTokensTable, {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  std::string all;
  for (const auto& e : *rows) all.append(e.key).append(e.value.begin(), e.value.end());
  // ...and on disk, including the WAL.
  all += DiskBytes();
  EXPECT_EQ(all.find(secret_hex), std::string::npos);
  EXPECT_EQ(all.find(std::string(secret_raw.begin(), secret_raw.end())), std::string::npos);
  EXPECT_EQ(all.find(token.substr(0, 40)), std::string::npos);
  // Rows are sealed: not even the name is visible.
  EXPECT_EQ(all.find("\"root\""), std::string::npos);
  EXPECT_EQ(all.find("admin"), std::string::npos);
}

TEST_F(TokenStoreTest, SurvivesReopen) {
  IssuedToken t = MustCreate(Role::kApprover, "alice");
  IssuedToken r = MustCreate(Role::kAgent, "bot-1", {"k"});
  ASSERT_TRUE(tokens_->Revoke("bot-1").ok());
  OpenStore();
  auto p = tokens_->Authenticate(Text(t.token));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "alice");
  EXPECT_EQ(p->role, Role::kApprover);
  EXPECT_EQ(p->created, t.principal.created);
  EXPECT_EQ(tokens_->Authenticate(Text(r.token)).status().message(), "token revoked");
}

TEST_F(TokenStoreTest, WrongStateKeyFailsAtOpen) {
  MustCreate(Role::kAdmin, "root");
  auto other = TokenStore::Open(*db_, crypto::RandomSecret(32), clock_);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(other.status().message()), HasSubstr("failed authentication"));
  EXPECT_EQ(TokenStore::Open(*db_, crypto::RandomSecret(16), clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TokenStoreTest, TamperedRowDetectedNamingTheRow) {
  IssuedToken t = MustCreate(Role::kAgent, "bot-1", {"k"});
  auto value = db_->Get(kTokensTable, t.principal.id).value().value();
  value[value.size() / 2] ^= 0x01;
  ASSERT_TRUE(db_->Put(kTokensTable, t.principal.id, value).ok());

  auto p = tokens_->Authenticate(Text(t.token));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(p.status().message(), "token row '" + t.principal.id + "' failed authentication");

  auto reopened = TokenStore::Open(*db_, key_.Clone(), clock_);
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(reopened.status().message(), "token row '" + t.principal.id + "' failed authentication");
}

TEST_F(TokenStoreTest, RowMovedUnderAnotherIdDetected) {
  // An attacker with write access copies an admin row over an agent's id.
  IssuedToken admin = MustCreate(Role::kAdmin, "root");
  IssuedToken agent = MustCreate(Role::kAgent, "bot-1");
  auto admin_row = db_->Get(kTokensTable, admin.principal.id).value().value();
  ASSERT_TRUE(db_->Put(kTokensTable, agent.principal.id, admin_row).ok());
  auto p = tokens_->Authenticate(Text(agent.token));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr(agent.principal.id));
}

TEST_F(TokenStoreTest, TotpEnrolmentLivesWithThePrincipal) {
  MustCreate(Role::kApprover, "alice");
  MustCreate(Role::kAgent, "bot-1");
  SecretBytes secret = crypto::RandomSecret(20);
  EXPECT_EQ(tokens_->EnrolTotp("bot-1", secret).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tokens_->EnrolTotp("nobody", secret).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(tokens_->HasTotp("alice").value());
  ASSERT_TRUE(tokens_->EnrolTotp("alice", secret).ok());
  EXPECT_TRUE(tokens_->HasTotp("alice").value());

  // The check sees the enrolled secret and the last used step; the returned
  // step is stored.
  int64_t seen_last = -2;
  auto check_step = [&](int64_t step) {
    return [&, step](const SecretBytes& s, int64_t last) -> absl::StatusOr<int64_t> {
      seen_last = last;
      if (!(s == secret)) return absl::PermissionDeniedError("wrong secret");
      if (step <= last) return absl::PermissionDeniedError("TOTP code already used");
      return step;
    };
  };
  auto c100 = check_step(100);
  EXPECT_TRUE(tokens_->CheckTotp("alice", c100).ok());
  EXPECT_EQ(seen_last, -1);
  EXPECT_FALSE(tokens_->CheckTotp("alice", c100).ok());  // replay
  EXPECT_EQ(seen_last, 100);

  // Persisted, sealed, across reopen.
  OpenStore();
  auto c101 = check_step(101);
  EXPECT_TRUE(tokens_->CheckTotp("alice", c101).ok());
  EXPECT_EQ(seen_last, 100);
  auto c = check_step(0);
  // Not enrolled is a refusal of the caller (403, CLI exit 1), like a wrong code.
  EXPECT_EQ(tokens_->CheckTotp("bot-1", c).code(), absl::StatusCode::kPermissionDenied);

  std::string disk = DiskBytes();
  auto raw = secret.Reveal(SecretAccess::Get());
  EXPECT_EQ(disk.find(std::string(raw.begin(), raw.end())), std::string::npos);
}

TEST_F(TokenStoreTest, TooManyWrongTotpCodesLockOut) {
  MustCreate(Role::kAdmin, "root");
  ASSERT_TRUE(tokens_->EnrolTotp("root", crypto::RandomSecret(20)).ok());
  auto wrong = [](const SecretBytes&, int64_t) -> absl::StatusOr<int64_t> {
    return absl::PermissionDeniedError("invalid TOTP code");
  };
  int calls = 0;
  auto right = [&](const SecretBytes&, int64_t last) -> absl::StatusOr<int64_t> {
    ++calls;
    return last + 1;
  };
  for (int i = 0; i < kTotpMaxFailures; ++i) {
    EXPECT_EQ(tokens_->CheckTotp("root", wrong).message(), "invalid TOTP code");
  }
  absl::Status locked = tokens_->CheckTotp("root", right);
  EXPECT_EQ(locked.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(locked.message()), HasSubstr("too many wrong TOTP codes"));
  EXPECT_EQ(calls, 0);  // not even asked while locked out
  clock_.Advance(kTotpLockout);
  EXPECT_TRUE(tokens_->CheckTotp("root", right).ok());
  EXPECT_EQ(calls, 1);
}

TEST_F(TokenStoreTest, StoredFormatMatchesDocTokensMd) {
  IssuedToken t = MustCreate(Role::kApprover, "alice");
  ASSERT_TRUE(tokens_->EnrolTotp("alice", crypto::RandomSecret(20)).ok());
  auto row = db_->Get(kTokensTable, t.principal.id).value().value();
  // 0x01 || XChaCha20-Poly1305(state key, JSON, ad = "tokens:" + id).
  ASSERT_EQ(row[0], 0x01);
  auto plain = crypto::AeadOpen(key_, std::span<const uint8_t>(row).subspan(1), AsBytes("tokens:" + t.principal.id));
  ASSERT_TRUE(plain.ok()) << plain.status();
  json record = json::parse(plain->RevealText(SecretAccess::Get()));
  ExpectSameShape(DocExample("tokens.md", "<!-- token-record-example -->"), record);
  EXPECT_EQ(record["v"], 1);
  EXPECT_EQ(record["role"], "approver");
  // hash = HMAC-SHA256(HKDF-SHA256(state key, "", "sigil/tokens/pepper/v1"), token).
  auto pepper = crypto::HkdfSha256(key_, {}, "sigil/tokens/pepper/v1", 32).value();
  auto mac = crypto::HmacSha256(pepper.Reveal(SecretAccess::Get()), t.token.Reveal(SecretAccess::Get()));
  EXPECT_EQ(record["hash"], HexEncode(mac));
  // The TOTP secret is sealed again under "tokens:<id>:totp".
  auto totp = HexDecode(record["totp"]["sealed"].get<std::string>()).value();
  ASSERT_EQ(totp[0], 0x01);
  auto secret = crypto::AeadOpen(key_, std::span<const uint8_t>(totp).subspan(1),
                                 AsBytes("tokens:" + t.principal.id + ":totp"));
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->size(), 20u);
}

TEST_F(TokenStoreTest, ConcurrentAuthenticateAndCreate) {
  IssuedToken t = MustCreate(Role::kAgent, "bot-0", {"k"});
  const std::string token = Text(t.token);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        if (tokens_->Authenticate(token).ok()) ++ok;
        TokenSpec spec;
        spec.name = "bot-" + std::to_string(i + 1) + "-" + std::to_string(j);
        if (!tokens_->Create(spec).ok()) ADD_FAILURE() << "create failed";
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(tokens_->List().value().size(), 41u);
}

}  // namespace
}  // namespace sigil::tokens

namespace sigil::tokens {
namespace {

TEST_F(TokenStoreTest, RateIsSealedInTheRowAndSurvivesReopen) {
  TokenSpec spec;
  spec.role = Role::kAgent;
  spec.name = "limited";
  spec.rate = TokenRate{10, absl::Seconds(1)};
  auto issued = tokens_->Create(spec);
  ASSERT_TRUE(issued.ok()) << issued.status();
  IssuedToken plain = MustCreate(Role::kAgent, "unlimited");
  OpenStore();
  auto p = tokens_->Authenticate(Text(issued->token));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->rate.has_value());
  EXPECT_EQ(*p->rate, (TokenRate{10, absl::Seconds(1)}));
  auto q = tokens_->Authenticate(Text(plain.token));
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->rate.has_value());
}

TEST_F(TokenStoreTest, OutOfRangeRateRefused) {
  TokenSpec spec;
  spec.role = Role::kAgent;
  spec.name = "bad-rate";
  spec.rate = TokenRate{0, absl::Seconds(1)};
  EXPECT_EQ(tokens_->Create(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec.rate = TokenRate{5, absl::Milliseconds(1500)};
  EXPECT_EQ(tokens_->Create(spec).status().code(), absl::StatusCode::kInvalidArgument);
}

// Runs `after_get` once, right after the next Get outside a transaction has
// read the store: the moment a revocation can slip in behind a reader.
class GetHookStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::function<void()> after_get;
  absl::StatusOr<std::optional<store::Bytes>> Get(std::string_view table, std::string_view key) override {
    auto value = base().Get(table, key);
    if (auto hook = std::exchange(after_get, nullptr)) hook();
    return value;
  }
};

// Rows are served from memory, but a revocation in this process and expiry
// take effect at once, even with a cache that would keep rows for hours.
TEST_F(TokenStoreTest, RowCacheNeverDelaysRevocationOrExpiry) {
  TokenStoreOptions options;
  options.row_cache_max_age = absl::Hours(10);
  auto ts = TokenStore::Open(*db_, key_.Clone(), clock_, options);
  ASSERT_TRUE(ts.ok());
  TokenStore& tokens = **ts;
  TokenSpec spec;
  spec.name = "bot-1";
  spec.keys = {"k"};
  spec.expires = clock_.Now() + absl::Hours(1);
  auto t = tokens.Create(spec);
  ASSERT_TRUE(t.ok());
  const std::string token = Text(t->token);
  ASSERT_TRUE(tokens.Authenticate(token).ok());
  // The cached row still checks the presented secret.
  std::string wrong = token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_EQ(tokens.Authenticate(wrong).status().message(), "invalid token");
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(tokens.Authenticate(token).status().message(), "token expired");

  spec.expires = absl::InfiniteFuture();
  spec.name = "bot-2";
  auto t2 = tokens.Create(spec);
  ASSERT_TRUE(t2.ok());
  ASSERT_TRUE(tokens.Authenticate(Text(t2->token)).ok());
  ASSERT_TRUE(tokens.Revoke("bot-2").ok());
  EXPECT_EQ(tokens.Authenticate(Text(t2->token)).status().message(), "token revoked");
}

// A row read before a revocation committed is never cached: once Revoke
// returned, the token is refused.
TEST_F(TokenStoreTest, RowCacheIsNotRefilledWithAReadThatOverlappedARevocation) {
  GetHookStore hooked(*db_);
  TokenStoreOptions options;
  options.row_cache_max_age = absl::Hours(10);
  auto ts = TokenStore::Open(hooked, key_.Clone(), clock_, options);
  ASSERT_TRUE(ts.ok());
  TokenStore& tokens = **ts;
  TokenSpec spec;
  spec.name = "bot-1";
  auto t = tokens.Create(spec);
  ASSERT_TRUE(t.ok());
  const std::string token = Text(t->token);
  hooked.after_get = [&] { ASSERT_TRUE(tokens.Revoke("bot-1").ok()); };
  EXPECT_TRUE(tokens.Authenticate(token).ok()) << "read before the revocation committed";
  EXPECT_EQ(tokens.Authenticate(token).status().message(), "token revoked");
}

// What only the store can tell (a row changed on disk or by another process)
// is seen once the cached row is older than row_cache_max_age.
TEST_F(TokenStoreTest, RowCacheSeesTheStoreAgainAfterItsMaxAge) {
  IssuedToken t = MustCreate(Role::kAgent, "bot-1", {"k"});
  ASSERT_TRUE(tokens_->Authenticate(Text(t.token)).ok());
  auto value = db_->Get(kTokensTable, t.principal.id).value().value();
  value[value.size() / 2] ^= 0x01;
  ASSERT_TRUE(db_->Put(kTokensTable, t.principal.id, value).ok());
  EXPECT_TRUE(tokens_->Authenticate(Text(t.token)).ok()) << "served from the cache";
  clock_.Advance(TokenStoreOptions{}.row_cache_max_age);
  EXPECT_EQ(tokens_->Authenticate(Text(t.token)).status().code(), absl::StatusCode::kDataLoss);

  TokenStoreOptions every_read;
  every_read.row_cache_max_age = absl::ZeroDuration();
  value[value.size() / 2] ^= 0x01;
  ASSERT_TRUE(db_->Put(kTokensTable, t.principal.id, value).ok());
  auto ts = TokenStore::Open(*db_, key_.Clone(), clock_, every_read);
  ASSERT_TRUE(ts.ok());
  ASSERT_TRUE((*ts)->Authenticate(Text(t.token)).ok());
  value[value.size() / 2] ^= 0x01;
  ASSERT_TRUE(db_->Put(kTokensTable, t.principal.id, value).ok());
  EXPECT_EQ((*ts)->Authenticate(Text(t.token)).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace sigil::tokens
