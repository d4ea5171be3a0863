# arm-none-eabi-gcc (Debian's gcc-arm-none-eabi) for a Cortex-M7 with its double-precision FPU,
# newlib with semihosting (rdimon) for stdio.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)  # no start files to link a test program with
set(cortex_m7_flags "-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard -mthumb")
set(CMAKE_C_FLAGS_INIT "${cortex_m7_flags}")
set(CMAKE_CXX_FLAGS_INIT "${cortex_m7_flags} -fno-exceptions -fno-rtti")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${cortex_m7_flags} --specs=rdimon.specs -nostartfiles")
