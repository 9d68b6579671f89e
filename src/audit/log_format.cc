#include "audit/log_format.h"

#include <algorithm>
#include <cstring>

#include "audit/crc32c.h"
#include "base/status.h"

namespace sigil::audit {
namespace {

void PutU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t GetU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t GetU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

uint32_t FrameCrc(const uint8_t* header5, std::span<const uint8_t> payload) {
  return Crc32cExtend(Crc32c({header5, 5}), payload);
}

bool KnownType(uint8_t t) {
  return t == static_cast<uint8_t>(FrameType::kRecord) || t == static_cast<uint8_t>(FrameType::kCheckpoint);
}

enum class FrameCheck { kValid, kIncomplete, kBad };

// Classifies the frame at `pos`; fills `why` unless valid.
FrameCheck CheckFrame(std::span<const uint8_t> bytes, uint64_t pos, std::string* why) {
  const uint64_t remaining = bytes.size() - pos;
  if (remaining < kFrameHeaderSize) {
    if (why) *why = "incomplete frame header (" + std::to_string(remaining) + " bytes)";
    return FrameCheck::kIncomplete;
  }
  const uint8_t* p = bytes.data() + pos;
  const uint32_t length = GetU32(p);
  const uint8_t type = p[4];
  if (length > kMaxFramePayload || length == 0) {
    if (why) *why = "impossible frame length " + std::to_string(length);
    return FrameCheck::kBad;
  }
  if (!KnownType(type)) {
    if (why) *why = "unknown frame type " + std::to_string(type);
    return FrameCheck::kBad;
  }
  if (remaining - kFrameHeaderSize < length) {
    if (why) {
      *why = "incomplete frame: " + std::to_string(length) + " payload bytes declared, " +
             std::to_string(remaining - kFrameHeaderSize) + " present";
    }
    return FrameCheck::kIncomplete;
  }
  if (FrameCrc(p, bytes.subspan(pos + kFrameHeaderSize, length)) != GetU32(p + 5)) {
    if (why) *why = "frame checksum mismatch";
    return FrameCheck::kBad;
  }
  return FrameCheck::kValid;
}

}  // namespace

Bytes EncodeLogHeader(const LogHeader& h) {
  Bytes out(kLogHeaderSize, 0);
  std::memcpy(out.data(), kLogMagic, 8);
  PutU16(out.data() + 8, h.version);
  PutU16(out.data() + 10, static_cast<uint16_t>(kLogHeaderSize));
  std::copy(h.log_id.begin(), h.log_id.end(), out.begin() + 12);
  std::copy(h.audit_key.begin(), h.audit_key.end(), out.begin() + 28);
  PutU32(out.data() + 60, Crc32c({out.data(), 60}));
  return out;
}

absl::StatusOr<LogHeader> ParseLogHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() < kLogHeaderSize) {
    return absl::DataLossError("audit log header is incomplete (" + std::to_string(bytes.size()) + " of " +
                               std::to_string(kLogHeaderSize) + " bytes)");
  }
  if (std::memcmp(bytes.data(), kLogMagic, 8) != 0) {
    return absl::DataLossError("not a Sigil audit log (bad magic at offset 0)");
  }
  if (Crc32c(bytes.first(60)) != GetU32(bytes.data() + 60)) {
    return absl::DataLossError("audit log header checksum mismatch (offset 0..63)");
  }
  LogHeader h;
  h.version = GetU16(bytes.data() + 8);
  if (h.version != kLogFormatVersion) {
    return absl::DataLossError("unsupported audit log format version " + std::to_string(h.version) +
                               " (this build reads version " + std::to_string(kLogFormatVersion) + ")");
  }
  if (GetU16(bytes.data() + 10) != kLogHeaderSize) {
    return absl::DataLossError("unexpected audit log header size " + std::to_string(GetU16(bytes.data() + 10)));
  }
  std::copy(bytes.begin() + 12, bytes.begin() + 28, h.log_id.begin());
  std::copy(bytes.begin() + 28, bytes.begin() + 60, h.audit_key.begin());
  return h;
}

void AppendFrame(Bytes& out, FrameType type, std::span<const uint8_t> payload) {
  const size_t at = out.size();
  out.resize(at + kFrameHeaderSize + payload.size());
  uint8_t* p = out.data() + at;
  PutU32(p, static_cast<uint32_t>(payload.size()));
  p[4] = static_cast<uint8_t>(type);
  if (!payload.empty()) std::memcpy(p + kFrameHeaderSize, payload.data(), payload.size());
  PutU32(p + 5, FrameCrc(p, payload));
}

absl::StatusOr<Frame> ParseFrameAt(std::span<const uint8_t> bytes, uint64_t pos) {
  std::string why;
  if (pos > bytes.size() || CheckFrame(bytes, pos, &why) != FrameCheck::kValid) {
    return absl::DataLossError("audit log frame at offset " + std::to_string(pos) + " is unreadable: " +
                               (why.empty() ? std::string("offset out of range") : why));
  }
  return Frame{static_cast<FrameType>(bytes[pos + 4]), pos,
               bytes.subspan(pos + kFrameHeaderSize, GetU32(bytes.data() + pos))};
}

absl::StatusOr<LogScan> ScanLog(std::span<const uint8_t> bytes) {
  LogScan scan;
  auto header = ParseLogHeader(bytes);
  if (!header.ok()) return header.status();
  scan.header = *header;
  uint64_t pos = kLogHeaderSize;
  std::string why;
  while (pos < bytes.size()) {
    FrameCheck check = CheckFrame(bytes, pos, &why);
    if (check != FrameCheck::kValid) {
      const bool zeros = std::all_of(bytes.begin() + pos, bytes.end(), [](uint8_t b) { return b == 0; });
      bool torn = zeros || check == FrameCheck::kIncomplete;
      if (torn && !zeros) {
        // A crash cuts the end of an append; it never leaves a complete frame
        // behind a broken one. If one is there, this is damage, not a tear.
        for (uint64_t q = pos + 1; q + kFrameHeaderSize < bytes.size(); ++q) {
          if (CheckFrame(bytes, q, nullptr) == FrameCheck::kValid) {
            torn = false;
            why += "; a valid frame follows at offset " + std::to_string(q);
            break;
          }
        }
      }
      if (zeros) why = "zero bytes after the last frame (" + std::to_string(bytes.size() - pos) + " bytes)";
      scan.tail = torn ? LogScan::Tail::kTorn : LogScan::Tail::kCorrupt;
      scan.tail_problem = why;
      break;
    }
    const uint32_t length = GetU32(bytes.data() + pos);
    scan.frames.push_back(Frame{static_cast<FrameType>(bytes[pos + 4]), pos,
                                bytes.subspan(pos + kFrameHeaderSize, length)});
    pos += kFrameHeaderSize + length;
  }
  scan.valid_end = pos;  // where damage starts, if any; nothing after it is read
  return scan;
}

LogFrameStream::LogFrameStream(ReadFn read, size_t chunk_bytes)
    : read_(std::move(read)), chunk_(std::max<size_t>(chunk_bytes, kFrameHeaderSize)) {}

absl::StatusOr<std::span<const uint8_t>> LogFrameStream::Window(uint64_t at, uint64_t n) {
  if (at < buf_offset_) {
    // Going back (the tail search after the zero check): start over from `at`.
    buf_.clear();
    buf_offset_ = at;
    eof_ = false;
  }
  const uint64_t have_end = buf_offset_ + buf_.size();
  if (at + n > have_end && !eof_) {
    // Drop what lies before `at`, then read whole chunks until [at, at + n) is in.
    const uint64_t drop = std::min<uint64_t>(at - buf_offset_, buf_.size());
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(drop));
    buf_offset_ += drop;
    while (buf_offset_ + buf_.size() < at + n && !eof_) {
      const uint64_t want = std::max<uint64_t>(chunk_, at + n - (buf_offset_ + buf_.size()));
      ASSIGN_OR_RETURN(Bytes more, read_(buf_offset_ + buf_.size(), want));
      if (more.size() < want) eof_ = true;
      buf_.insert(buf_.end(), more.begin(), more.end());
    }
  }
  const uint64_t rel = at - buf_offset_;
  if (rel >= buf_.size()) return std::span<const uint8_t>();
  return std::span<const uint8_t>(buf_).subspan(rel, std::min<uint64_t>(n, buf_.size() - rel));
}

absl::StatusOr<LogHeader> LogFrameStream::ReadHeader() {
  ASSIGN_OR_RETURN(auto window, Window(0, kLogHeaderSize));
  ASSIGN_OR_RETURN(LogHeader header, ParseLogHeader(window));
  pos_ = kLogHeaderSize;
  return header;
}

absl::StatusOr<std::optional<Frame>> LogFrameStream::Next() {
  if (done_) return std::optional<Frame>();
  ASSIGN_OR_RETURN(auto head, Window(pos_, kFrameHeaderSize));
  if (head.empty()) {
    done_ = true;
    total_size_ = pos_;
    return std::optional<Frame>();
  }
  uint64_t need = kFrameHeaderSize;
  if (head.size() >= kFrameHeaderSize) need += std::min<uint64_t>(GetU32(head.data()), kMaxFramePayload);
  ASSIGN_OR_RETURN(auto window, Window(pos_, need));
  std::string why;
  FrameCheck check = CheckFrame(window, 0, &why);
  if (check != FrameCheck::kValid) {
    RETURN_IF_ERROR(ClassifyTail(std::move(why), check == FrameCheck::kIncomplete));
    done_ = true;
    return std::optional<Frame>();
  }
  const uint32_t length = GetU32(window.data());
  Frame frame{static_cast<FrameType>(window[4]), pos_, window.subspan(kFrameHeaderSize, length)};
  pos_ += kFrameHeaderSize + length;
  return std::optional<Frame>(frame);
}

// Mirrors ScanLog's classification, reading the rest of the data in windows.
absl::Status LogFrameStream::ClassifyTail(std::string why, bool incomplete) {
  bool zeros = true;
  uint64_t end = pos_;
  for (;;) {
    ASSIGN_OR_RETURN(auto w, Window(end, chunk_));
    if (w.empty()) break;
    if (zeros && !std::all_of(w.begin(), w.end(), [](uint8_t b) { return b == 0; })) zeros = false;
    end += w.size();
  }
  total_size_ = end;
  bool torn = zeros || incomplete;
  if (torn && !zeros) {
    // A crash cuts the end of an append; it never leaves a complete frame
    // behind a broken one. If one is there, this is damage, not a tear.
    for (uint64_t q = pos_ + 1; q + kFrameHeaderSize < total_size_; ++q) {
      ASSIGN_OR_RETURN(auto head, Window(q, kFrameHeaderSize));
      const uint64_t need = kFrameHeaderSize + std::min<uint64_t>(GetU32(head.data()), kMaxFramePayload);
      ASSIGN_OR_RETURN(auto w, Window(q, need));
      if (CheckFrame(w, 0, nullptr) == FrameCheck::kValid) {
        torn = false;
        why += "; a valid frame follows at offset " + std::to_string(q);
        break;
      }
    }
  }
  if (zeros) why = "zero bytes after the last frame (" + std::to_string(total_size_ - pos_) + " bytes)";
  tail_ = torn ? LogScan::Tail::kTorn : LogScan::Tail::kCorrupt;
  tail_problem_ = std::move(why);
  return absl::OkStatus();
}

}  // namespace sigil::audit
