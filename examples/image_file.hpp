// Reading an image file into a ctresnet::image, with stb_image (Debian's libstb-dev): PNG, JPEG
// (baseline and progressive), PPM/PGM, BMP, TGA, GIF (the first frame), PSD, HDR and PIC. The
// pixels come out as the file stores them, 8 bits per channel: gray, RGB or RGBA (gray with
// alpha becomes RGBA); ctresnet's transforms convert them as PIL would.
//
// Shared by ctresnet-classify and the tests that prove its results, so that both decode alike.
#pragma once

#include <ctresnet/preprocess.hpp>

#include <stb_image.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

/// A file that cannot be read or decoded; the message names the file and the reason.
class image_file_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The file's bytes. Reading them here, rather than letting stb_image open the file, lets a
/// missing or unreadable file say so instead of stb's "can't fopen".
inline std::vector<unsigned char> read_bytes(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored))
    throw image_file_error("cannot read image '" + path + "': it is a directory");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw image_file_error("cannot open image '" + path + "': " + std::strerror(errno));
  file.seekg(0, std::ios::end);
  const std::streamoff size = file.tellg();
  file.seekg(0);
  if (size < 0) throw image_file_error("cannot read image '" + path + "': its size is unknown");
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  if (!file.read(reinterpret_cast<char*>(bytes.data()), size))
    throw image_file_error("cannot read image '" + path + "': " + std::strerror(errno));
  return bytes;
}

/// stb_image's reason for its last failure, e.g. "bad png sig" or "corrupt JPEG".
inline std::string stb_failure_reason() {
  const char* reason = stbi_failure_reason();
  // stb gives up on some truncated files without saying why.
  return reason && *reason ? reason : "the file is corrupt or truncated";
}

/// stb_image 2.27 decodes a binary PGM or PPM whose pixels stop early without complaint (what is
/// missing stays undefined), so count them: the header (magic, width, height, maxval, each after
/// whitespace or comments, then one whitespace byte), then width x height x channels samples.
inline void check_netpbm_complete(const std::vector<unsigned char>& bytes, const std::string& path, int width,
                                  int height) {
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

/// stb_image also decodes a JPEG whose data stop early, filling in the rest; PIL refuses such a
/// file ("image file is truncated"), and so do we: the last scan must end with the end-of-image
/// marker (FF D9, which the compressed data cannot contain).
inline void check_jpeg_complete(const std::vector<unsigned char>& bytes, const std::string& path) {
  if (bytes.size() < 2 || bytes[0] != 0xFF || bytes[1] != 0xD8) return;
  std::size_t last_scan = 0;
  for (std::size_t i = bytes.size() - 1; i-- > 0;)
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xDA) {
      last_scan = i;
      break;
    }
  for (std::size_t i = last_scan; i + 1 < bytes.size(); ++i)
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xD9) return;
  throw image_file_error("cannot decode image '" + path + "': it is truncated, its JPEG data end before the "
                         "end-of-image marker");
}

/// stb_image 2.27 (Debian 12's) builds a JPEG Huffman table from 16 code counts without checking
/// that they add up to at most 256, the size of its tables, and writes past them otherwise (fixed in
/// stb_image 2.28; found by tests/fuzz/fuzz_decode_image). So walk the file's markers as stb_image
/// does (bytes between segments skipped, a scan's entropy-coded data up to the next marker other
/// than a restart) and refuse every define-Huffman-table segment with such a table, before stb
/// parses anything.
inline void check_jpeg_huffman_tables(const std::vector<unsigned char>& bytes, const std::string& path) {
  const std::size_t size = bytes.size();
  if (size < 2 || bytes[0] != 0xFF) return;
  std::size_t at = 1;
  while (at < size && bytes[at] == 0xFF) ++at;  // stb_image takes fill bytes before the start marker too
  if (at >= size || bytes[at] != 0xD8) return;
  ++at;
  auto length_at = [&](std::size_t i) { return i + 1 < size ? std::size_t{bytes[i]} << 8 | bytes[i + 1] : 0; };
  bool progressive = false;
  bool defined[2][4] = {};  // [DC, AC][table id]
  while (at < size) {
    if (bytes[at++] != 0xFF) continue;                     // not a marker: skipped, as stb_image skips it
    while (at < size && bytes[at] == 0xFF) ++at;           // fill bytes
    if (at >= size) return;
    const unsigned char marker = bytes[at++];
    if (marker == 0xD8 || marker == 0x01 || marker == 0x00 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xD9) return;                            // end of image
    const std::size_t length = length_at(at);              // counts its own two bytes
    const std::size_t end = at + std::max<std::size_t>(length, 2);
    if (marker == 0xC2) progressive = true;
    if (marker == 0xC4) {
      for (std::size_t table = at + 2; table < end && table < size;) {  // stb: while (L > 0)
        std::size_t codes = 0;  // past the end of the file stb_image reads zeros, and so does this
        for (std::size_t i = 1; i <= 16; ++i) codes += table + i < size ? bytes[table + i] : 0;
        if (codes > 256)
          throw image_file_error("cannot decode image '" + path + "': a JPEG Huffman table has " +
                                 std::to_string(codes) + " codes, more than 256 (corrupt JPEG)");
        defined[(bytes[table] >> 4) & 1][bytes[table] & 3] = true;  // stb_image refuses other classes and ids
        table += 17 + codes;
      }
    }
    if (marker == 0xDA) {  // stb_image 2.27 decodes with a table no segment defined, reading past its arrays
      const std::size_t components = at + 2 < size ? bytes[at + 2] : 0;
      const std::size_t spectral_start = at + 3 + 2 * components;
      const bool dc = !progressive || (spectral_start < size && bytes[spectral_start] == 0);
      const bool ac = !progressive || !dc;
      for (std::size_t c = 0; c < components && at + 4 + 2 * c < size; ++c) {
        const unsigned char tables = bytes[at + 4 + 2 * c];
        if ((dc && !defined[0][(tables >> 4) & 3]) || (ac && !defined[1][tables & 3]))
          throw image_file_error("cannot decode image '" + path + "': a JPEG scan uses a Huffman table that no "
                                 "segment before it defines (corrupt JPEG)");
      }
    }
    at = end;
    if (marker == 0xDA)  // a scan: its entropy-coded data run to the next marker that is no restart
      while (at + 1 < size && !(bytes[at] == 0xFF && bytes[at + 1] != 0x00 && bytes[at + 1] != 0xFF &&
                                !(bytes[at + 1] >= 0xD0 && bytes[at + 1] <= 0xD7)))
        ++at;
  }
}

/// stb_image 2.27 reads the numbers of a binary PGM or PPM header into an int without checking
/// for overflow (undefined behaviour; found by tests/fuzz/fuzz_decode_image). So read the header as
/// stb_image does (whitespace and # comments before each of width, height and maximum value) and
/// refuse a number over INT_MAX before stb parses it.
inline void check_netpbm_header_numbers(const std::vector<unsigned char>& bytes, const std::string& path) {
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

/// stb_image 2.27 allocates a PNG data chunk's announced length before it reads the chunk, so a
/// 100-byte file can make it ask for 2 GiB (found by tests/fuzz/fuzz_decode_image). A chunk that
/// runs past the end of the file fails to decode anyway; refuse it before stb allocates anything,
/// walking the chunks as stb does (up to IEND).
inline void check_png_chunks_inside_file(const std::vector<unsigned char>& bytes, const std::string& path) {
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() < 8 || !std::equal(signature, signature + 8, bytes.begin())) return;
  for (std::size_t at = 8; at + 8 <= bytes.size();) {
    const std::uint64_t length = std::uint64_t{bytes[at]} << 24 | std::uint64_t{bytes[at + 1]} << 16 |
                                 std::uint64_t{bytes[at + 2]} << 8 | bytes[at + 3];
    if (length > bytes.size() - at - 8)
      throw image_file_error("cannot decode image '" + path + "': a PNG chunk of " + std::to_string(length) +
                             " bytes runs past the end of the file (truncated PNG)");
    if (std::equal(bytes.begin() + static_cast<std::ptrdiff_t>(at) + 4, bytes.begin() + static_cast<std::ptrdiff_t>(at) + 8,
                   "IEND"))
      return;
    at += 12 + static_cast<std::size_t>(length);
  }
}

/// The most pixels read_image_file decodes: PIL's limit (twice its decompression-bomb warning
/// threshold), so that a small file claiming a huge image cannot take gigabytes of memory.
inline constexpr long long max_image_pixels = 178'956'970;

/// A file's bytes decoded, 8 bits per channel, with 1 (gray), 3 (RGB) or 4 (RGBA) channels. `path`
/// names the file in error messages. An image of more than `max_pixels` is refused before decoding
/// (a 58-byte TGA can announce 16 million pixels, which stb_image then fills in).
inline ctresnet::image decode_image(const std::vector<unsigned char>& bytes, const std::string& path,
                                    long long max_pixels = max_image_pixels) {
  if (bytes.empty()) throw image_file_error("image '" + path + "' is an empty file");
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw image_file_error("image '" + path + "' is larger than the 2 GiB stb_image can read");
  const auto size = static_cast<int>(bytes.size());
  check_jpeg_huffman_tables(bytes, path);
  check_netpbm_header_numbers(bytes, path);
  check_png_chunks_inside_file(bytes, path);
  int width = 0, height = 0, stored_channels = 0;
  if (!stbi_info_from_memory(bytes.data(), size, &width, &height, &stored_channels))
    throw image_file_error("cannot decode image '" + path + "': " + stb_failure_reason() +
                           " (stb_image reads PNG, JPEG, PPM/PGM, BMP, TGA, GIF, PSD, HDR and PIC)");
  if (static_cast<long long>(width) * height > max_pixels)
    throw image_file_error("cannot decode image '" + path + "': it is " + std::to_string(width) + "x" +
                           std::to_string(height) + " pixels, more than the " + std::to_string(max_pixels) +
                           " this program decodes");
  check_netpbm_complete(bytes, path, width, height);
  check_jpeg_complete(bytes, path);
  // Gray with alpha comes out as RGBA, which ctresnet's image types hold.
  const int channels = stored_channels == 2 ? 4 : stored_channels;
  const std::unique_ptr<unsigned char, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes.data(), size, &width, &height, &stored_channels, channels), stbi_image_free);
  if (!pixels) throw image_file_error("cannot decode image '" + path + "': " + stb_failure_reason());
  if (width <= 0 || height <= 0)  // found by the fuzzer: stb_image can return an image of no pixels
    throw image_file_error("cannot decode image '" + path + "': it has no pixels (" + std::to_string(width) + "x" +
                           std::to_string(height) + ")");

  ctresnet::image decoded(width, height, channels);
  std::memcpy(decoded.pixels.data(), pixels.get(), decoded.pixels.size());
  return decoded;
}

/// The image file decoded, 8 bits per channel, with 1 (gray), 3 (RGB) or 4 (RGBA) channels.
inline ctresnet::image read_image_file(const std::string& path) { return decode_image(read_bytes(path), path); }

}  // namespace examples
