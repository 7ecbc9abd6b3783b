/* SPDX-License-Identifier: GPL-2.0-only */
/* The fuzzers' random numbers: xorshift64*, reproducible from the seed alone. */
#ifndef SEEDED_RNG_H
#define SEEDED_RNG_H

#include <stdint.h>

static uint64_t rng;

static inline void rnd_seed(uint64_t seed)
{
	rng = seed ? seed : 1;	/* xorshift stays at 0 forever */
}

static inline uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

#endif /* SEEDED_RNG_H */
