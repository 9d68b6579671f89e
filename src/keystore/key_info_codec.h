// The binary encoding of a KeyInfo shared by the sealed key record
// (doc/keystore.md) and the backup payload (doc/backup.md):
//
//   id          u8 length + ASCII
//   name        u8 length + ASCII
//   version     u32
//   type        u8   1 secp256k1, 2 schnorr, 3 ed25519
//   purpose     u8   1 signing, 2 audit, 3 attestation, 4 encryption
//   backend     u8 length + ASCII
//   status      u8   1 active, 2 retired, 3 archived
//   created_at  i64  Unix seconds
//   has_retired u8   0 or 1
//   retired_at  i64  Unix seconds, 0 when has_retired is 0
//   public_key  u8 length + bytes (65, 32 or 32 by type)
//
// All integers big-endian. Times keep whole seconds. Decoding is strict: a
// value with more than one encoding is refused, so a MAC over the encoding
// covers exactly one KeyInfo.
#pragma once

#include <string>

#include "keystore/binary_codec.h"
#include "keystore/key_info.h"

namespace sigil::keystore {

void WriteKeyInfo(BinaryWriter& w, const KeyInfo& info);

// Reads one KeyInfo. On failure returns false and sets *why to a short
// reason ("truncated", "unknown key type code", ...).
bool ReadKeyInfo(BinaryReader& r, KeyInfo* info, std::string* why);

}  // namespace sigil::keystore
