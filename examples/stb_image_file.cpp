// Binary PGM and PPM files (the digits images are PGM) decoded by stb_image (Debian 12's is
// version 2.27). decode_image hands it only files that start with P5 or P6. Two checks guard
// stb's reader: it overflows an int on a huge header number, and makes up the missing pixels of a
// truncated file.
#include "image_decoders.hpp"

#include <stb_image.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

namespace examples {
namespace {

/// stb_image's reason for its last failure, e.g. "bad PNM".
std::string stb_failure_reason() {
  const char* reason = stbi_failure_reason();
  // stb gives up on some truncated files without saying why.
  return reason && *reason ? reason : "the file is corrupt or truncated";
}

/// stb_image 2.27 reads the numbers of a binary PGM or PPM header into an int without checking
/// for overflow (undefined behaviour; found by tests/fuzz/fuzz_decode_image). So read the header as
/// stb_image does (whitespace and # comments before each of width, height and maximum value) and
/// refuse a number over INT_MAX before stb parses it.
void check_netpbm_header_numbers(const std::vector<unsigned char>& bytes, const std::string& path) {
  if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) return;
  const auto space = [](unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
  std::size_t at = 2;
  for (int number = 0; number < 3; ++number) {
    for (;;) {
      while (at < bytes.size() && space(bytes[at])) ++at;
      if (at >= bytes.size() || bytes[at] != '#') break;
      while (at < bytes.size() && bytes[at] != '\n' && bytes[at] != '\r') ++at;
    }
    long long value = 0;
    for (; at < bytes.size() && bytes[at] >= '0' && bytes[at] <= '9'; ++at) {
      value = value * 10 + (bytes[at] - '0');
      if (value > std::numeric_limits<int>::max())
        throw image_file_error("cannot decode image '" + path + "': its PGM/PPM header holds a number larger than " +
                               std::to_string(std::numeric_limits<int>::max()) + " (corrupt file)");
    }
  }
}

/// stb_image 2.27 decodes a binary PGM or PPM whose pixels stop early without complaint (what is
/// missing stays undefined), so count them: the header (magic, width, height, maxval, each after
/// whitespace or comments, then one whitespace byte), then width x height x channels samples.
void check_netpbm_complete(const std::vector<unsigned char>& bytes, const std::string& path, int width, int height) {
  if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) return;
  std::size_t at = 2;
  long maxval = 0;
  for (int field = 0; field < 3; ++field) {
    while (at < bytes.size() && (std::isspace(bytes[at]) || bytes[at] == '#'))
      if (bytes[at] == '#')
        while (at < bytes.size() && bytes[at] != '\n') ++at;
      else
        ++at;
    for (maxval = 0; at < bytes.size() && std::isdigit(bytes[at]) && maxval < 65536; ++at)
      maxval = 10 * maxval + (bytes[at] - '0');
  }
  ++at;
  const std::size_t needed = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                             (bytes[1] == '6' ? 3u : 1u) * (maxval > 255 ? 2u : 1u);
  const std::size_t present = bytes.size() > at ? bytes.size() - at : 0;
  if (present < needed)
    throw image_file_error("cannot decode image '" + path + "': it is truncated, with " + std::to_string(present) +
                           " of the " + std::to_string(needed) + " bytes of pixels its header announces");
}

}  // namespace

ctresnet::image decode_with_stb(const std::vector<unsigned char>& bytes, const std::string& path, long long max_pixels) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw image_file_error("image '" + path + "' is larger than the 2 GiB stb_image can read");
  const auto size = static_cast<int>(bytes.size());
  check_netpbm_header_numbers(bytes, path);
  int width = 0, height = 0, stored_channels = 0;
  if (!stbi_info_from_memory(bytes.data(), size, &width, &height, &stored_channels))
    throw image_file_error("cannot decode image '" + path + "': " + stb_failure_reason() + " (stb_image)");
  check_pixel_count(width, height, path, max_pixels);
  check_netpbm_complete(bytes, path, width, height);
  // Gray with alpha comes out as RGBA, which ctresnet's image types hold.
  const int channels = stored_channels == 2 ? 4 : stored_channels;
  const std::unique_ptr<unsigned char, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes.data(), size, &width, &height, &stored_channels, channels), stbi_image_free);
  if (!pixels) throw image_file_error("cannot decode image '" + path + "': " + stb_failure_reason() + " (stb_image)");
  check_pixel_count(width, height, path, max_pixels);  // the fuzzer found stb returning an image of no pixels

  ctresnet::image decoded(width, height, channels);
  std::memcpy(decoded.pixels.data(), pixels.get(), decoded.pixels.size());
  return decoded;
}

}  // namespace examples
