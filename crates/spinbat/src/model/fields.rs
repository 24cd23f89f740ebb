//! The storage fields `B_i` of `H_B = Σ_i B_i Z_i` on basis states: `Σ_i B_i z_i(s)`.
//!
//! A clean chain has one field, `B_i = B`, and `Σ_i B z_i(s) = B (2·popcount(s) − N)`. A
//! chain with per-site fields ([`super::ChainBuilder::site_fields`], the random-field
//! disorder of [`super::Disorder`]) needs the sum over the sites; [`FieldEnergy`] gives it
//! by two table lookups, the low `⌈N/2⌉` bits and the high `⌊N/2⌋` bits of `s`
//! (`2^⌈N/2⌉ + 2^⌊N/2⌋` numbers, `O(2^{N/2})` to build), so that every kernel reading the
//! diagonal of `H0` costs what it cost with one field.

use super::Chain;
use crate::basis::{magnetisation, z};

/// `E_B(s) = Σ_i B_i z_i(s)` (`z_i = ±1`, bit `i` of `s` set means up): the field part of
/// `(H0)_ss`.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldEnergy {
    /// One field on every site: `E_B(s) = B (2·popcount(s) − N)`.
    Uniform {
        /// The field `B`.
        b: f64,
        /// Sites `N`.
        n: usize,
    },
    /// Per-site fields: `E_B(s) = lo[s mod 2^k] + hi[s >> k]`, `k = ⌈N/2⌉`, with
    /// `lo[x] = Σ_{i<k} B_i z_i(x)` and `hi[y] = Σ_{i≥k} B_i z_i(y·2^k)`.
    PerSite {
        /// `Σ_{i<k} B_i z_i` of the low bits.
        lo: Vec<f64>,
        /// `Σ_{i≥k} B_i z_i` of the high bits.
        hi: Vec<f64>,
        /// `k`, the low bits.
        lo_bits: u32,
    },
}

impl FieldEnergy {
    /// The field energy of `chain`'s basis states. `O(2^{N/2})` for per-site fields; for the
    /// exact solvers only (`N` within [`crate::basis::MAX_EXACT_SITES`]).
    pub fn of(chain: &Chain) -> Self {
        let n = chain.n_sites();
        match chain.site_fields() {
            None => FieldEnergy::Uniform { b: chain.b(), n },
            Some(f) => {
                let k = n.div_ceil(2);
                let lo = (0..1usize << k).map(|x| (0..k).map(|i| f[i] * z(x, i)).sum()).collect();
                let hi = (0..1usize << (n - k)).map(|y| (k..n).map(|i| f[i] * z(y << k, i)).sum()).collect();
                FieldEnergy::PerSite { lo, hi, lo_bits: k as u32 }
            }
        }
    }

    /// `E_B(s) = Σ_i B_i z_i(s)`.
    #[inline(always)]
    pub fn at(&self, s: usize) -> f64 {
        match self {
            FieldEnergy::Uniform { b, n } => b * magnetisation(s, *n),
            FieldEnergy::PerSite { lo, hi, lo_bits } => lo[s & ((1usize << lo_bits) - 1)] + hi[s >> lo_bits],
        }
    }

    /// Whether every site has the same field.
    pub fn is_uniform(&self) -> bool {
        matches!(self, FieldEnergy::Uniform { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_equal_the_sum_over_sites() {
        for n in [1usize, 2, 5, 8] {
            let fields: Vec<f64> = (0..n).map(|i| 0.5 + 0.37 * i as f64).collect();
            let chain = Chain::builder(n).site_fields(fields.clone()).build().unwrap();
            let e = FieldEnergy::of(&chain);
            for s in 0..1usize << n {
                let direct: f64 = (0..n).map(|i| fields[i] * z(s, i)).sum();
                assert!((e.at(s) - direct).abs() < 1e-13, "N = {n}, s = {s}");
            }
        }
    }
}
