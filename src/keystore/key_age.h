// Maximum key age: which keys are due for rotation. A key's age is the age of
// its active version (created_at of the version in use), so rotating a key
// resets it. Retired and archived versions never sign and are not reported.
//
// Thread-safe if the KeyStore is.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "keystore/key_store.h"

namespace sigil::keystore {

// Active versions created more than `max_age` before clock.Now(), oldest
// first. InvalidArgument if max_age is not positive.
absl::StatusOr<std::vector<KeyInfo>> KeysOlderThan(KeyStore& keystore, const Clock& clock, absl::Duration max_age);

}  // namespace sigil::keystore
