/* CRC32C (Castagnoli), the checksum on every WAL record and block section.
 * Uses the SSE4.2 instruction where the CPU has it. */
#ifndef CLEW_BASE_CRC32C_H
#define CLEW_BASE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc (0 to start) over n bytes. */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

#endif
