// PNG files decoded by libpng, to the pixels of PIL's PNG reader followed by what its
// convert("RGB") (or convert("L")) makes of them:
// - palette images are looked up in their palette (RGB; RGBA if the file gives transparency, an
//   alpha that convert("RGB") drops);
// - gray of 1, 2 or 4 bits is scaled to 0..255, as PIL's modes "1", "L;2" and "L;4" unpack it;
// - 16-bit gray opens in PIL as mode "I" (the 16-bit value), whose conversion to RGB or L clips
//   it to 255; other 16-bit images keep each sample's high byte, as PIL's "RGB;16B", "LA;16B" and
//   "RGBA;16B" unpack them;
// - gray with alpha comes out as RGBA;
// - gamma, colour profiles and tRNS of gray and RGB images are ignored, as PIL ignores them.
//
// libpng reports an error by calling the error function, which must not return: it longjmps back
// to the setjmp of the function that called into libpng (read_header, read_rows), which hold
// only trivially destructible locals, so the jump skips no destructor. png_reader's destructor
// frees libpng's structures, after an error too. libpng's warnings (a bad CRC in an ancillary
// chunk, which it then skips; a known-incorrect sRGB profile; data after the image's end) are
// ignored, as PIL ignores them; its errors, a truncated file among them, are errors.
#include "image_decoders.hpp"

#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

#include <png.h>

namespace examples {
namespace {

struct png_reader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::jmp_buf jump;
  char message[256] = {};
  const unsigned char* data = nullptr;
  std::size_t size = 0, at = 0;

  png_reader(const unsigned char* data_, std::size_t size_) : data(data_), size(size_) {}
  png_reader(const png_reader&) = delete;
  png_reader& operator=(const png_reader&) = delete;
  ~png_reader() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

[[noreturn]] void jump_with_message(png_structp png, png_const_charp message) {
  auto* reader = static_cast<png_reader*>(png_get_error_ptr(png));
  std::snprintf(reader->message, sizeof reader->message, "%s", message ? message : "libpng failed");
  std::longjmp(reader->jump, 1);
}

void ignore_warning(png_structp, png_const_charp) {}

void read_from_memory(png_structp png, png_bytep out, png_size_t length) {
  auto* reader = static_cast<png_reader*>(png_get_io_ptr(png));
  if (length > reader->size - reader->at) png_error(png, "the file ends early (truncated PNG)");
  std::memcpy(out, reader->data + reader->at, length);
  reader->at += length;
}

// The two functions below call libpng after a setjmp: trivially destructible locals only.

/// Creates libpng's structures and reads the chunks up to the image data.
bool read_header(png_reader* reader) {
  if (setjmp(reader->jump)) return false;
  reader->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, reader, jump_with_message, ignore_warning);
  if (!reader->png) {
    std::snprintf(reader->message, sizeof reader->message, "libpng could not start (out of memory?)");
    return false;
  }
  reader->info = png_create_info_struct(reader->png);
  if (!reader->info) png_error(reader->png, "out of memory");
  png_set_read_fn(reader->png, reader, read_from_memory);
  png_read_info(reader->png, reader->info);
  return true;
}

/// Sets the conversions above, then decodes every row (all passes of an interlaced file) and
/// reads the chunks after the image data, up to IEND.
bool read_rows(png_reader* reader, bool keep_16_bits, png_bytepp rows) {
  if (setjmp(reader->jump)) return false;
  png_structp png = reader->png;
  const png_byte color_type = png_get_color_type(png, reader->info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, reader->info) < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  if (!keep_16_bits) png_set_strip_16(png);  // the high byte (png_set_scale_16 would round)
  if (color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, reader->info);
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  return true;
}

std::string failure(const std::string& path, const char* reason) {
  return "cannot decode image '" + path + "': " + reason + " (libpng)";
}

}  // namespace

ctresnet::image decode_png(const std::vector<unsigned char>& bytes, const std::string& path, long long max_pixels) {
  png_reader reader(bytes.data(), bytes.size());
  if (!read_header(&reader)) throw image_file_error(failure(path, reader.message));
  const png_uint_32 width = png_get_image_width(reader.png, reader.info);
  const png_uint_32 height = png_get_image_height(reader.png, reader.info);
  check_pixel_count(width, height, path, max_pixels);
  const png_byte color_type = png_get_color_type(reader.png, reader.info);
  const bool gray_16 = color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(reader.png, reader.info) == 16;

  // What read_rows will make of the file: 1 channel for gray, 3 for RGB and for a palette without
  // transparency, 4 for RGBA, gray with alpha and a palette with it; 2 bytes a sample for gray_16.
  int channels = 3;
  if (color_type == PNG_COLOR_TYPE_GRAY) channels = 1;
  if (color_type == PNG_COLOR_TYPE_RGB_ALPHA || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) channels = 4;
  if (color_type == PNG_COLOR_TYPE_PALETTE && png_get_valid(reader.png, reader.info, PNG_INFO_tRNS)) channels = 4;
  const std::size_t row_bytes = std::size_t{width} * static_cast<std::size_t>(channels) * (gray_16 ? 2 : 1);
  std::vector<unsigned char> decoded(row_bytes * height);
  std::vector<png_bytep> rows(height);
  for (std::size_t y = 0; y < rows.size(); ++y) rows[y] = decoded.data() + y * row_bytes;
  if (!read_rows(&reader, gray_16, rows.data())) throw image_file_error(failure(path, reader.message));
  if (png_get_channels(reader.png, reader.info) != channels || png_get_rowbytes(reader.png, reader.info) != row_bytes)
    throw image_file_error(failure(path, "libpng decoded another layout than expected"));  // our bug, not the file's

  ctresnet::image image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.channels = channels;
  if (gray_16) {
    image.pixels.resize(std::size_t{width} * height);
    for (std::size_t p = 0; p < image.pixels.size(); ++p) {
      const unsigned value = unsigned{decoded[2 * p]} << 8 | decoded[2 * p + 1];  // big-endian
      image.pixels[p] = static_cast<unsigned char>(value > 255 ? 255 : value);
    }
  } else {
    image.pixels = std::move(decoded);
  }
  return image;
}

}  // namespace examples
