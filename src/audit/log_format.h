// The audit log's on-disk framing (doc/audit-log.md §2): a 64-byte header,
// then frames, each
//   length  u32 little-endian   payload length (<= kMaxFramePayload)
//   type    u8                  1 = record, 2 = checkpoint
//   crc     u32 little-endian   CRC-32C over length || type || payload
//   payload `length` bytes      canonical record JSON, or a signed checkpoint
// The live log and an export use the same format.
//
// The CRC only detects accidents (torn writes, bit rot); tampering is caught
// by the Merkle root in the signed checkpoints (see log_replay.h).
//
// ScanLog splits bytes into frames and classifies what ends the scan:
//  * kClean:   the last frame ends exactly at the end of the bytes;
//  * kTorn:    what follows the last valid frame is an incomplete frame (its
//              header is cut, or its declared payload runs past the end) or
//              only zero bytes, and no valid frame starts anywhere after it:
//              the signature of a crash in the middle of an append;
//  * kCorrupt: anything else (a complete frame with a bad CRC, an unknown
//              type, an impossible length, or valid frames after damage).
// Only kTorn may be cut off by the writer at open; kCorrupt never is.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/checkpoint.h"
#include "audit/record.h"
#include "base/hex.h"
#include "crypto/ed25519.h"

namespace sigil::audit {

inline constexpr char kLogMagic[] = "SIGILAUD";  // 8 bytes on disk, no NUL
inline constexpr uint16_t kLogFormatVersion = 1;
inline constexpr size_t kLogHeaderSize = 64;
inline constexpr size_t kFrameHeaderSize = 9;
inline constexpr size_t kMaxFramePayload = kMaxRecordBytes;

enum class FrameType : uint8_t { kRecord = 1, kCheckpoint = 2 };

struct LogHeader {
  uint16_t version = kLogFormatVersion;
  LogId log_id{};
  crypto::Ed25519PublicKey audit_key{};
  friend bool operator==(const LogHeader&, const LogHeader&) = default;
};

Bytes EncodeLogHeader(const LogHeader& header);
// DataLoss naming the problem if the magic, version, size or CRC is wrong.
absl::StatusOr<LogHeader> ParseLogHeader(std::span<const uint8_t> bytes);

// Appends one frame to `out`. REQUIRES: payload.size() <= kMaxFramePayload.
void AppendFrame(Bytes& out, FrameType type, std::span<const uint8_t> payload);

struct Frame {
  FrameType type;
  uint64_t offset;                   // of the frame header in the input
  std::span<const uint8_t> payload;  // points into the scanned bytes
};

struct LogScan {
  enum class Tail { kClean, kTorn, kCorrupt };
  LogHeader header;
  std::vector<Frame> frames;
  uint64_t valid_end = 0;  // offset just past the last valid frame
  Tail tail = Tail::kClean;
  std::string tail_problem;  // for kTorn / kCorrupt: what is at valid_end
};

// Reads the one valid frame that starts at `pos` (DataLoss otherwise).
absl::StatusOr<Frame> ParseFrameAt(std::span<const uint8_t> bytes, uint64_t pos);

// Errors (DataLoss) only for a missing or invalid header; damage after the
// header is described in the result.
absl::StatusOr<LogScan> ScanLog(std::span<const uint8_t> bytes);

// The streaming form of ScanLog: reads a log through `read` in bounded chunks
// (about `chunk_bytes` plus one maximal frame held at a time), so a log of
// any length is scanned in constant memory. It classifies the end exactly as
// ScanLog does (kClean / kTorn / kCorrupt, same tail_problem text).
//
// Usage: ReadHeader() once, then Next() until it returns nullopt; then tail(),
// tail_problem(), valid_end() and total_size() describe the end.
// Not thread-safe; the source must not change while it is read.
class LogFrameStream {
 public:
  // Returns up to `length` bytes at `offset`; fewer only at the end of the data.
  using ReadFn = std::function<absl::StatusOr<Bytes>(uint64_t offset, uint64_t length)>;
  static constexpr size_t kDefaultChunkBytes = 1 << 20;

  explicit LogFrameStream(ReadFn read, size_t chunk_bytes = kDefaultChunkBytes);
  // DataLoss for a missing or invalid header; a read error as returned by `read`.
  absl::StatusOr<LogHeader> ReadHeader();
  // The next valid frame, or nullopt at the end of the frames. The payload
  // points into an internal buffer and is valid until the next call.
  absl::StatusOr<std::optional<Frame>> Next();

  LogScan::Tail tail() const { return tail_; }
  const std::string& tail_problem() const { return tail_problem_; }
  uint64_t valid_end() const { return pos_; }
  // Known once Next() has returned nullopt.
  uint64_t total_size() const { return total_size_; }

 private:
  // Makes [at, at + n) resident (or up to the end of the data); returns the
  // bytes resident from `at` (possibly fewer than n at the end).
  absl::StatusOr<std::span<const uint8_t>> Window(uint64_t at, uint64_t n);
  absl::Status ClassifyTail(std::string why, bool incomplete);

  ReadFn read_;
  size_t chunk_;
  Bytes buf_;
  uint64_t buf_offset_ = 0;  // file offset of buf_[0]
  bool eof_ = false;         // buf_ reaches the end of the data
  uint64_t pos_ = 0;
  bool done_ = false;
  LogScan::Tail tail_ = LogScan::Tail::kClean;
  std::string tail_problem_;
  uint64_t total_size_ = 0;
};

}  // namespace sigil::audit
