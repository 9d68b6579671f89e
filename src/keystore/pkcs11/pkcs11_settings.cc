#include "keystore/pkcs11/pkcs11_settings.h"

#include <stdlib.h>

#include <fstream>
#include <iterator>

#include "base/status.h"

namespace sigil::keystore::pkcs11 {

absl::StatusOr<SecretBytes> ReadPkcs11Pin(const Pkcs11Settings& settings) {
  std::string text;
  if (!settings.pin_file.empty()) {
    std::ifstream in(settings.pin_file, std::ios::binary);
    if (!in) return absl::NotFoundError("cannot read the PKCS#11 PIN file " + settings.pin_file);
    std::getline(in, text);
    if (in.bad()) return absl::UnavailableError("cannot read the PKCS#11 PIN file " + settings.pin_file);
  } else if (const char* env = ::getenv(kPinEnvironmentVariable); env != nullptr) {
    text = env;
  } else {
    return absl::InvalidArgumentError(std::string("no PKCS#11 PIN: give --pkcs11-pin-file / pkcs11.pin_file, or set ") +
                                      kPinEnvironmentVariable);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  SecretBytes pin = SecretBytes::CopyFrom(std::string_view(text));
  SecureWipe({reinterpret_cast<uint8_t*>(text.data()), text.size()});
  if (pin.size() == 0) return absl::InvalidArgumentError("the PKCS#11 PIN is empty");
  return pin;
}

absl::StatusOr<std::unique_ptr<Pkcs11KeyStore>> OpenPkcs11KeyStore(store::Store& store, const Pkcs11Settings& settings,
                                                                    const Clock& clock) {
  if (settings.module_path.empty()) return absl::InvalidArgumentError("pkcs11.module (--pkcs11-module) is not set");
  if (settings.token_label.empty()) return absl::InvalidArgumentError("pkcs11.token (--pkcs11-token) is not set");
  ASSIGN_OR_RETURN(SecretBytes pin, ReadPkcs11Pin(settings));
  ASSIGN_OR_RETURN(auto module, Pkcs11Module::Load(settings.module_path));
  SessionPoolOptions po;
  po.max_sessions = settings.max_sessions;
  ASSIGN_OR_RETURN(auto pool, SessionPool::Open(std::move(module), settings.token_label, std::move(pin), po));
  Pkcs11KeyStoreOptions options;
  options.clock = &clock;
  return Pkcs11KeyStore::Open(store, std::move(pool), options);
}

}  // namespace sigil::keystore::pkcs11
