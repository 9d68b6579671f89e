#include "net/header_end_scanner.h"

#include <algorithm>
#include <random>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace sigil::net {
namespace {

constexpr size_t kNpos = std::string_view::npos;

// The whole-buffer search the scanner must agree with.
size_t ReferenceHeaderEnd(std::string_view s) {
  for (size_t lf = s.find('\n'); lf != kNpos; lf = s.find('\n', lf + 1)) {
    if (lf + 1 < s.size() && s[lf + 1] == '\n') return lf + 2;
    if (lf + 2 < s.size() && s[lf + 1] == '\r' && s[lf + 2] == '\n') return lf + 3;
  }
  return kNpos;
}

TEST(HeaderEndScannerTest, FindsTheEmptyLine) {
  const std::string crlf = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  HeaderEndScanner s;
  EXPECT_EQ(s.Find(crlf + "body\r\n\r\n"), crlf.size());
  s.Reset();
  EXPECT_EQ(s.Find("GET / HTTP/1.1\nHost: a\n\nbody"), 24u);  // bare LFs: the parser refuses them
  s.Reset();
  EXPECT_EQ(s.Find("GET / HTTP/1.1\r\nHost: a\r\n"), kNpos);
  s.Reset();
  EXPECT_EQ(s.Find(""), kNpos);
}

// Each byte in its own read: the end is found on the read that completes it,
// whichever of "\r\n\r\n" and "\n\n" it is, and each byte is looked at a
// bounded number of times. Searching from the start after every read (as the
// server did) looks at L^2/2 bytes: 2^31 for this 64 KiB header.
TEST(HeaderEndScannerTest, OneByteReadsCostLinearTime) {
  std::string header = "GET / HTTP/1.1\r\nHost: a\r\n";
  while (header.size() < 64 * 1024) header += "X-Pad: " + std::string(90, 'p') + "\r\n";
  for (std::string_view end : {"\r\n", "\n"}) {
    const std::string full = header + std::string(end);
    HeaderEndScanner s;
    for (size_t n = 1; n <= full.size(); ++n) {
      size_t found = s.Find(std::string_view(full).substr(0, n));
      if (n < full.size()) {
        ASSERT_EQ(found, kNpos) << n;
      } else {
        EXPECT_EQ(found, full.size());
      }
    }
    EXPECT_LE(s.bytes_examined(), 3 * full.size());
  }
}

// The buffer cap (the header limit) and a repeated Find() on the same bytes
// cost nothing extra.
TEST(HeaderEndScannerTest, RescanningTheSameBytesIsCheap) {
  std::string header(16 * 1024, 'a');
  HeaderEndScanner s;
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(s.Find(header), kNpos);
  EXPECT_LE(s.bytes_examined(), header.size() + 1000 * 2);
}

// Bytes consumed from the front (empty lines skipped before the request-line)
// shift what was scanned; a line end cut by the consumed prefix is not lost.
TEST(HeaderEndScannerTest, ConsumedBytesShiftTheScannedOffset) {
  HeaderEndScanner s;
  EXPECT_EQ(s.Find("\r\n"), kNpos);
  s.Consumed(2);
  EXPECT_EQ(s.Find("GET / HTTP/1.1\r\nHost: a\r\n"), kNpos);
  EXPECT_EQ(s.Find("GET / HTTP/1.1\r\nHost: a\r\n\r"), kNpos);
  EXPECT_EQ(s.Find("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 27u);

  HeaderEndScanner t;
  EXPECT_EQ(t.Find("xx\n"), kNpos);
  t.Consumed(2);
  EXPECT_EQ(t.Find("\n\n"), 2u);

  HeaderEndScanner u;
  EXPECT_EQ(u.Find("abc"), kNpos);
  u.Consumed(10);  // more than was scanned: starts over
  EXPECT_EQ(u.Find("\n\n"), 2u);
}

// Random bytes from {CR, LF, 'a'} cut into random reads: the scanner agrees
// with a whole-buffer search after every read.
TEST(HeaderEndScannerTest, AgreesWithAWholeBufferSearchWhateverTheReads) {
  std::mt19937 rng(20261122);
  const char alphabet[] = {'\r', '\n', 'a', 'a'};
  for (int round = 0; round < 2000; ++round) {
    std::string data;
    const size_t size = 1 + rng() % 40;
    for (size_t i = 0; i < size; ++i) data += alphabet[rng() % 4];
    HeaderEndScanner s;
    size_t n = 0;
    while (n < data.size()) {
      n = std::min(data.size(), n + 1 + rng() % 4);
      std::string_view prefix = std::string_view(data).substr(0, n);
      size_t want = ReferenceHeaderEnd(prefix);
      ASSERT_EQ(s.Find(prefix), want) << "round " << round << " prefix " << n;
      if (want != kNpos) break;
    }
  }
}

}  // namespace
}  // namespace sigil::net
