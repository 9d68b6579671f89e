#include "daemon/config.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "base/status.h"
#include "tokens/token_rate.h"

namespace sigil::daemon {
namespace {

// The accepted keys of each table; anything else is refused.
const std::map<std::string, std::set<std::string>>& KnownKeys() {
  static const auto* known = new std::map<std::string, std::set<std::string>>{
      {"", {"data_dir", "dev", "require_environment_check", "allow_key_import", "allow_core_dumps", "server",
            "keystore", "pkcs11", "tpm", "upstream", "backup", "audit", "webhook", "rate_limits"}},
      {"server", {"listen", "unix_socket", "tls_cert", "tls_key", "workers", "max_body_bytes", "max_connections",
                  "max_inflight", "header_timeout", "body_timeout"}},
      {"keystore", {"backend", "passphrase_file", "key_file", "max_key_age"}},
      {"pkcs11", {"module", "token", "pin_file"}},
      {"tpm", {"tcti", "pcr", "nv_counter", "nv_index"}},
      {"upstream", {"url", "chain_id"}},
      {"backup", {"enabled"}},
      {"audit", {"checkpoint_every", "checkpoint_interval"}},
      {"webhook", {"alert_url"}},
      {"rate_limits", {"admin", "operator", "approver", "auditor", "agent"}},
  };
  return *known;
}

absl::Status CheckKeys(const toml::value& table, const std::string& name, const std::string& origin) {
  const auto& known = KnownKeys().at(name);
  for (const auto& [key, value] : table.as_table()) {
    if (!known.contains(key)) {
      return absl::InvalidArgumentError(origin + ": unknown setting '" + (name.empty() ? "" : name + ".") + key + "'");
    }
    if (name.empty() && KnownKeys().contains(key) && !value.is_table()) {
      return absl::InvalidArgumentError(origin + ": '" + key + "' must be a table ([" + key + "])");
    }
  }
  return absl::OkStatus();
}

template <typename T>
T Get(const toml::value& table, const char* key, T fallback) {
  if (!table.contains(key)) return fallback;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    auto v = toml::find<int64_t>(table, key);
    if (v < 0) throw std::out_of_range(std::string("setting '") + key + "' must not be negative");
    return static_cast<T>(v);
  } else {
    return toml::find<T>(table, key);
  }
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDuration(const std::string& text) {
  if (text.size() < 2 || text.size() > 12) return absl::InvalidArgumentError("invalid duration '" + text + "'");
  char unit = text.back();
  std::string digits = text.substr(0, text.size() - 1);
  int64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError("invalid duration '" + text + "' (use e.g. 90s, 15m, 24h, 7d)");
    n = n * 10 + (c - '0');
  }
  switch (unit) {
    case 's': return absl::Seconds(n);
    case 'm': return absl::Minutes(n);
    case 'h': return absl::Hours(n);
    case 'd': return absl::Hours(24 * n);
    default: return absl::InvalidArgumentError("invalid duration '" + text + "' (use e.g. 90s, 15m, 24h, 7d)");
  }
}

absl::StatusOr<Config> ParseConfig(const std::string& toml_text, const std::string& origin) {
  Config c;
  try {
    std::istringstream in(toml_text);
    toml::value root = toml::parse(in, origin);
    RETURN_IF_ERROR(CheckKeys(root, "", origin));
    c.data_dir = Get<std::string>(root, "data_dir", c.data_dir);
    c.dev = Get<bool>(root, "dev", c.dev);
    c.require_environment_check = Get<bool>(root, "require_environment_check", c.require_environment_check);
    c.allow_key_import = Get<bool>(root, "allow_key_import", c.allow_key_import);
    c.allow_core_dumps = Get<bool>(root, "allow_core_dumps", c.allow_core_dumps);
    auto table = [&](const char* name) -> std::optional<toml::value> {
      if (!root.contains(name)) return std::nullopt;
      return toml::find(root, name);
    };
    if (auto s = table("server")) {
      RETURN_IF_ERROR(CheckKeys(*s, "server", origin));
      if (s->contains("listen")) {
        const auto& l = toml::find(*s, "listen");
        c.listen = l.is_string() ? std::vector<std::string>{l.as_string()} : toml::get<std::vector<std::string>>(l);
      }
      c.unix_socket = Get<std::string>(*s, "unix_socket", c.unix_socket);
      c.tls_cert = Get<std::string>(*s, "tls_cert", c.tls_cert);
      c.tls_key = Get<std::string>(*s, "tls_key", c.tls_key);
      c.workers = Get<int>(*s, "workers", c.workers);
      c.max_body_bytes = Get<size_t>(*s, "max_body_bytes", c.max_body_bytes);
      c.max_connections = Get<size_t>(*s, "max_connections", c.max_connections);
      c.max_inflight = Get<size_t>(*s, "max_inflight", c.max_inflight);
      if (s->contains("header_timeout")) {
        ASSIGN_OR_RETURN(c.header_timeout, ParseDuration(toml::find<std::string>(*s, "header_timeout")));
      }
      if (s->contains("body_timeout")) {
        ASSIGN_OR_RETURN(c.body_timeout, ParseDuration(toml::find<std::string>(*s, "body_timeout")));
      }
    }
    if (auto k = table("keystore")) {
      RETURN_IF_ERROR(CheckKeys(*k, "keystore", origin));
      c.keystore_backend = Get<std::string>(*k, "backend", c.keystore_backend);
      c.passphrase_file = Get<std::string>(*k, "passphrase_file", c.passphrase_file);
      c.key_file = Get<std::string>(*k, "key_file", c.key_file);
      if (k->contains("max_key_age")) {
        ASSIGN_OR_RETURN(c.max_key_age, ParseDuration(toml::find<std::string>(*k, "max_key_age")));
      }
    }
    if (auto p = table("pkcs11")) {
      RETURN_IF_ERROR(CheckKeys(*p, "pkcs11", origin));
      c.pkcs11_module = Get<std::string>(*p, "module", c.pkcs11_module);
      c.pkcs11_token = Get<std::string>(*p, "token", c.pkcs11_token);
      c.pkcs11_pin_file = Get<std::string>(*p, "pin_file", c.pkcs11_pin_file);
    }
    if (auto t = table("tpm")) {
      RETURN_IF_ERROR(CheckKeys(*t, "tpm", origin));
      c.tpm_tcti = Get<std::string>(*t, "tcti", c.tpm_tcti);
      const int64_t pcr = Get<int64_t>(*t, "pcr", c.tpm_pcr);
      if (pcr < 0 || pcr > 23) return absl::InvalidArgumentError(origin + ": tpm.pcr must be 0..23");
      c.tpm_pcr = static_cast<uint32_t>(pcr);
      c.tpm_nv_counter = Get<bool>(*t, "nv_counter", c.tpm_nv_counter);
      const int64_t nv = Get<int64_t>(*t, "nv_index", c.tpm_nv_index);
      if ((nv >> 24) != 0x01) return absl::InvalidArgumentError(origin + ": tpm.nv_index must be an NV index 0x01xxxxxx");
      c.tpm_nv_index = static_cast<uint32_t>(nv);
    }
    if (auto u = table("upstream")) {
      RETURN_IF_ERROR(CheckKeys(*u, "upstream", origin));
      c.upstream_url = Get<std::string>(*u, "url", c.upstream_url);
      c.default_chain_id = Get<uint64_t>(*u, "chain_id", c.default_chain_id);
    }
    if (auto b = table("backup")) {
      RETURN_IF_ERROR(CheckKeys(*b, "backup", origin));
      c.backup_enabled = Get<bool>(*b, "enabled", c.backup_enabled);
    }
    if (auto a = table("audit")) {
      RETURN_IF_ERROR(CheckKeys(*a, "audit", origin));
      c.checkpoint_every = Get<uint64_t>(*a, "checkpoint_every", c.checkpoint_every);
      if (a->contains("checkpoint_interval")) {
        ASSIGN_OR_RETURN(c.checkpoint_interval, ParseDuration(toml::find<std::string>(*a, "checkpoint_interval")));
      }
    }
    if (auto r = table("rate_limits")) {
      RETURN_IF_ERROR(CheckKeys(*r, "rate_limits", origin));
      for (const auto& [role, value] : r->as_table()) {
        std::string text = toml::get<std::string>(value);
        auto rate = tokens::ParseTokenRate(text);
        if (!rate.ok()) return absl::InvalidArgumentError(origin + ": rate_limits." + role + ": " + std::string(rate.status().message()));
        c.token_rates[role] = text;
      }
    }
    if (auto w = table("webhook")) {
      RETURN_IF_ERROR(CheckKeys(*w, "webhook", origin));
      c.alert_webhook_url = Get<std::string>(*w, "alert_url", c.alert_webhook_url);
    }
  } catch (const std::exception& e) {
    // toml11's messages quote the offending line of the config, which holds
    // no secrets by design (secrets are referenced by file).
    return absl::InvalidArgumentError(std::string("invalid config: ") + e.what());
  }
  if (c.keystore_backend != "software" && c.keystore_backend != "pkcs11") {
    return absl::InvalidArgumentError(origin + ": keystore.backend must be \"software\" or \"pkcs11\"");
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return absl::InvalidArgumentError(origin + ": server.tls_cert and server.tls_key go together");
  }
  if (c.checkpoint_every == 0) return absl::InvalidArgumentError(origin + ": audit.checkpoint_every must be > 0");
  return c;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read config file " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > (1 << 20)) return absl::InvalidArgumentError("config file " + path + " is larger than 1 MiB");
  return ParseConfig(text, path);
}

}  // namespace sigil::daemon
