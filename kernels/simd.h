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
/* Products summed into accumulators (GEMM-like kernels whose floats need only agree with
 * their oracles within rounding): also fused multiply-add, which AVX2 alone does not imply,
 * so the clones are the x86-64-v3/v4 levels and contraction is allowed inside them. Exact
 * arithmetic stays exact (a fused a·b + c rounds once, and there is nothing to round). */
#define KERNEL_CLONES_FMA __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), optimize("fp-contract=fast")))
#else
#define KERNEL_CLONES
#define KERNEL_CLONES_FMA
#endif

#endif
