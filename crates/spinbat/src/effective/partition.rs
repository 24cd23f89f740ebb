//! Löwdin partitioning of `H = H_g + V` onto `P = {|D⟩, |U⟩}`: the block-tridiagonal
//! resolvent of `Q H Q` by the number `k` of up spins, evaluated by recursive Green's
//! functions (Schur complements), never by subtracting eigenvalues.
//!
//! Energies are measured from `E_d = ⟨D|H_g|D⟩ = −Σ g_ij`: `ε = E − E_d`, and
//! `H_g − E_d` has the diagonal `2 Σ_{anti-parallel (i,j)} g_ij` (twice the broken bonds,
//! exact, no cancellation) and the flip-flop elements `−2α g_ij`.

use crate::basis::{dimension, flipped};
use crate::error::{invalid, Result, SpinbatError};
use crate::model::Chain;
use crate::symmetry::orbits::Orbits;
use crate::symmetry::parity::coupling_terms;
use faer::linalg::solvers::{Llt, Solve};
use faer::{Mat, Side};
use rayon::prelude::*;

/// Largest chain the partitioning accepts: without symmetry the blocks hold
/// `Σ_k C(N,k)² = C(2N, N)` numbers (4.8 GB at `N = 16`) and one evaluation costs
/// `≈ 3 Σ_k C(N,k)³` flops; the reflection of an open chain divides these by about 4 and 8.
pub const MAX_SITES: usize = 16;

/// What one evaluation of the resolvent `R(E) = (E − QHQ)^{−1}` at `ε = E − E_d` gives,
/// with `v = QH|D⟩` (entries `ω` on the `N` one-up states), `w = QH|U⟩ = P v` and
/// `x = R(E) v`:
#[derive(Debug, Clone)]
pub struct ResolventTerms {
    /// `ε = E − E_d` where it was evaluated.
    pub eps: f64,
    /// `s(E) = ⟨v|R|v⟩ = ⟨w|R|w⟩` (the self-energy of `|D⟩` and of `|U⟩`).
    pub s: f64,
    /// `t(E) = ⟨w|R|v⟩` (the `|D⟩ → |U⟩` transfer through `Q`).
    pub t: f64,
    /// `⟨v|R²|v⟩ = Σ_k |x_k|² = −s'(E)`.
    pub norm2: f64,
    /// `⟨w|R²|v⟩ = x · P x = −t'(E)`.
    pub cross: f64,
    /// `x = R(E) v` in the orthonormal orbit basis of the [`Partition`] (block after
    /// block, `k = 0..N`, zero on `|D⟩` and `|U⟩`); [`Partition::expand`] gives its
    /// amplitudes on the `2^N` basis states.
    pub x: Vec<f64>,
}

/// The block structure of `Q H Q` for one chain, ready to evaluate [`ResolventTerms`].
///
/// `Q H Q` is block tridiagonal in `k = 1..N−1`: diagonal blocks `D_k = H_g` on the
/// `C(N, k)` states with `k` ups, off-diagonal blocks `V_{k+1,k}` (`ω` per single flip).
/// With `K_k = −(E − D_k − V_{k,k+1} gR_{k+1} V_{k+1,k})` the right-connected Schur
/// complements (`gR_k = −K_k^{−1}`):
/// `K_{N−1} = D_{N−1} − E`, `K_k = D_k − E − V_{k,k+1} K_{k+1}^{−1} V_{k+1,k}`, and
/// `x_1 = −K_1^{−1} v`, `x_{k+1} = −K_{k+1}^{−1} V_{k+1,k} x_k` solve `(E − QHQ) x = v`.
/// `E − QHQ` is negative definite (i.e. `E` lies below the spectrum of `QHQ`) exactly
/// when every `K_k` is positive definite (inertia is additive over Schur complements), and
/// the Cholesky factorisation of each `K_k` is what certifies it.
///
/// `v`, `w` and `H` are invariant under the site permutations that preserve the couplings,
/// so the blocks are taken on the orbits of those permutations (reflection, translation,
/// transpositions; see `orbits.rs`): `|O⟩ = |O|^{−1/2} Σ_{s∈O} |s⟩`, elements
/// `⟨O'|A|O⟩ = √(|O|/|O'|) Σ_{s'∈O'} A_{s' s₀}`, `⟨O|v⟩ = ω √|O|`. This is exact (no
/// difference of large numbers: it only merges equal amplitudes) and for an open chain
/// halves the blocks.
#[derive(Debug, Clone)]
pub struct Partition {
    n_sites: usize,
    omega: f64,
    e_d: f64,
    orbits: Orbits,
    /// Start of block `k` in the flat orbit layout of [`ResolventTerms::x`] (`k = 0..=N+1`).
    offset: Vec<usize>,
    /// Flat position of the spin-flipped orbit `P(O)`.
    partner: Vec<u32>,
    /// `⟨s|H_g|s⟩ − E_d = 2 Σ_{anti-parallel (i,j)} g_ij`.
    wall: Vec<f64>,
    /// Flip-flop terms `(mask, −2α g_ij)`, acting on states with exactly one bit of `mask`.
    flips: Vec<(usize, f64)>,
}

impl Partition {
    /// Splits the basis of `chain` into the blocks `k = 0..N`, reduced by the symmetries of
    /// the couplings (`O(2^N (P + N))`, `P` coupled pairs).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for `N < 2` (no `Q` space couples `|D⟩` to `|U⟩`;
    /// [`super::effective_coupling`] handles `N = 1` exactly) or `N > MAX_SITES`;
    /// [`SpinbatError::TooLarge`] when the blocks would not fit in memory.
    pub fn new(chain: &Chain) -> Result<Self> {
        Self::build(chain, true)
    }

    /// As [`Partition::new`] but on the plain basis states (no symmetry reduction): the
    /// reference the reduced blocks are tested against.
    ///
    /// # Errors
    /// As [`Partition::new`].
    pub fn without_symmetry(chain: &Chain) -> Result<Self> {
        Self::build(chain, false)
    }

    fn build(chain: &Chain, reduce: bool) -> Result<Self> {
        let n = chain.n_sites();
        if n < 2 {
            return Err(invalid("n_sites", n, "the partitioning needs N >= 2 (N = 1 has J_eff = omega exactly)"));
        }
        if n > MAX_SITES {
            return Err(invalid(
                "n_sites",
                n,
                format!(
                    "the effective-coupling recursion handles N <= {MAX_SITES} (it stores sum_k C(N,k)^2 numbers \
                     and costs about 3 sum_k C(N,k)^3 flops per energy, less by the chain's symmetries)"
                ),
            ));
        }
        let orbits = if reduce { Orbits::new(chain) } else { Orbits::trivial(n) };
        let blocks: Vec<f64> = orbits.reps.iter().map(|r| r.len() as f64).collect();
        let needed = Self::bytes_for(&blocks);
        crate::resources::ensure_fits("effective coupling", n, needed)?;
        let mut offset = vec![0usize; n + 2];
        for k in 0..=n {
            offset[k + 1] = offset[k] + orbits.reps[k].len();
        }
        let mut partner = vec![0u32; offset[n + 1]];
        for k in 0..=n {
            for (a, &rep) in orbits.reps[k].iter().enumerate() {
                let f = flipped(rep as usize, n);
                partner[offset[k] + a] = (offset[n - k] + orbits.index[f] as usize) as u32;
            }
        }
        let (wall, flips) = coupling_terms(chain);
        Ok(Partition {
            n_sites: n,
            omega: chain.omega(),
            e_d: -chain.total_coupling(),
            orbits,
            offset,
            partner,
            wall,
            flips,
        })
    }

    /// Upper estimate of the peak memory for `N` sites without symmetry: the `N − 1`
    /// Cholesky factors (`Σ_k C(N,k)²` numbers), the largest right-hand side block and
    /// Schur complement, and a few `2^N` vectors.
    pub fn bytes(n_sites: usize) -> f64 {
        Self::bytes_for(&binomials(n_sites))
    }

    /// The same for blocks of the given sizes `n_k` (`k = 0..=N`).
    fn bytes_for(blocks: &[f64]) -> f64 {
        let n = blocks.len() - 1;
        let factors: f64 = blocks[1..n].iter().map(|x| x * x).sum();
        let rhs = (1..n.saturating_sub(1)).map(|k| blocks[k] * blocks[k + 1]).fold(0.0, f64::max);
        let square = blocks.iter().map(|x| x * x).fold(0.0, f64::max);
        8.0 * (factors + rhs + 2.0 * square) + 24.0 * (n as f64).exp2()
    }

    /// Number of sites `N`.
    pub fn n_sites(&self) -> usize {
        self.n_sites
    }

    /// `E_d = ⟨D|H_g|D⟩ = −Σ_{i<j} g_ij`, the energy all others are measured from.
    pub fn e_d(&self) -> f64 {
        self.e_d
    }

    /// Sizes of the blocks `k = 0..=N` after the symmetry reduction.
    pub fn block_sizes(&self) -> Vec<usize> {
        self.orbits.reps.iter().map(Vec::len).collect()
    }

    /// Amplitudes on the `2^N` basis states of a vector `x` given in the orbit basis:
    /// `x(s) = x_O / √|O|` for `s ∈ O`.
    pub fn expand(&self, x: &[f64]) -> Vec<f64> {
        (0..dimension(self.n_sites))
            .map(|s| {
                let k = s.count_ones() as usize;
                let a = self.orbits.index[s] as usize;
                x[self.offset[k] + a] / (self.orbits.sizes[k][a] as f64).sqrt()
            })
            .collect()
    }

    /// `√(|O_a|/|O_b|)` for orbit `a` of block `k` and orbit `b` of block `k2`.
    #[inline]
    fn weight(&self, k: usize, a: usize, k2: usize, b: usize) -> f64 {
        (self.orbits.sizes[k][a] as f64 / self.orbits.sizes[k2][b] as f64).sqrt()
    }

    /// `K_k` for block `k` without the coupling to block `k + 1`: `D_k − E_d − ε`.
    fn bare_block(&self, k: usize, eps: f64) -> Mat<f64> {
        let reps = &self.orbits.reps[k];
        let mut m = Mat::<f64>::zeros(reps.len(), reps.len());
        for (a, &s) in reps.iter().enumerate() {
            let s = s as usize;
            m[(a, a)] += self.wall[s] - eps;
            for &(mask, amp) in &self.flips {
                if (s & mask).count_ones() == 1 {
                    let b = self.orbits.index[s ^ mask] as usize;
                    m[(b, a)] += amp * self.weight(k, a, k, b);
                }
            }
        }
        m
    }

    /// Calls `f(a, b, V_{k+1,k}[b, a])` for every single up-flip of the representative of
    /// orbit `a` of block `k` (entries to the same `b` add up).
    #[inline]
    fn for_each_raise(&self, k: usize, mut f: impl FnMut(usize, usize, f64)) {
        for (a, &s) in self.orbits.reps[k].iter().enumerate() {
            let s = s as usize;
            for i in 0..self.n_sites {
                if (s >> i) & 1 == 0 {
                    let b = self.orbits.index[s | (1 << i)] as usize;
                    f(a, b, self.omega * self.weight(k, a, k + 1, b));
                }
            }
        }
    }

    /// `V_{k+1,k} x` for `x` on block `k`.
    fn raise(&self, k: usize, x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; self.orbits.reps[k + 1].len()];
        self.for_each_raise(k, |a, b, v| y[b] += v * x[a]);
        y
    }

    /// `v = QH|D⟩` on block 1 in the orbit basis: `ω √|O|`.
    fn source(&self) -> Vec<f64> {
        self.orbits.sizes[1].iter().map(|&m| self.omega * (m as f64).sqrt()).collect()
    }

    /// `x = R(E) v` and the scalars of [`ResolventTerms`] at `E = E_d + ε`.
    ///
    /// Cost `≈ Σ_k (n_{k+1}³/3 + 2 n_{k+1}² n_k)` flops (Cholesky and solves, faer), `n_k`
    /// the block sizes (`C(N, k)` without symmetry).
    ///
    /// # Errors
    /// [`SpinbatError::Unsupported`] when some `K_k` is not positive definite: `E` is not
    /// below the spectrum of `QHQ`, so the partitioning is not the strong-coupling one
    /// (at `ε = 0`: `|D⟩, |U⟩` are not separated from the other states).
    pub fn evaluate(&self, eps: f64) -> Result<ResolventTerms> {
        let n = self.n_sites;
        let mut factors: Vec<Option<Llt<f64>>> = (0..n).map(|_| None).collect();
        for k in (1..n).rev() {
            let mut kmat = self.bare_block(k, eps);
            if k + 1 < n {
                let upper = factors[k + 1].as_ref().expect("factored in the previous step");
                // Y = K_{k+1}^{-1} V_{k+1,k}
                let mut y = Mat::<f64>::zeros(self.orbits.reps[k + 1].len(), self.orbits.reps[k].len());
                self.for_each_raise(k, |a, b, v| y[(b, a)] += v);
                upper.solve_in_place(&mut y);
                // K_k −= V_{k,k+1} Y = V_{k+1,k}ᵀ Y: row a gathers the up-flips of orbit a
                let mut flips_of: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.orbits.reps[k].len()];
                self.for_each_raise(k, |a, b, v| flips_of[a].push((b, v)));
                kmat.par_col_iter_mut().enumerate().for_each(|(c, mut col)| {
                    let yc = y.col_as_slice(c);
                    for (a, flips) in flips_of.iter().enumerate() {
                        col[a] -= flips.iter().map(|&(b, v)| v * yc[b]).sum::<f64>();
                    }
                });
            }
            let llt = kmat.llt(Side::Lower).map_err(|_| self.not_below(eps, k))?;
            factors[k] = Some(llt);
        }
        // forward: x_1 = −K_1^{-1} v, x_{k+1} = −K_{k+1}^{-1} V x_k
        let mut x = vec![0.0; self.offset[n + 1]];
        let mut xk = self.source();
        for (k, factor) in factors.iter().enumerate().skip(1) {
            if k > 1 {
                xk = self.raise(k - 1, &xk);
            }
            let mut m = Mat::<f64>::from_fn(xk.len(), 1, |r, _| xk[r]);
            factor.as_ref().expect("factored").solve_in_place(&mut m);
            for (a, v) in xk.iter_mut().enumerate() {
                *v = -m[(a, 0)];
            }
            x[self.offset[k]..self.offset[k + 1]].copy_from_slice(&xk);
        }
        Ok(self.terms(eps, x))
    }

    /// The scalars of [`ResolventTerms`] from `x` (orbit basis; `⟨O|v⟩ = ω√|O|`).
    fn terms(&self, eps: f64, x: Vec<f64>) -> ResolventTerms {
        let n = self.n_sites;
        let overlap = |k: usize| {
            let block = &x[self.offset[k]..self.offset[k + 1]];
            self.omega * block.iter().zip(&self.orbits.sizes[k]).map(|(v, &m)| v * (m as f64).sqrt()).sum::<f64>()
        };
        let s = overlap(1);
        let t = overlap(n - 1);
        let norm2 = x.iter().map(|v| v * v).sum();
        let cross = x.iter().zip(&self.partner).map(|(v, &p)| v * x[p as usize]).sum();
        ResolventTerms { eps, s, t, norm2, cross, x }
    }

    /// The leading order of `t` as `g/ω → ∞`: the resolvent without `V` inside `Q`,
    /// `t_0 = ⟨w| G_{N−1} V G_{N−2} ⋯ V G_1 |v⟩`, `G_k = (E_d − D_k)^{−1}`. Every term
    /// has exactly `N` factors `ω` and `N − 1` inverse couplings, so
    /// `t_0 = c_N ω^N / g^{N−1}` exactly.
    ///
    /// # Errors
    /// [`SpinbatError::Unsupported`] when some `D_k − E_d` is not positive definite (`|D⟩`,
    /// `|U⟩` are not the only ground states of `H_g`: couplings not connecting all sites,
    /// or `|α| ≥ 1`).
    pub fn leading_transfer(&self) -> Result<f64> {
        let n = self.n_sites;
        let mut xk = self.source();
        for k in 1..n {
            if k > 1 {
                xk = self.raise(k - 1, &xk);
            }
            if self.flips.is_empty() {
                for (a, &s) in self.orbits.reps[k].iter().enumerate() {
                    let d = self.wall[s as usize];
                    if d <= 0.0 {
                        return Err(self.degenerate(k));
                    }
                    xk[a] /= -d;
                }
            } else {
                let llt = self.bare_block(k, 0.0).llt(Side::Lower).map_err(|_| self.degenerate(k))?;
                let mut m = Mat::<f64>::from_fn(xk.len(), 1, |r, _| xk[r]);
                llt.solve_in_place(&mut m);
                for (a, v) in xk.iter_mut().enumerate() {
                    *v = -m[(a, 0)];
                }
            }
        }
        Ok(self.omega * xk.iter().zip(&self.orbits.sizes[n - 1]).map(|(v, &m)| v * (m as f64).sqrt()).sum::<f64>())
    }

    fn not_below(&self, eps: f64, k: usize) -> SpinbatError {
        if eps == 0.0 {
            SpinbatError::Unsupported {
                solver: "effective coupling",
                reason: format!(
                    "E_d = {} (all down) is not below the spectrum of the other states (the Schur complement of \
                     the k = {k} up-spin block is not definite): |D>, |U> are not an isolated ground doublet, \
                     which needs couplings connecting all sites, |alpha| < 1 and g large compared with omega",
                    self.e_d
                ),
            }
        } else {
            SpinbatError::NotConverged {
                what: "effective coupling (Newton on E = E_d + s(E) +- t(E))",
                reason: format!("the iterate E - E_d = {eps:e} left the region below the spectrum of QHQ (block {k})"),
            }
        }
    }

    fn degenerate(&self, k: usize) -> SpinbatError {
        SpinbatError::Unsupported {
            solver: "effective coupling",
            reason: format!(
                "H_g has states with {k} up spins at or below E_d = {}: |D>, |U> are not its only ground states \
                 (couplings must connect all sites and |alpha| < 1)",
                self.e_d
            ),
        }
    }
}

/// `C(N, k)` for `k = 0..=N` as floating-point numbers.
pub(crate) fn binomials(n: usize) -> Vec<f64> {
    let mut c = vec![1.0; n + 1];
    for k in 1..=n {
        c[k] = c[k - 1] * (n + 1 - k) as f64 / k as f64;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::Operators;
    use crate::{Boundary, Couplings};

    /// `x = R(E) v` from the recursion, expanded to the `2^N` states, solves
    /// `(E − QHQ) x = v` with `QHQ` taken from the full-space operators (an independent
    /// construction); the symmetry-reduced and the plain blocks give the same scalars.
    #[test]
    fn recursion_solves_the_q_space_system() {
        for (n, alpha, couplings, boundary) in [
            (2, 0.0, Couplings::NearestNeighbour, Boundary::Open),
            (4, 0.0, Couplings::PowerLaw { p: 1.0 }, Boundary::Open),
            (5, 0.3, Couplings::NearestNeighbour, Boundary::Periodic),
            (5, -0.2, Couplings::PowerLaw { p: 0.5 }, Boundary::Open),
            (6, 0.2, Couplings::PowerLaw { p: 0.0 }, Boundary::Open),
            (
                3,
                0.1,
                Couplings::Matrix { m: vec![vec![0.0, 1.0, 2.0], vec![1.0, 0.0, 3.0], vec![2.0, 3.0, 0.0]] },
                Boundary::Open,
            ),
        ] {
            let chain = Chain::builder(n)
                .g(20.0)
                .omega(3.0)
                .alpha(alpha)
                .couplings(couplings.clone())
                .boundary(boundary)
                .build()
                .unwrap();
            let ops = Operators::new(&chain).unwrap();
            let eps = -0.7;
            let plain = Partition::without_symmetry(&chain).unwrap().evaluate(eps).unwrap();
            let part = Partition::new(&chain).unwrap();
            let r = part.evaluate(eps).unwrap();
            let what = format!("N {n} {couplings:?} {boundary:?}: blocks {:?}", part.block_sizes());
            for (a, b) in [(r.s, plain.s), (r.t, plain.t), (r.norm2, plain.norm2), (r.cross, plain.cross)] {
                assert!((a - b).abs() < 1e-14 * b.abs(), "{what}: reduced {a} vs plain {b}");
            }
            let x = part.expand(&r.x);
            let dim = dimension(n);
            let (d, u) = (0, dim - 1);
            let e = part.e_d() + eps;
            let mut worst: f64 = 0.0;
            let mut scale: f64 = 0.0;
            let mut hx = vec![0.0; dim];
            for s in (0..dim).filter(|&s| s != d && s != u) {
                ops.column_h(s, |row, h| hx[row] += h * x[s]);
            }
            for s in (0..dim).filter(|&s| s != d && s != u) {
                // (E − QHQ) x = v with v = ω on the one-up states
                let v = if s.count_ones() == 1 { chain.omega() } else { 0.0 };
                worst = worst.max((e * x[s] - hx[s] - v).abs());
                scale = scale.max(e.abs() * x[s].abs());
            }
            assert!(worst < 1e-13 * scale.max(1.0), "{what}: residual {worst:e}");
            assert_eq!((x[d], x[u]), (0.0, 0.0));
            let one_up: f64 = (0..n).map(|i| x[1 << i]).sum();
            let one_down: f64 = (0..n).map(|i| x[u ^ (1 << i)]).sum();
            assert!((r.s - chain.omega() * one_up).abs() < 1e-14 * r.s.abs(), "{what}");
            assert!((r.t - chain.omega() * one_down).abs() < 1e-14 * r.t.abs(), "{what}");
            let norm2: f64 = x.iter().map(|v| v * v).sum();
            assert!((r.norm2 - norm2).abs() < 1e-14 * norm2, "{what}");
        }
    }

    #[test]
    fn memory_estimate_counts_the_factors() {
        // Σ_k C(N,k)² = C(2N, N): 12870 numbers for N = 8, minus the two 1×1 blocks
        let factors = 8.0 * (12870.0 - 2.0);
        assert!(Partition::bytes(8) > factors && Partition::bytes(8) < 3.0 * factors);
        assert_eq!(binomials(5), vec![1.0, 5.0, 10.0, 10.0, 5.0, 1.0]);
    }
}
