// JPEG files decoded by libjpeg-turbo with the settings of PIL's JPEG decoder (Pillow 9, Debian
// 12's python3-pil, which links the same libjpeg62-turbo): libjpeg's defaults (the accurate
// integer IDCT, JDCT_ISLOW; fancy upsampling; block smoothing of progressive files), the output
// colour space chosen by the number of components as PIL chooses its mode (1: gray, 3: RGB,
// 4: CMYK), no scaling. The pixels are therefore PIL's to the last bit.
//
// libjpeg reports an error by calling error_exit, which must not return. Here it longjmps back to
// the setjmp of the function that called into libjpeg. Those functions (read_header, read_pixels)
// hold only trivially destructible locals, so the jump skips no destructor; a C++ exception thrown
// through libjpeg's C frames instead would be undefined behaviour. The C++ code around them owns
// the decompressor (jpeg_reader's destructor destroys it, after an error too) and the pixels.
#include "image_decoders.hpp"

#include <csetjmp>
#include <cstddef>
#include <cstdio>  // jpeglib.h uses FILE and size_t without including their headers
#include <string>

#include <jpeglib.h>

namespace examples {
namespace {

/// libjpeg-turbo's own limit on the scans of a progressive file (its tools' -limitscans): each
/// scan re-reads the whole image's coefficients, so a small file of thousands of scans takes
/// minutes. Real files have at most a few dozen.
constexpr int max_scans = 500;

/// What error_exit needs: libjpeg's error manager first (libjpeg's `err` pointer is cast back to
/// this struct), where to jump, and the message.
struct jpeg_error_state {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jump_with_message(j_common_ptr info) {
  auto* state = reinterpret_cast<jpeg_error_state*>(info->err);
  (*info->err->format_message)(info, state->message);
  std::longjmp(state->jump, 1);
}

/// libjpeg's warnings (level -1) all report corrupt data: extraneous bytes, a premature end of
/// the file (libjpeg then fills the rest in gray), a bad Huffman code. Each is an error here, so
/// that a damaged file gives no partly invented image. Trace messages (levels 0 and up) are ignored.
void on_message(j_common_ptr info, int level) {
  if (level < 0) jump_with_message(info);
}

void on_progress(j_common_ptr info) {
  const auto* decompressor = reinterpret_cast<j_decompress_ptr>(info);
  if (decompressor->input_scan_number <= max_scans) return;
  auto* state = reinterpret_cast<jpeg_error_state*>(info->err);
  std::snprintf(state->message, sizeof state->message, "it has more than %d scans (corrupt or hostile JPEG)",
                max_scans);
  std::longjmp(state->jump, 1);
}

/// A decompressor reading from memory; destroyed whatever happened.
struct jpeg_reader {
  jpeg_decompress_struct info{};
  jpeg_error_state error{};
  jpeg_progress_mgr progress{};
  bool created = false;

  jpeg_reader() = default;
  jpeg_reader(const jpeg_reader&) = delete;
  jpeg_reader& operator=(const jpeg_reader&) = delete;
  ~jpeg_reader() {
    if (created) jpeg_destroy_decompress(&info);
  }
};

// The two functions below call libjpeg after a setjmp: trivially destructible locals only.

/// Creates the decompressor and reads the file's header; false (error.message says why) if it fails.
bool read_header(jpeg_reader* reader, const unsigned char* data, unsigned long size) {
  reader->info.err = jpeg_std_error(&reader->error.manager);
  reader->error.manager.error_exit = jump_with_message;
  reader->error.manager.emit_message = on_message;
  if (setjmp(reader->error.jump)) return false;
  jpeg_create_decompress(&reader->info);
  reader->created = true;
  reader->progress.progress_monitor = on_progress;
  reader->info.progress = &reader->progress;
  jpeg_mem_src(&reader->info, data, size);
  jpeg_read_header(&reader->info, TRUE);  // TRUE: a file of tables only is an error
  return true;
}

/// Decodes every row into `pixels` (rows of `row_bytes`), then reads to the end-of-image marker.
bool read_pixels(jpeg_reader* reader, unsigned char* pixels, std::size_t row_bytes) {
  if (setjmp(reader->error.jump)) return false;
  jpeg_start_decompress(&reader->info);
  while (reader->info.output_scanline < reader->info.output_height) {
    JSAMPROW row = pixels + reader->info.output_scanline * row_bytes;
    if (jpeg_read_scanlines(&reader->info, &row, 1) != 1) {  // only a suspending source returns 0
      std::snprintf(reader->error.message, sizeof reader->error.message, "libjpeg returned no row");
      return false;
    }
  }
  jpeg_finish_decompress(&reader->info);
  return true;
}

std::string failure(const std::string& path, const char* reason) {
  return "cannot decode image '" + path + "': " + reason + " (libjpeg-turbo)";
}

/// PIL's convert("RGB") of CMYK pixels that it unpacked as "CMYK;I" (inverted, Adobe's
/// convention, which PIL assumes for every 4-component JPEG): each ink is taken off the white
/// that the black leaves, with PIL's rounded division by 255.
void cmyk_to_rgb(const unsigned char* cmyk, unsigned char* rgb, std::size_t pixels) {
  for (std::size_t p = 0; p < pixels; ++p, cmyk += 4, rgb += 3) {
    const int white = cmyk[3];  // 255 - (255 - K): the inverted black
    for (int c = 0; c < 3; ++c) {
      const int ink = 255 - cmyk[c];
      const int product = ink * white + 128;
      rgb[c] = static_cast<unsigned char>(white - (((product >> 8) + product) >> 8));
    }
  }
}

}  // namespace

ctresnet::image decode_jpeg(const std::vector<unsigned char>& bytes, const std::string& path, long long max_pixels) {
  jpeg_reader reader;
  if (!read_header(&reader, bytes.data(), static_cast<unsigned long>(bytes.size())))
    throw image_file_error(failure(path, reader.error.message));
  jpeg_decompress_struct& info = reader.info;
  check_pixel_count(info.image_width, info.image_height, path, max_pixels);
  // PIL's modes by component count: L, RGB, CMYK; libjpeg converts YCbCr to RGB and YCCK to CMYK.
  switch (info.num_components) {
    case 1: info.out_color_space = JCS_GRAYSCALE; break;
    case 3: info.out_color_space = JCS_RGB; break;
    case 4: info.out_color_space = JCS_CMYK; break;
    default:
      throw image_file_error("cannot decode image '" + path + "': it is a JPEG of " +
                             std::to_string(info.num_components) +
                             " components; PIL, and so this program, reads 1 (gray), 3 (colour) and 4 (CMYK)");
  }
  const int components = info.num_components;
  const auto width = static_cast<std::size_t>(info.image_width);
  const auto height = static_cast<std::size_t>(info.image_height);
  std::vector<unsigned char> decoded(width * height * static_cast<std::size_t>(components));
  if (!read_pixels(&reader, decoded.data(), width * static_cast<std::size_t>(components)))
    throw image_file_error(failure(path, reader.error.message));
  if (info.output_width != info.image_width || info.output_height != info.image_height ||
      info.output_components != components)  // cannot happen unscaled; checked because memory depends on it
    throw image_file_error(failure(path, "libjpeg decoded another size than the header's"));

  ctresnet::image image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  if (components == 4) {
    image.channels = 3;
    image.pixels.resize(width * height * 3);
    cmyk_to_rgb(decoded.data(), image.pixels.data(), width * height);
  } else {
    image.channels = components;
    image.pixels = std::move(decoded);
  }
  return image;
}

}  // namespace examples
