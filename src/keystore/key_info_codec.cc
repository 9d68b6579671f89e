#include "keystore/key_info_codec.h"

namespace sigil::keystore {
namespace {

uint8_t Code(int enum_value) { return static_cast<uint8_t>(enum_value + 1); }

}  // namespace

void WriteKeyInfo(BinaryWriter& w, const KeyInfo& info) {
  w.String8(info.id);
  w.String8(info.name);
  w.U32(info.version);
  w.U8(Code(static_cast<int>(info.type)));
  w.U8(Code(static_cast<int>(info.purpose)));
  w.String8(info.backend);
  w.U8(Code(static_cast<int>(info.status)));
  w.I64(absl::ToUnixSeconds(info.created_at));
  w.U8(info.retired_at.has_value() ? 1 : 0);
  w.I64(info.retired_at.has_value() ? absl::ToUnixSeconds(*info.retired_at) : 0);
  w.Bytes8(info.public_key);
}

bool ReadKeyInfo(BinaryReader& r, KeyInfo* info, std::string* why) {
  std::string_view id, name, backend;
  uint8_t type = 0, purpose = 0, status = 0, has_retired = 0;
  int64_t created_at = 0, retired_at = 0;
  uint32_t version = 0;
  std::span<const uint8_t> public_key;
  if (!r.String8(&id) || !r.String8(&name) || !r.U32(&version) || !r.U8(&type) || !r.U8(&purpose) ||
      !r.String8(&backend) || !r.U8(&status) || !r.I64(&created_at) || !r.U8(&has_retired) || !r.I64(&retired_at) ||
      !r.Bytes8(&public_key)) {
    *why = "it is truncated";
    return false;
  }
  if (type < 1 || type > 3) {
    *why = "its key type code is unknown";
    return false;
  }
  if (purpose < 1 || purpose > 4) {
    *why = "its key purpose code is unknown";
    return false;
  }
  if (status < 1 || status > 3) {
    *why = "its status code is unknown";
    return false;
  }
  if (has_retired > 1 || (has_retired == 0 && retired_at != 0)) {
    *why = "its retirement date is malformed";
    return false;
  }
  if (version == 0) {
    *why = "its version is 0";
    return false;
  }
  KeyInfo out;
  out.id = std::string(id);
  out.name = std::string(name);
  out.version = version;
  out.type = static_cast<KeyType>(type - 1);
  out.purpose = static_cast<KeyPurpose>(purpose - 1);
  out.backend = std::string(backend);
  out.status = static_cast<KeyStatus>(status - 1);
  out.created_at = absl::FromUnixSeconds(created_at);
  if (has_retired == 1) out.retired_at = absl::FromUnixSeconds(retired_at);
  if (public_key.size() != PublicKeySize(out.type)) {
    *why = "its public key has the wrong length for a " + std::string(KeyTypeName(out.type)) + " key";
    return false;
  }
  out.public_key.assign(public_key.begin(), public_key.end());
  *info = std::move(out);
  return true;
}

}  // namespace sigil::keystore
