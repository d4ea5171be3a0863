// Reading an image file into a ctresnet::image with the decoders PIL (hence torchvision) uses:
// JPEG by libjpeg-turbo and PNG by libpng, with PIL's settings, so that the pixels are PIL's to the
// last bit; binary PGM/PPM by stb_image. The format is told by the file's first bytes, not by its
// name; other formats are errors that name them. The pixels come out 8 bits per channel: gray, RGB or RGBA;
// ctresnet's transforms convert them as PIL's convert("RGB") and convert("L") would.
//
// Shared by ctresnet-classify, the tests that prove its results and the image fuzzer, so that all
// of them decode alike. The decoders are compiled into the library ctresnet_image_file
// (examples/CMakeLists.txt); ctresnet's own headers include none of this.
#pragma once

#include <ctresnet/preprocess.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

/// A file that cannot be read or decoded; the message names the file and the reason.
class image_file_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The file's bytes. Reading them here, rather than letting a decoder open the file, lets a
/// missing or unreadable file say so in the same words for every format.
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

/// The most pixels decode_image decodes: PIL's limit (twice its decompression-bomb warning
/// threshold), so that a small file claiming a huge image cannot take gigabytes of memory.
inline constexpr long long max_image_pixels = 178'956'970;

/// A file's bytes decoded, 8 bits per channel, with 1 (gray), 3 (RGB) or 4 (RGBA) channels. `path`
/// names the file in error messages. An image of more than `max_pixels` is refused from its
/// header, before its pixels are allocated. A truncated or corrupt file is an error, never a
/// partly decoded image.
ctresnet::image decode_image(const std::vector<unsigned char>& bytes, const std::string& path,
                             long long max_pixels = max_image_pixels);

/// The image file decoded, 8 bits per channel, with 1 (gray), 3 (RGB) or 4 (RGBA) channels.
inline ctresnet::image read_image_file(const std::string& path) { return decode_image(read_bytes(path), path); }

}  // namespace examples
