// The command-line tools print every error as one line on stderr.
#pragma once

#include <string>

namespace examples {

/// `message` on one line: the loader lists a file's problems on indented lines, which are joined
/// to the first with "; " (or a space after a colon).
inline std::string one_line(const std::string& message) {
  std::string line;
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] != '\n') {
      line += message[i];
      continue;
    }
    while (i + 1 < message.size() && message[i + 1] == ' ') ++i;
    line += !line.empty() && line.back() == ':' ? " " : "; ";
  }
  return line;
}

}  // namespace examples
