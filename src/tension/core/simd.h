#pragma once
// TENSION_SIMD_CLONES before a hot function compiles it for AVX-512, AVX2+FMA and plain x86-64, picked at load
// time (GCC's target_clones): the project builds without -march, so one binary runs everywhere and still uses
// the wide units where they exist. Elsewhere (other compilers or architectures) the function compiles once.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TENSION_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TENSION_SIMD_CLONES
#endif
