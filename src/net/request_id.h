// Request ids: 16 bytes from the OS CSPRNG (OpenSSL RAND_bytes) as 32
// lower-case hex characters. Unguessable, so an id seen in a log or a
// response cannot be used to predict another. Thread-safe.
#pragma once

#include <string>

namespace sigil::net {

std::string NewRequestId();

}  // namespace sigil::net
