/* kernels/simd.h — how the fast kernels are multi-versioned.
 *
 * With GCC, KERNEL_CLONES compiles a kernel for AVX-512, AVX2 and generic x86-64; the
 * loader picks one per process (ifunc), never per call. clang 14 (used for the fuzz builds)
 * does not emit the plain symbol of a target_clones function, so under clang the kernels are
 * built once, generic: the fuzzers test parsing, not speed. */
#ifndef EVSNN_KERNELS_SIMD_H
#define EVSNN_KERNELS_SIMD_H

#if defined(__GNUC__) && !defined(__clang__)
#define KERNEL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define KERNEL_CLONES
#endif

#endif
