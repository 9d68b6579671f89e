#include "net/header_end_scanner.h"

#include <algorithm>

namespace sigil::net {

size_t HeaderEndScanner::Find(std::string_view s) {
  const size_t start = std::min(scanned_ > kOverlap ? scanned_ - kOverlap : 0, s.size());
  for (size_t lf = s.find('\n', start); lf != std::string_view::npos; lf = s.find('\n', lf + 1)) {
    size_t end = std::string_view::npos;
    if (lf + 1 < s.size() && s[lf + 1] == '\n') {
      end = lf + 2;
    } else if (lf + 2 < s.size() && s[lf + 1] == '\r' && s[lf + 2] == '\n') {
      end = lf + 3;
    }
    if (end != std::string_view::npos) {
      bytes_examined_ += end - start;
      scanned_ = end;
      return end;
    }
  }
  bytes_examined_ += s.size() - start;
  scanned_ = s.size();
  return std::string_view::npos;
}

}  // namespace sigil::net
