//! Helpers shared by the contract tests.
#![allow(dead_code)]

use spinbat::{Boundary, Chain, Couplings};

/// A tiny deterministic generator (SplitMix64) so random chains are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A random chain with `N` sites: random α, B, g, ω, coupling kind, p and boundary.
pub fn random_chain(rng: &mut Rng, n: usize) -> Chain {
    let couplings =
        if rng.below(2) == 0 { Couplings::NearestNeighbour } else { Couplings::PowerLaw { p: rng.uniform(0.0, 3.0) } };
    let boundary = if rng.below(2) == 0 { Boundary::Open } else { Boundary::Periodic };
    Chain::builder(n)
        .alpha(rng.uniform(-1.0, 1.5))
        .b(rng.uniform(0.5, 2.0))
        .g(rng.uniform(0.0, 2.0))
        .omega(rng.uniform(0.5, 5.0))
        .couplings(couplings)
        .boundary(boundary)
        .build()
        .expect("valid random chain")
}
