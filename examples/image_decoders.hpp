// The decoders behind examples::decode_image (image_file.hpp), one per library: libjpeg-turbo for
// JPEG and libpng for PNG, the libraries whose pixels PIL (hence torchvision) gets, and stb_image
// for binary PGM/PPM. Each takes the file's bytes, refuses an image of more than
// `max_pixels` from its header before it allocates the pixels, and throws image_file_error (its
// message naming `path`) for a file it cannot decode completely: no partial image comes out.
#pragma once

#include "image_file.hpp"

#include <ctresnet/preprocess.hpp>

#include <string>
#include <vector>

namespace examples {

/// A JPEG as PIL decodes it: gray stays gray; YCbCr and RGB come out as RGB; CMYK and YCCK come
/// out as RGB by PIL's convert("RGB") of its "CMYK;I" pixels (jpeg_decoder.cpp).
ctresnet::image decode_jpeg(const std::vector<unsigned char>& bytes, const std::string& path, long long max_pixels);

/// A PNG as PIL decodes it, in the channels of convert("RGB") or of the file: gray, RGB or RGBA
/// (gray with alpha as RGBA), 8 bits per channel (png_decoder.cpp says how 16 bits become 8).
ctresnet::image decode_png(const std::vector<unsigned char>& bytes, const std::string& path, long long max_pixels);

/// Binary PGM or PPM, by stb_image (stb_image_file.cpp).
ctresnet::image decode_with_stb(const std::vector<unsigned char>& bytes, const std::string& path, long long max_pixels);

/// The error for an image larger than `max_pixels`, before its pixels are allocated.
void check_pixel_count(long long width, long long height, const std::string& path, long long max_pixels);

}  // namespace examples
