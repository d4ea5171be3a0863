// stb_image's implementation, for systems whose stb is only a header (Debian's libstb-dev ships
// it compiled as libstb.so, and there this file is not built).
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
