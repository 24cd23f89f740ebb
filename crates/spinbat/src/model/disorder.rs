//! Disorder: random realisations of a chain's couplings and storage fields.
//!
//! Realisation `r` of a chain with couplings `g_ij` and field `B` draws
//!
//! `g_ij → g_ij (1 + δ_g u_ij)`, `B_i = B (1 + δ_B v_i)`,
//!
//! `u_ij` (`i < j`) and `v_i` independent and uniform on `[−1, 1]` (the random-field
//! disorder of `H_B = Σ_i B_i Z_i`, e.g. Ghosh, Chanda and Sen De, PRA 101, 032115 (2020)).
//! `0 ≤ δ < 1` keeps every coupling's sign (`g_ij ≥ 0` stays) and every field positive,
//! so all-down remains the start and, for `|α| ≤ 1`, the ground state of `H0`; `E_0` and
//! the work reference are those of each realisation. Realisation `r` draws from ChaCha8
//! stream `r` of the seed, the fields first (`v_0 … v_{N−1}`), then the couplings row by
//! row (`u_01, u_02, …, u_{N−2,N−1}`, every pair, coupled or not): the same seed gives the
//! same chains whatever runs them, in any order, on any number of threads.

use super::{Chain, Couplings};
use crate::error::{invalid, Result};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Most sites for disorder in the couplings: each realisation is an explicit `N × N`
/// matrix (`8 N²` bytes, 128 MiB here).
pub const MAX_DISORDERED_COUPLING_SITES: usize = 4096;

/// Realisations when none are asked for.
pub const DEFAULT_REALISATIONS: usize = 20;

/// The disorder of an ensemble: relative spreads, how many realisations, the seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Disorder {
    /// `δ_g ∈ [0, 1)`: `g_ij → g_ij (1 + δ_g u_ij)`.
    pub disorder_g: f64,
    /// `δ_B ∈ [0, 1)`: `B_i = B (1 + δ_B v_i)`.
    pub disorder_field: f64,
    /// Realisations `R ≥ 2` (a standard error needs two).
    pub realisations: usize,
    /// Seed: realisation `r` draws from ChaCha8 stream `r` of it.
    pub seed: u64,
}

/// Uniform on `[−1, 1)` from 53 random bits.
fn symmetric_uniform(rng: &mut ChaCha8Rng) -> f64 {
    2.0 * ((rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)) - 1.0
}

impl Disorder {
    /// Checks the settings alone: `0 ≤ δ < 1` and finite for both spreads, `R ≥ 2`.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] naming `disorder_g`, `disorder_field` or
    /// `realisations`.
    pub fn check(&self) -> Result<()> {
        for (name, d) in [("disorder_g", self.disorder_g), ("disorder_field", self.disorder_field)] {
            if !(d.is_finite() && (0.0..1.0).contains(&d)) {
                return Err(invalid(
                    name,
                    d,
                    "a relative spread must lie in [0, 1) (couplings keep their sign and fields stay positive)",
                ));
            }
        }
        if self.realisations < 2 {
            return Err(invalid("realisations", self.realisations, "needs at least 2 (a standard error needs two)"));
        }
        Ok(())
    }

    /// Checks the settings against a chain: [`Disorder::check`], and at most
    /// [`MAX_DISORDERED_COUPLING_SITES`] sites for `δ_g > 0`.
    ///
    /// # Errors
    /// As [`Disorder::check`]; [`crate::SpinbatError::InvalidParameter`] for too many sites.
    pub fn check_for(&self, chain: &Chain) -> Result<()> {
        self.check()?;
        if self.disorder_g > 0.0 && chain.n_sites() > MAX_DISORDERED_COUPLING_SITES {
            return Err(invalid(
                "disorder_g",
                self.disorder_g,
                format!(
                    "disordered couplings are an explicit N x N matrix per realisation: at most \
                     {MAX_DISORDERED_COUPLING_SITES} sites (the chain has {})",
                    chain.n_sites()
                ),
            ));
        }
        Ok(())
    }

    /// Realisation `index` of `chain` (module docs): per-site fields for `δ_B > 0`, an
    /// explicit coupling matrix for `δ_g > 0` (and `g > 0`); the clean chain itself for
    /// `δ_g = δ_B = 0`. `O(N²)` draws with coupling disorder, `O(N)` without.
    ///
    /// # Errors
    /// As [`Disorder::check_for`]; those of [`super::ChainBuilder::build`].
    pub fn realise(&self, chain: &Chain, index: usize) -> Result<Chain> {
        self.check_for(chain)?;
        let n = chain.n_sites();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index as u64);
        let mut builder = chain.to_builder();
        if self.disorder_field > 0.0 {
            let fields = (0..n).map(|i| chain.field(i) * (1.0 + self.disorder_field * symmetric_uniform(&mut rng)));
            builder = builder.site_fields(fields.collect());
        }
        if self.disorder_g > 0.0 && chain.g() > 0.0 {
            // g_ij = g M_ij: M_ij = (g_ij / g)(1 + δ_g u_ij)
            let g = chain.g();
            let mut m = vec![vec![0.0; n]; n];
            // row by row: (0, 1), (0, 2), …, (N − 2, N − 1)
            for (i, j) in (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))) {
                let u = symmetric_uniform(&mut rng);
                let v = chain.coupling(i, j) / g * (1.0 + self.disorder_g * u);
                m[i][j] = v;
                m[j][i] = v;
            }
            builder = builder.couplings(Couplings::Matrix { m });
        }
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realisations_stay_within_the_spreads_and_repeat() {
        let chain = Chain::builder(6).g(0.7).b(1.3).build().unwrap();
        let d = Disorder { disorder_g: 0.4, disorder_field: 0.3, realisations: 5, seed: 11 };
        let r = d.realise(&chain, 3).unwrap();
        assert_eq!(r, d.realise(&chain, 3).unwrap());
        assert_ne!(r, d.realise(&chain, 4).unwrap());
        for i in 0..6 {
            let rel = r.field(i) / 1.3 - 1.0;
            assert!(rel.abs() <= 0.3, "field {i}: {rel}");
            for j in 0..6 {
                if i != j {
                    let rel = r.coupling(i, j) / chain.coupling(i, j) - 1.0;
                    assert!(rel.abs() <= 0.4 + 1e-15, "coupling {i} {j}: {rel}");
                    assert_eq!(r.coupling(i, j), r.coupling(j, i));
                }
            }
        }
        let clean = Disorder { disorder_g: 0.0, disorder_field: 0.0, ..d };
        assert_eq!(clean.realise(&chain, 2).unwrap(), chain);
    }

    #[test]
    fn bad_spreads_are_refused() {
        let ok = Disorder { disorder_g: 0.1, disorder_field: 0.1, realisations: 2, seed: 0 };
        assert!(ok.check().is_ok());
        for bad in [
            Disorder { disorder_g: 1.0, ..ok },
            Disorder { disorder_field: -0.1, ..ok },
            Disorder { disorder_field: f64::NAN, ..ok },
            Disorder { realisations: 1, ..ok },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
