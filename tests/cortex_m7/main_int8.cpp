// The int8 digits model on a Cortex-M7: its state compiled in (ctresnet-embed --precision int8
// --int8-order rows) and read in place from flash, its workspace a static array: no heap (nothing
// here or in the library calls malloc; run.cmake checks that the program links none), no
// exceptions, no RTTI. For each test image it computes the uint8 logits from the float image
// (quantized here) and from PyTorch's quantized image, and compares both, and the quantized
// input, with what PyTorch's quantized model computed (tools/make_int8_digits_refs.py, written into
// int8_digits_vectors.hpp by make_int8_digits_vectors). It reports the stack it used, measured by
// painting it, so that run.cmake can check the RAM it takes. Output goes straight to semihosting
// (SYS_WRITE0): newlib's stdio would allocate its buffers on the heap.
#include "digits_int8_weights_rows.hpp"
#include "int8_digits_vectors.hpp"

#include <ctresnet/quantized.hpp>

#include <cstdint>
#include <cstring>

extern "C" std::uint32_t __stack_top;

namespace {
using view_type = digits_int8::view;
using input = view_type::input_shape;
constexpr int classes = view_type::num_classes;
alignas(64) std::uint8_t workspace[view_type::workspace_bytes];
static_assert(input::size == 256 && classes == 10, "the vectors are the digits model's");

/// One null-terminated string to the host's console (semihosting SYS_WRITE0).
void write(const char* text) {
  register std::uint32_t op __asm("r0") = 0x04;
  register const char* argument __asm("r1") = text;
  __asm volatile("bkpt 0xab" : "+r"(op) : "r"(argument) : "memory");
}

/// A line built from text and numbers, without stdio.
class line {
 public:
  line& operator<<(const char* text) {
    while (*text != '\0' && length_ + 2 < sizeof text_) text_[length_++] = *text++;
    return *this;
  }
  line& operator<<(long value) {
    char digits[16];
    int n = 0;
    const bool negative = value < 0;
    unsigned long magnitude = negative ? 0ul - static_cast<unsigned long>(value) : static_cast<unsigned long>(value);
    do {
      digits[n++] = static_cast<char>('0' + magnitude % 10);
      magnitude /= 10;
    } while (magnitude != 0);
    if (negative) *this << "-";
    while (n > 0 && length_ + 2 < sizeof text_) text_[length_++] = digits[--n];
    return *this;
  }
  ~line() {
    text_[length_++] = '\n';
    text_[length_] = '\0';
    write(text_);
  }

 private:
  char text_[160];
  std::size_t length_ = 0;
};

/// The stack is measured by painting the `painted` bytes below its top, the part in use excepted,
/// and finding, after the run, the lowest word that changed.
constexpr std::uint32_t paint = 0x5ca1ab1eu;
constexpr std::size_t painted = 64 * 1024;

std::uint32_t* stack_top() { return &__stack_top; }

__attribute__((noinline)) void paint_stack() {
  std::uint32_t* const bottom = stack_top() - painted / 4;
  volatile std::uint32_t* word = bottom;
  std::uint32_t* const in_use = static_cast<std::uint32_t*>(__builtin_frame_address(0)) - 64;  // with a margin
  while (word < in_use) *word++ = paint;
}

std::size_t stack_used() {
  const std::uint32_t* const bottom = stack_top() - painted / 4;
  const volatile std::uint32_t* word = bottom;
  while (word < stack_top() && *word == paint) ++word;
  return static_cast<std::size_t>(stack_top() - const_cast<const std::uint32_t*>(word)) * 4;
}

bool same(const std::uint8_t* a, const std::uint8_t* b, std::size_t count) { return std::memcmp(a, b, count) == 0; }
}  // namespace

int main() {
  paint_stack();
  const view_type net(digits_int8::state);
  line() << "cortex_m7 int8: digits model, state " << long{view_type::state_bytes} << " bytes in flash, workspace "
         << long{view_type::workspace_bytes} << " bytes in RAM, " << long{int8_digits_vectors::count} << " images";
  int logits_equal = 0, inputs_equal = 0, correct = 0;
  for (int i = 0; i < int8_digits_vectors::count; ++i) {
    const float* image = int8_digits_vectors::images + i * input::size;
    const std::uint8_t* torch_image = int8_digits_vectors::quantized_images + i * input::size;
    const std::uint8_t* torch_logits = int8_digits_vectors::logits + i * classes;
    std::uint8_t from_float[classes], from_uint8[classes], quantized_image[input::size];
    const view_type::input_map floats(image, 1, input::channels, input::height, input::width);
    const ctresnet::status s1 = net.try_forward(floats, view_type::uint8_output_map(from_float, 1, classes), workspace);
    const ctresnet::status s2 =
        net.try_forward(view_type::uint8_input_map(torch_image, 1, input::channels, input::height, input::width),
                        view_type::uint8_output_map(from_uint8, 1, classes), workspace);
    const ctresnet::status s3 = net.try_quantize(
        floats, view_type::uint8_images_map(quantized_image, 1, input::channels, input::height, input::width));
    if (s1 != ctresnet::status::ok || s2 != ctresnet::status::ok || s3 != ctresnet::status::ok) {
      line() << "cortex_m7 int8: error: " << ctresnet::status_message(s1 != ctresnet::status::ok ? s1 : s2);
      return 1;
    }
    const bool equal = same(from_float, torch_logits, classes) && same(from_uint8, torch_logits, classes);
    logits_equal += equal;
    inputs_equal += same(quantized_image, torch_image, input::size);
    int guess = 0;
    line out;
    out << "image " << long{i} << " uint8 logits:";
    for (int c = 0; c < classes; ++c) {
      out << " " << long{from_float[c]};
      if (from_float[c] > from_float[guess]) guess = c;
    }
    correct += guess == int8_digits_vectors::labels[i];
    out << "  class " << long{guess} << " (label " << long{int8_digits_vectors::labels[i]} << ")"
        << (equal ? "" : "  DIFFERS from PyTorch's");
  }
  // The error path is there without exceptions: a 1x16x8 image is refused by its status.
  std::uint8_t logits[classes];
  const ctresnet::status wrong = net.try_forward(view_type::input_map(int8_digits_vectors::images, 1, 1, 16, 8),
                                                 view_type::uint8_output_map(logits, 1, classes), workspace);
  line() << "wrong input shape: " << ctresnet::status_message(wrong);
  const int count = int8_digits_vectors::count;
  line() << "images whose uint8 logits (from the float and from the uint8 image) equal PyTorch's: " << long{logits_equal}
         << "/" << long{count} << "; quantized inputs equal: " << long{inputs_equal} << "/" << long{count}
         << "; correct: " << long{correct} << "/" << long{count};
  line() << "cortex_m7 int8: stack used: " << static_cast<long>(stack_used()) << " bytes";
  const bool match =
      logits_equal == count && inputs_equal == count && wrong == ctresnet::status::wrong_input_shape;
  line() << (match ? "cortex_m7 int8: every uint8 logit equals PyTorch's" : "cortex_m7 int8: MISMATCH with PyTorch's");
  return match ? 0 : 1;
}
