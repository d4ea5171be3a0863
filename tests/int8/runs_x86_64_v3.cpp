// Exit status 0 where this CPU runs x86-64-v3 code (AVX2, FMA, BMI2): tests/int8/CMakeLists.txt
// builds the AVX2 leg only then. It is compiled with -march=x86-64-v3, which the compiler must
// accept too.
int main() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2") ? 0 : 1;
}
