/* Start-up for QEMU's mps2-an500: the vector table, and a reset handler that turns on the FPU,
   copies .data, clears .bss and runs main() with newlib's semihosting (rdimon) for stdio and exit
   (or, with CORTEX_M7_NO_STDIO, with neither). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern uint32_t __data_start, __data_end, __data_load, __bss_start__, __bss_end__, __stack_top;
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);
extern int main(void);

/* __libc_init_array calls these; crti.o would define them, but we link without start files. */
void _init(void) {}
void _fini(void) {}

/* SYS_EXIT through semihosting: QEMU ends with status 0 for ADP_Stopped_ApplicationExit, 1 otherwise. */
__attribute__((noreturn)) static void semihosting_exit(uint32_t reason) {
  register uint32_t op __asm("r0") = 0x18;
  register uint32_t argument __asm("r1") = reason;
  __asm volatile("bkpt 0xab" : : "r"(op), "r"(argument) : "memory");
  for (;;) {
  }
}

#ifdef CORTEX_M7_NO_STDIO
/* A program that writes through semihosting itself (main_int8.cpp) leaves out newlib's stdio and
   exit(), which would link malloc for stdio's buffers: main's status goes straight to SYS_EXIT
   (ADP_Stopped_ApplicationExit, or ADP_Stopped_RunTimeErrorUnknown). */
__attribute__((noreturn)) static void exit_with(int status) { semihosting_exit(status == 0 ? 0x20026u : 0x20023u); }
#endif

void reset_handler(void) {
  /* CPACR: full access to CP10 and CP11 (the FPU) before any floating-point instruction. */
  *(volatile uint32_t*)0xE000ED88u |= 0xFu << 20;
  __asm volatile("dsb\n\tisb" ::: "memory");
  memcpy(&__data_start, &__data_load, (size_t)((char*)&__data_end - (char*)&__data_start));
  memset(&__bss_start__, 0, (size_t)((char*)&__bss_end__ - (char*)&__bss_start__));
#ifdef CORTEX_M7_NO_STDIO
  __libc_init_array();
  exit_with(main());
#else
  initialise_monitor_handles();
  __libc_init_array();
  exit(main());
#endif
}

static void fault_handler(void) {
  static const char message[] = "cortex_m7: fault (HardFault, MemManage, BusFault or UsageFault)\n";
  /* SYS_WRITE0 through semihosting, then SYS_EXIT with a run-time error. */
  register uint32_t op __asm("r0") = 0x04;
  register const char* text __asm("r1") = message;
  __asm volatile("bkpt 0xab" : : "r"(op), "r"(text) : "memory");
  semihosting_exit(0x20023u); /* ADP_Stopped_RunTimeErrorUnknown */
}

typedef void (*vector)(void);
__attribute__((section(".vectors"), used)) const vector vector_table[16] = {
    (vector)&__stack_top, reset_handler, fault_handler, fault_handler, fault_handler, fault_handler, fault_handler,
    0, 0, 0, 0, fault_handler, fault_handler, 0, fault_handler, fault_handler};
