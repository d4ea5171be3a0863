// decode_jpeg and decode_png where the build found no libjpeg-turbo or libpng for its target (a
// cross build; examples/CMakeLists.txt): each file of those formats is an error that says so.
#include "image_decoders.hpp"

namespace examples {

ctresnet::image decode_jpeg(const std::vector<unsigned char>&, const std::string& path, long long) {
  throw image_file_error("cannot decode image '" + path + "': this build has no JPEG decoder (libjpeg-turbo was "
                         "not found for its target)");
}

ctresnet::image decode_png(const std::vector<unsigned char>&, const std::string& path, long long) {
  throw image_file_error("cannot decode image '" + path + "': this build has no PNG decoder (libpng was not found "
                         "for its target)");
}

}  // namespace examples
