// Pkcs11Settings: what the daemon's configuration says about the PKCS#11
// token (module path, token label, where the PIN comes from), and the one
// call that turns it into an open Pkcs11KeyStore.
//
// PIN sources, in order: the file named by pin_file (first line; trailing
// CR/LF removed; the file should be mode 0600), else the environment
// variable SIGIL_PKCS11_PIN. A PIN is 1..kMaxPinBytes bytes. The PIN is never read from the configuration
// file itself and never appears in a message. A PIN taken from
// SIGIL_PKCS11_PIN is overwritten in the environment and the variable
// removed. ReadPkcs11Pin changes the environment, and unsetenv racing a
// getenv on another thread is undefined behaviour in glibc: call it while
// the process has no other thread (the daemon reads it first thing, before
// its log, store and server threads exist, and hands the PIN to
// OpenPkcs11KeyStore, which never looks at the environment).
//
// Failure codes: InvalidArgument (module or token missing, no PIN source,
// empty or over-long PIN); NotFound (module or PIN file missing); PermissionDenied (PIN
// refused); Unavailable (token not present); as Pkcs11KeyStore::Open.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "base/secret.h"
#include "keystore/pkcs11/pkcs11_key_store.h"
#include "store/store.h"

namespace sigil::keystore::pkcs11 {

inline constexpr char kPinEnvironmentVariable[] = "SIGIL_PKCS11_PIN";
// Longer PINs are refused (tokens take at most a few dozen characters).
inline constexpr size_t kMaxPinBytes = 256;

struct Pkcs11Settings {
  std::string module_path;  // pkcs11.module / --pkcs11-module
  std::string token_label;  // pkcs11.token / --pkcs11-token
  std::string pin_file;     // pkcs11.pin_file / --pkcs11-pin-file ("" = SIGIL_PKCS11_PIN)
  size_t max_sessions = 8;
};

// The PIN from settings.pin_file or SIGIL_PKCS11_PIN.
[[nodiscard]] absl::StatusOr<SecretBytes> ReadPkcs11Pin(const Pkcs11Settings& settings);

// Loads the module, opens the session pool with `pin` (from ReadPkcs11Pin,
// called earlier) and the keystore (which verifies every active key's token
// object; see Problems()). settings.pin_file is not read here.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Pkcs11KeyStore>> OpenPkcs11KeyStore(store::Store& store,
                                                                                  const Pkcs11Settings& settings,
                                                                                  SecretBytes pin, const Clock& clock);

}  // namespace sigil::keystore::pkcs11
