// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI,
// ext4 and leveldb. Detects accidental corruption of audit-log frames; it is
// NOT a security check (the Merkle root and the signed checkpoints are).
// Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <span>

namespace sigil::audit {

// Extends `crc` (the CRC of some earlier bytes, 0 for none) over `data`.
uint32_t Crc32cExtend(uint32_t crc, std::span<const uint8_t> data);
inline uint32_t Crc32c(std::span<const uint8_t> data) { return Crc32cExtend(0, data); }

}  // namespace sigil::audit
