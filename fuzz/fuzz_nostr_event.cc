// Fuzzes Nostr event parsing: it must never crash. A parsed signed event's
// JSON output must parse back to the same fields and the same id
// serialization; a parsed template, once signed, must verify after a trip
// through JSON (unless signing refuses an ambiguous control character).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/hex.h"
#include "base/secret.h"
#include "chains/nostr/event.h"

namespace {

const sigil::SecretBytes& Key() {
  static const sigil::SecretBytes key =
      sigil::SecretBytes::CopyFrom(*sigil::HexDecode("d217c1ff2f8a65c3e3a1740db3b9f58b8c848bb45e26d00ed4714e4a0f4ceecf"));
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sigil::nostr::SignedEvent;
  using sigil::nostr::UnsignedEvent;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto ev = SignedEvent::Parse(text); ev.ok()) {
    const bool valid = ev->Verify().ok();
    auto back = SignedEvent::Parse(ev->ToJsonText());
    if (!back.ok()) std::abort();
    if (back->event().content() != ev->event().content() || back->event().tags() != ev->event().tags() ||
        back->id() != ev->id() || back->sig() != ev->sig() || back->Verify().ok() != valid) {
      std::abort();
    }
    if (sigil::nostr::SerializeForId(back->pubkey(), back->event()) !=
        sigil::nostr::SerializeForId(ev->pubkey(), ev->event())) {
      std::abort();
    }
  }

  if (auto tmpl = UnsignedEvent::Parse(text); tmpl.ok()) {
    auto signed_event = sigil::nostr::SignEvent(Key(), *tmpl);
    if (!signed_event.ok()) return 0;  // wrong template pubkey or an ambiguous control character
    auto back = SignedEvent::Parse(signed_event->ToJsonText());
    if (!back.ok() || !back->Verify().ok() || back->id() != signed_event->id()) std::abort();
  }
  return 0;
}
