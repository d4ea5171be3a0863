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
  const auto same = [](char a, unsigned char b) { return static_cast<unsigned char>(a) == b; };
  return bytes.size() >= length && std::equal(prefix, prefix + length, bytes.begin(), same);
}

/// The formats PIL reads and this program does not, by their signatures: named in the error.
/// BMP, GIF and PSD are among them although stb_image reads them: it reads a truncated file of
/// these formats without complaint, making up the missing pixels.
const char* unread_format(const std::vector<unsigned char>& bytes) {
  if (starts_with(bytes, "BM", 2)) return "BMP";
  if (starts_with(bytes, "GIF87a", 6) || starts_with(bytes, "GIF89a", 6)) return "GIF";
  if (starts_with(bytes, "8BPS", 4)) return "PSD";
  if (starts_with(bytes, "II*\0", 4) || starts_with(bytes, "MM\0*", 4)) return "TIFF";
  if (starts_with(bytes, "RIFF", 4) && bytes.size() >= 12 && std::equal(bytes.begin() + 8, bytes.begin() + 12, "WEBP"))
    return "WebP";
  return nullptr;
}

}  // namespace

ctresnet::image decode_image(const std::vector<unsigned char>& bytes, const std::string& path, long long max_pixels) {
  if (bytes.empty()) throw image_file_error("image '" + path + "' is an empty file");
  // The signatures PIL recognizes each format by. stb_image gets only binary PGM/PPM, the format
  // it is kept for: given anything else it would try each of its decoders, its JPEG and PNG ones too.
  if (starts_with(bytes, "\xFF\xD8\xFF", 3)) return decode_jpeg(bytes, path, max_pixels);
  if (starts_with(bytes, "\x89PNG\r\n\x1A\n", 8)) return decode_png(bytes, path, max_pixels);
  if (starts_with(bytes, "P5", 2) || starts_with(bytes, "P6", 2)) return decode_with_stb(bytes, path, max_pixels);
  if (const char* format = unread_format(bytes))
    throw image_file_error("cannot decode image '" + path + "': it is a " + format + " file, and this program reads " +
                           "JPEG, PNG and binary PGM/PPM files only (convert it to PNG)");
  throw image_file_error("cannot decode image '" + path + "': unknown image type " +
                         "(this program reads JPEG, PNG and binary PGM/PPM files)");
}

}  // namespace examples
