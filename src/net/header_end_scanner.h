// HeaderEndScanner: finds where an HTTP/1.x request header ends in a read
// buffer that grows a read at a time, looking at each byte a bounded number
// of times.
//
// The server buffers a whole request header before parsing it. Searching the
// buffer from its start after every read costs O(L^2) for a header of L
// bytes trickled in one byte per read (seconds of CPU per connection at the
// 16-64 KiB header limits); this scanner remembers how far it has looked and
// resumes a few bytes before that point (the end of the header may straddle
// two reads), so the same header costs O(L).
//
// The end of the header is the first empty line: "\n\r\n" or "\n\n" (a bare
// LF counts as a line end here so that the HTTP parser, not a timeout,
// refuses it).
//
// Not thread-safe (one per connection); a value type holding two counters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sigil::net {

class HeaderEndScanner {
 public:
  // Starts over: the next Find() looks at its buffer from the first byte.
  // Call before each request.
  void Reset() { scanned_ = 0; }

  // `n` bytes were removed from the front of the buffer since the last
  // Find() (e.g. skipped empty lines before a request-line).
  void Consumed(size_t n) { scanned_ = n < scanned_ ? scanned_ - n : 0; }

  // `buffer` is what the previous Find() saw (less any Consumed() bytes),
  // possibly followed by new bytes; the caller caps it at the header limit.
  // Returns the offset just past the header's empty line, or npos when the
  // header has not ended within `buffer`.
  size_t Find(std::string_view buffer);

  // Bytes looked at by Find() since construction (Reset() does not clear
  // it); for tests of the cost.
  uint64_t bytes_examined() const { return bytes_examined_; }

 private:
  // The longest end of header, "\n\r\n", less one: a match that starts this
  // close to the end of what was scanned may be completed by later bytes.
  static constexpr size_t kOverlap = 2;

  size_t scanned_ = 0;  // bytes of the buffer already searched
  uint64_t bytes_examined_ = 0;
};

}  // namespace sigil::net
