// examples::decode_image: the format from the file's first bytes, then its decoder.
#include "image_decoders.hpp"
#include "image_file.hpp"

#include <algorithm>
#include <string>

namespace examples {

void check_pixel_count(long long width, long long height, const std::string& path, long long max_pixels) {
  if (width * height > max_pixels)
    throw image_file_error("cannot decode image '" + path + "': it is " + std::to_string(width) + "x" +
                           std::to_string(height) + " pixels, more than the " + std::to_string(max_pixels) +
                           " this program decodes");
  if (width <= 0 || height <= 0)
    throw image_file_error("cannot decode image '" + path + "': it has no pixels (" + std::to_string(width) + "x" +
                           std::to_string(height) + ")");
}

namespace {

bool starts_with(const std::vector<unsigned char>& bytes, const char* prefix, std::size_t length) {
  return bytes.size() >= length && std::equal(prefix, prefix + length, bytes.begin(),
                                              [](char a, unsigned char b) { return static_cast<unsigned char>(a) == b; });
}

}  // namespace

ctresnet::image decode_image(const std::vector<unsigned char>& bytes, const std::string& path, long long max_pixels) {
  if (bytes.empty()) throw image_file_error("image '" + path + "' is an empty file");
  // The signatures PIL recognizes each format by. stb_image gets only the four formats it is
  // kept for: given anything else it would try each of its decoders, its JPEG and PNG ones too.
  if (starts_with(bytes, "\xFF\xD8\xFF", 3)) return decode_jpeg(bytes, path, max_pixels);
  if (starts_with(bytes, "\x89PNG\r\n\x1A\n", 8)) return decode_png(bytes, path, max_pixels);
  if (starts_with(bytes, "P5", 2) || starts_with(bytes, "P6", 2) || starts_with(bytes, "BM", 2) ||
      starts_with(bytes, "GIF87a", 6) || starts_with(bytes, "GIF89a", 6) || starts_with(bytes, "8BPS", 4))
    return decode_with_stb(bytes, path, max_pixels);
  throw image_file_error("cannot decode image '" + path +
                         "': unknown image type (this program reads JPEG, PNG, binary PGM/PPM, BMP, GIF and PSD files)");
}

}  // namespace examples
