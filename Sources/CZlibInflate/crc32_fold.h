#ifndef CZLIBINFLATE_CRC32_FOLD_H
#define CZLIBINFLATE_CRC32_FOLD_H
/* The CRC-32 of zip and gzip (ISO-HDLC: reflected, polynomial 0x04C11DB7) with the same value and
 * the same meaning of the running value as zlib's crc32(), several times as fast on x86-64 CPUs
 * with carry-less multiplication (PCLMULQDQ).
 *
 * Method (Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
 * Instruction", Intel, 2009): the data is taken 16 bytes at a time into four accumulators; each is
 * carried 64 bytes forward by multiplying its halves by x^(512+32) and x^(512-32) modulo P
 * (bit-reflected, times x) and adding the next 16 bytes, which keeps the message's remainder
 * modulo P. The four are then folded into one the same way with x^(128+32) and x^(128-32), and
 * the remaining 16 bytes, whose CRC is the whole prefix's, are finished by zlib, as is any tail
 * shorter than 16 bytes. The running value enters as zlib's does: its complement is added to the
 * first 32 bits. Anything shorter than 64 bytes, and every CPU without PCLMULQDQ, goes to zlib.
 * The constants are x^n mod P for those n; the tests check every length against zlib. */
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* zlib's crc32 over any length (its own length argument is 32-bit). */
static inline uint32_t czlib_crc32_zlib(uint32_t crc, const unsigned char *p, size_t n) {
    uLong c = crc;
    while (n > 0) {
        uInt chunk = n > ((size_t)1 << 30) ? (uInt)1 << 30 : (uInt)n;
        c = crc32(c, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/* Whether the CPU has PCLMULQDQ (CPUID leaf 1, ECX bit 1). */
static inline int czlib_has_clmul(void) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & (1u << 1)) != 0;
}

__attribute__((target("pclmul,sse2")))
static inline __m128i czlib_fold(__m128i x, __m128i k) {
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

/* n >= 64. */
__attribute__((target("pclmul,sse2")))
static inline uint32_t czlib_crc32_clmul(uint32_t crc, const unsigned char *p, size_t n) {
    /* (low, high) = (x^(512+32), x^(512-32)) and (x^(128+32), x^(128-32)) mod P, reflected, times x. */
    const __m128i by4 = _mm_set_epi64x(0x1c6e41596LL, 0x154442bd4LL);
    const __m128i by1 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);
    __m128i x0 = _mm_loadu_si128((const __m128i *)p);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)~crc));
    p += 64;
    n -= 64;
    while (n >= 64) {
        x0 = _mm_xor_si128(czlib_fold(x0, by4), _mm_loadu_si128((const __m128i *)p));
        x1 = _mm_xor_si128(czlib_fold(x1, by4), _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = _mm_xor_si128(czlib_fold(x2, by4), _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = _mm_xor_si128(czlib_fold(x3, by4), _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        n -= 64;
    }
    x1 = _mm_xor_si128(czlib_fold(x0, by1), x1);
    x2 = _mm_xor_si128(czlib_fold(x1, by1), x2);
    x3 = _mm_xor_si128(czlib_fold(x2, by1), x3);
    while (n >= 16) {
        x3 = _mm_xor_si128(czlib_fold(x3, by1), _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    unsigned char last[16];
    _mm_storeu_si128((__m128i *)last, x3);
    /* From a zero register (zlib's running value 0xFFFFFFFF) over the folded 16 bytes, then the tail. */
    uint32_t c = (uint32_t)crc32(0xFFFFFFFFUL, last, 16);
    return czlib_crc32_zlib(c, p, n);
}
#endif

/* Whether this CPU can fold (x86-64 with PCLMULQDQ); the caller asks once. */
static inline int czlib_crc32_can_fold(void) {
#if defined(__x86_64__)
    return czlib_has_clmul();
#else
    return 0;
#endif
}

/* The CRC-32 of `n` bytes at `p`, continuing from `crc` (0 to start), as zlib's crc32() gives it;
 * folded when `folding` (czlib_crc32_can_fold() said so), else by zlib. */
static inline uint32_t czlib_crc32(uint32_t crc, const unsigned char *p, size_t n, int folding) {
#if defined(__x86_64__)
    if (folding && n >= 64) return czlib_crc32_clmul(crc, p, n);
#else
    (void)folding;
#endif
    return czlib_crc32_zlib(crc, p, n);
}

#endif
