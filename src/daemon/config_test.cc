#include "daemon/config.h"

#include <gtest/gtest.h>

namespace sigil::daemon {
namespace {

TEST(Config, ParsesEveryTable) {
  auto c = ParseConfig(R"(
data_dir = "/var/lib/sigil"
require_environment_check = true
[server]
listen = ["127.0.0.1:9000", "[::1]:9001"]
unix_socket = "/run/sigil.sock"
workers = 4
[keystore]
backend = "pkcs11"
max_key_age = "90d"
[pkcs11]
module = "/usr/lib/softhsm/libsofthsm2.so"
token = "agentkeys"
pin_file = "/etc/sigil/pin"
[upstream]
url = "http://127.0.0.1:8545"
chain_id = 1
[backup]
enabled = false
[audit]
checkpoint_every = 50
checkpoint_interval = "30s"
)", "test.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, "/var/lib/sigil");
  EXPECT_TRUE(c->require_environment_check);
  EXPECT_EQ(c->listen.size(), 2u);
  EXPECT_EQ(c->workers, 4);
  EXPECT_EQ(c->keystore_backend, "pkcs11");
  EXPECT_EQ(c->max_key_age, absl::Hours(24 * 90));
  EXPECT_EQ(c->pkcs11_token, "agentkeys");
  EXPECT_EQ(c->default_chain_id, 1u);
  EXPECT_FALSE(c->backup_enabled);
  EXPECT_EQ(c->checkpoint_every, 50u);
  EXPECT_EQ(c->checkpoint_interval, absl::Seconds(30));
}

TEST(Config, RefusesUnknownKeysAndBadValues) {
  EXPECT_FALSE(ParseConfig("datadir = \"x\"", "t").ok());
  EXPECT_FALSE(ParseConfig("[server]\nlisten_on = \"x\"", "t").ok());
  EXPECT_FALSE(ParseConfig("[keystore]\nbackend = \"floppy\"", "t").ok());
  EXPECT_FALSE(ParseConfig("[keystore]\nmax_key_age = \"soon\"", "t").ok());
  EXPECT_FALSE(ParseConfig("[server]\ntls_cert = \"a.pem\"", "t").ok());
  EXPECT_FALSE(ParseConfig("this is not toml", "t").ok());
  EXPECT_FALSE(ParseConfig("server = 5", "t").ok());
}

TEST(Config, Durations) {
  EXPECT_EQ(*ParseDuration("90s"), absl::Seconds(90));
  EXPECT_EQ(*ParseDuration("7d"), absl::Hours(168));
  EXPECT_FALSE(ParseDuration("7").ok());
  EXPECT_FALSE(ParseDuration("-1h").ok());
  EXPECT_FALSE(ParseDuration("1.5h").ok());
}

}  // namespace
}  // namespace sigil::daemon
