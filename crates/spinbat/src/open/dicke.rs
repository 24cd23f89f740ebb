//! The Lindblad generator of a permutation-symmetric battery with collective decay on the
//! `N + 1` Dicke states: a `(N + 1) × (N + 1)` density matrix instead of `2^N × 2^N`.
//!
//! **When it applies.** All couplings equal (`p = 0`, [`crate::symmetry::uniform_coupling`]),
//! uniform fields, and no channel but the collective one `L = √Γ J⁻`, `J⁻ = Σ_i σ_i⁻`: `H`,
//! `H0` and `J⁻` commute with every permutation of the sites and map the symmetric states
//! `|k⟩ = |J = N/2, J_z = k − N/2⟩` (`k` up spins, [`crate::symmetry::DickeSpace`]) into
//! themselves, so `ρ(t)` starting from all-down (`|0⟩⟨0|`) stays on them. Local dephasing
//! or decay break this (they mix in `J < N/2`): the full-space [`super::Liouvillian`] then.
//!
//! **Matrix elements** (`X_rc = ⟨r|X|c⟩`, `r, c = 0..N`):
//! * `H` tridiagonal: charging `h_k = d_k = 2g'(1 − α)k(N − k)` (`H_g` up to a constant),
//!   `β_k = ⟨k+1|H|k⟩ = ω√((N − k)(k + 1))`; storage `h_k = ε_k = 2Bk + d_k`, `β = 0`;
//! * `J⁻|k⟩ = s_k|k − 1⟩`, `s_k = √(k(N − k + 1))` (`= √(j(j+1) − m(m−1))`, `m = k − N/2`),
//!   `J⁺J⁻|k⟩ = n_k|k⟩`, `n_k = s_k² = k(N − k + 1)`;
//!
//! `(𝓛X)_rc = −i[h_r X_rc + β_{r−1}X_{r−1,c} + β_r X_{r+1,c} − X_rc h_c − X_{r,c−1}β_{c−1}
//! − X_{r,c+1}β_c] + Γ[s_{r+1}s_{c+1} X_{r+1,c+1} − ½(n_r + n_c) X_rc]`:
//! column `c` of `𝓛X` reads columns `c − 1, c, c + 1`, about eight multiply-adds per entry,
//! `O((N + 1)²)` per application.
//!
//! **Numerical range** (Hilbert–Schmidt, for the ellipse of the Chebyshev steps): the
//! commutator is skew-Hermitian with eigenvalues `−i(E_m − E_n)`, so it adds `i[−w, w]`,
//! `w` the width of the Gershgorin enclosure of the tridiagonal `H`. The dissipator
//! `𝒟 = Γ(S − ½{J⁺J⁻, ·})`, `SX = J⁻XJ⁺`, is split into its Hermitian part
//! `Γ((S + S†)/2 − ½{J⁺J⁻, ·})` and its skew part `Γ(S − S†)/2`; on the basis `|r⟩⟨c|` both
//! are tridiagonal along the diagonals `r − c = const` (`S` maps `|r+1⟩⟨c+1|` to
//! `s_{r+1}s_{c+1}|r⟩⟨c|`), and Gershgorin with `s_a s_b ≤ (n_a + n_b)/2` bounds them:
//! * real part `≤ Γ max_{r,c} (n_{r+1} − n_r + n_{c+1} − n_c)/4 = ΓN/2` (`n_{k+1} − n_k =
//!   N − 2k`, `n_{N+1} = 0`): the gain of the Hilbert–Schmidt norm while the state purifies
//!   towards all-down, `O(N)` and not `O(N²)`;
//! * real part `≥ −(Γ/2) max_k (3n_k + n_{k+1}) ≈ −2Γ(N + 1)²/4`;
//! * imaginary part within `±(Γ/2) max_k (n_k + n_{k+1}) ≈ ±Γ(N + 1)²/4`.
//!
//! The ellipse therefore spans `b ≈ w + Γ(N+1)²/4` with `w ≈ |2g'(1 − α)|N²/4 + 2ω(N + 1)`:
//! the number of Chebyshev terms per unit time grows like `N²` (superradiance itself is
//! fast: the rate `ΓN` of the first emissions, `Γ(N/2)²` at the middle of the cascade).
//! Checked against the full-space [`super::Liouvillian`] on the symmetric states
//! (unit tests) and, propagated, against the full-space density matrix
//! (`tests/contract/open.rs`).

use super::generator::LindbladGenerator;
use super::liouvillian::{Generator, MatrixSums};
use super::noise::{Noise, Rates};
use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use crate::symmetry::{uniform_coupling, DickeSpace};
use num_complex::Complex64;

/// The Lindblad generator on the `N + 1` Dicke states (module docs).
#[derive(Debug, Clone)]
pub struct DickeLiouvillian {
    n: usize,
    generator: Generator,
    rates: Rates,
    /// diagonal of `H` (up to a constant)
    h: Vec<f64>,
    /// `β_k = ⟨k+1|H|k⟩`, `k < N`
    beta: Vec<f64>,
    /// `s_k = √(k(N − k + 1))`, `k = 0..=N + 1` (`s_0 = s_{N+1} = 0`)
    s: Vec<f64>,
    /// `n_k = s_k²`
    nn: Vec<f64>,
    /// `ε_k = ⟨k|H0|k⟩ − E_0`
    eps: Vec<f64>,
    /// `λ_max(H_g)` on the Dicke states
    h_g_max: f64,
    h_width: f64,
    work_norm: f64,
}

/// Whether the open battery of `chain` under `noise` stays in the Dicke states: all
/// couplings equal and no local channel (collective decay, or none).
pub fn keeps_dicke_states(chain: &Chain, noise: &Noise) -> bool {
    uniform_coupling(chain).is_some() && noise.dephasing == 0.0 && noise.decay == 0.0
}

impl DickeLiouvillian {
    /// The generator for `chain` under `noise` (collective decay only) with the Hamiltonian
    /// of `generator`. Holds a few `N + 1` tables.
    ///
    /// # Errors
    /// The first of [`Noise::problems`]; [`SpinbatError::Unsupported`] when the couplings
    /// are not all equal or a local channel acts ([`keeps_dicke_states`]).
    pub fn new(chain: &Chain, noise: &Noise, generator: Generator) -> Result<Self> {
        noise.check(chain.b())?;
        if !keeps_dicke_states(chain, noise) {
            return Err(SpinbatError::Unsupported {
                solver: "density-matrix",
                reason: "the Dicke density matrix needs all couplings equal (p = 0) and no local channel (only \
                         --collective-decay): the state leaves the symmetric states otherwise"
                    .to_string(),
            });
        }
        let space = DickeSpace::new(chain).expect("uniform couplings were checked");
        let n = chain.n_sites();
        let g = uniform_coupling(chain).unwrap_or(0.0);
        let hg0 = -g * n as f64 * (n as f64 - 1.0) / 2.0;
        let (h, beta): (Vec<f64>, Vec<f64>) = match generator {
            Generator::Charging => ((0..=n).map(|k| space.diag(k)).collect(), (0..n).map(|k| space.off(k)).collect()),
            Generator::Storage => ((0..=n).map(|k| space.work(k)).collect(), vec![0.0; n]),
        };
        let s: Vec<f64> = (0..=n + 1).map(|k| (k as f64 * (n + 1 - k) as f64).sqrt()).collect();
        let nn: Vec<f64> = (0..=n + 1).map(|k| k as f64 * (n + 1 - k) as f64).collect();
        let eps: Vec<f64> = (0..=n).map(|k| space.work(k)).collect();
        let off = |k: usize| {
            let below = if k > 0 { beta[k - 1].abs() } else { 0.0 };
            let above = if k < n { beta[k].abs() } else { 0.0 };
            below + above
        };
        let hi = (0..=n).map(|k| h[k] + off(k)).fold(f64::NEG_INFINITY, f64::max);
        let lo = (0..=n).map(|k| h[k] - off(k)).fold(f64::INFINITY, f64::min);
        let h_g_max = hg0 + (0..=n).map(|k| space.diag(k)).fold(f64::NEG_INFINITY, f64::max);
        Ok(DickeLiouvillian {
            n,
            generator,
            rates: noise.rates(chain.b()),
            h,
            beta,
            s,
            nn,
            eps,
            h_g_max,
            h_width: hi - lo,
            work_norm: space.work_norm(),
        })
    }

    /// The Hamiltonian of the coherent part.
    pub fn generator(&self) -> Generator {
        self.generator
    }

    /// `ε_k = ⟨k|H0|k⟩ − E_0`, the work operator on the Dicke states (diagonal).
    pub fn work_diagonal(&self) -> &[f64] {
        &self.eps
    }

    /// `max_k ε_k = λ_max(H0) − E_0` on the Dicke states: the largest work any symmetric
    /// state holds.
    pub fn max_work(&self) -> f64 {
        self.eps.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// The dissipator's rectangle (module docs): `(lo, hi, imaginary half-extent)`.
    fn dissipator_range(&self) -> (f64, f64, f64) {
        let g = self.rates.collective;
        if g == 0.0 {
            return (0.0, 0.0, 0.0);
        }
        let n = self.n;
        let nn = &self.nn;
        let lo = -0.5 * g * (0..=n).map(|k| 3.0 * nn[k] + nn[k + 1]).fold(0.0, f64::max);
        let hi = 0.5 * g * (0..=n).map(|k| nn[k + 1] - nn[k]).fold(0.0, f64::max);
        let im = 0.5 * g * (0..=n).map(|k| nn[k] + nn[k + 1]).fold(0.0, f64::max);
        (lo, hi, im)
    }
}

impl LindbladGenerator for DickeLiouvillian {
    type Workspace = ();

    fn n_sites(&self) -> usize {
        self.n
    }

    fn dim(&self) -> usize {
        self.n + 1
    }

    fn rates(&self) -> Rates {
        self.rates
    }

    /// About `2^13` entries a task: a column of `N + 1` entries is too short to be one.
    fn columns_per_task(&self) -> usize {
        (8192 / (self.n + 1)).max(1)
    }

    fn describe(&self) -> String {
        format!("Dicke density matrix ({0} x {0}, the symmetric states)", self.n + 1)
    }

    /// `(a, h, b)` from the commutator's width and the dissipator's bounds (module docs).
    fn numerical_range(&self) -> (f64, f64, f64) {
        let (lo, hi, im) = self.dissipator_range();
        (0.5 * (lo + hi), 0.5 * (hi - lo), self.h_width + im)
    }

    /// `max_k |ε_k|` (exact: the work operator is diagonal here).
    fn work_operator_norm(&self) -> f64 {
        self.work_norm
    }

    /// Closed: the closed battery's bound `N(|B| + B) + min(N|ω|, λ_max(H_g) + G)` with the
    /// exact `λ_max(H_g)` of the Dicke states; open: `max_k ε_k`, exact `λ_max(H0) − E_0`
    /// on the Dicke states (both where both hold).
    fn work_bound(&self, chain: &Chain, conserves_energy: bool) -> f64 {
        let open = self.max_work();
        if conserves_energy {
            chain.work_bound_with(self.h_g_max).min(open)
        } else {
            open
        }
    }

    fn workspace(&self) {}

    fn prepare(&self, _x: &[Complex64], _ws: &mut ()) {}

    #[inline]
    fn column(&self, x: &[Complex64], c: usize, out: &mut [Complex64], _ws: &()) {
        let n = self.n;
        let d = n + 1;
        let col = |k: usize| &x[k * d..(k + 1) * d];
        let xc = col(c);
        let hc = self.h[c];
        let beta = &self.beta;
        // A = HX_c − (XH)_c (real tables, complex entries)
        for (r, o) in out.iter_mut().enumerate() {
            let mut a = xc[r] * (self.h[r] - hc);
            if r > 0 {
                a += xc[r - 1] * beta[r - 1];
            }
            if r < n {
                a += xc[r + 1] * beta[r];
            }
            *o = a;
        }
        if c > 0 && beta[c - 1] != 0.0 {
            let b = beta[c - 1];
            for (o, &v) in out.iter_mut().zip(col(c - 1)) {
                *o -= v * b;
            }
        }
        if c < n && beta[c] != 0.0 {
            let b = beta[c];
            for (o, &v) in out.iter_mut().zip(col(c + 1)) {
                *o -= v * b;
            }
        }
        // −iA − (Γ/2)(n_r + n_c) X_rc
        let g = self.rates.collective;
        let half = 0.5 * g;
        let nc = self.nn[c];
        for ((o, &xv), &nr) in out.iter_mut().zip(xc).zip(&self.nn) {
            let rate = -half * (nr + nc);
            *o = Complex64::new(o.im + rate * xv.re, -o.re + rate * xv.im);
        }
        // Γ s_{r+1} s_{c+1} X_{r+1,c+1}
        if g != 0.0 && c < n {
            let sc = g * self.s[c + 1];
            let next = col(c + 1);
            for ((o, &v), &sr) in out[..n].iter_mut().zip(&next[1..]).zip(&self.s[1..=n]) {
                *o += v * (sc * sr);
            }
        }
    }

    fn column_sums(&self, c: usize, col: &[Complex64]) -> MatrixSums {
        let f2 = col.iter().map(|v| v.norm_sqr()).sum();
        MatrixSums { work: col[c] * self.eps[c], trace: col[c], frobenius_sq: f2 }
    }

    /// `H0 − E_0` is diagonal on the Dicke states (`ε_k`): the work needs the diagonal only.
    fn lower_column_sums(&self, c: usize, col: &[Complex64], _sign: f64) -> MatrixSums {
        let below: f64 = col[c + 1..].iter().map(|v| v.norm_sqr()).sum();
        MatrixSums { work: col[c] * self.eps[c], trace: col[c], frobenius_sq: col[c].norm_sqr() + 2.0 * below }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;
    use crate::open::Liouvillian;

    type C = Complex64;

    /// The normalised Dicke state `|k⟩` as a full-space vector: `1/√C(N,k)` on every basis
    /// state with `k` bits set.
    fn dicke_vector(n: usize, k: usize) -> Vec<f64> {
        let states: Vec<usize> = (0..1usize << n).filter(|s| s.count_ones() as usize == k).collect();
        let a = 1.0 / (states.len() as f64).sqrt();
        let mut v = vec![0.0; 1 << n];
        for s in states {
            v[s] = a;
        }
        v
    }

    #[test]
    fn action_equals_the_full_space_generator_on_symmetric_matrices() {
        // X = Σ_rc X_rc |r⟩⟨c| embedded into the full space, 𝓛 applied there, projected back
        for (n, alpha, g, omega) in [(3, 0.0, 0.7, 1.3), (4, 0.4, 1.1, 2.0), (5, -0.3, 0.5, 0.9)] {
            let chain = Chain::builder(n)
                .couplings(Couplings::PowerLaw { p: 0.0 })
                .alpha(alpha)
                .g(g)
                .b(0.8)
                .omega(omega)
                .build()
                .unwrap();
            for noise in [Noise::default(), Noise { collective_decay: 0.35, ..Noise::default() }] {
                for generator in [Generator::Charging, Generator::Storage] {
                    let dl = DickeLiouvillian::new(&chain, &noise, generator).unwrap();
                    let fl = Liouvillian::new(&chain, &noise, generator).unwrap();
                    let d = n + 1;
                    let big = 1usize << n;
                    let x: Vec<C> =
                        (0..d * d).map(|k| C::new((k as f64 * 0.37).sin(), (k as f64 * 0.91).cos())).collect();
                    let vs: Vec<Vec<f64>> = (0..d).map(|k| dicke_vector(n, k)).collect();
                    let mut full = vec![C::new(0.0, 0.0); big * big];
                    for r in 0..d {
                        for c in 0..d {
                            for (a, &vr) in vs[r].iter().enumerate() {
                                for (b, &vc) in vs[c].iter().enumerate() {
                                    full[b * big + a] += x[c * d + r] * (vr * vc);
                                }
                            }
                        }
                    }
                    let mut out_full = vec![C::new(0.0, 0.0); big * big];
                    fl.apply(&full, &mut out_full, &mut fl.workspace());
                    let mut out = vec![C::new(0.0, 0.0); d * d];
                    let sums = LindbladGenerator::apply(&dl, &x, &mut out, &mut ());
                    let full_sums = fl.sums(&out_full);
                    for r in 0..d {
                        for c in 0..d {
                            let mut want = C::new(0.0, 0.0);
                            for (a, &vr) in vs[r].iter().enumerate() {
                                for (b, &vc) in vs[c].iter().enumerate() {
                                    want += out_full[b * big + a] * (vr * vc);
                                }
                            }
                            let got = out[c * d + r];
                            assert!((got - want).norm() < 1e-12, "N = {n} {generator:?} ({r}, {c}): {got} vs {want}");
                        }
                    }
                    // the same work, trace and Frobenius norm: 𝓛 keeps the symmetric states
                    assert!((sums.work - full_sums.work).norm() < 1e-11);
                    assert!((sums.trace - full_sums.trace).norm() < 1e-12);
                    assert!((sums.frobenius_sq - full_sums.frobenius_sq).abs() < 1e-10);
                }
            }
        }
    }

    #[test]
    fn numerical_range_holds_the_rayleigh_quotients() {
        let chain = Chain::builder(6).couplings(Couplings::PowerLaw { p: 0.0 }).g(0.4).omega(1.5).build().unwrap();
        let noise = Noise { collective_decay: 0.8, ..Noise::default() };
        let l = DickeLiouvillian::new(&chain, &noise, Generator::Charging).unwrap();
        let (a, h, b) = l.numerical_range();
        let d = 7;
        // the extreme real part: all weight near the top of the cascade gains least, |0⟩⟨0|
        // gains ΓN (purity growth), plus random matrices
        for seed in 0..200u64 {
            let x: Vec<C> = (0..d * d)
                .map(|k| {
                    let t = (k as u64 * 2654435761 + seed * 97) as f64;
                    C::new((t * 1e-3).sin(), (t * 1.7e-3).cos())
                        * if k % (seed as usize % 5 + 1) == 0 { 1.0 } else { 0.1 }
                })
                .collect();
            let mut out = vec![C::new(0.0, 0.0); d * d];
            LindbladGenerator::apply(&l, &x, &mut out, &mut ());
            let q: C =
                x.iter().zip(&out).map(|(u, v)| u.conj() * v).sum::<C>() / x.iter().map(|u| u.norm_sqr()).sum::<f64>();
            assert!(
                (q.re - a).abs() <= h * (1.0 + 1e-12) && q.im.abs() <= b * (1.0 + 1e-12),
                "{q} outside ({a}, {h}, {b})"
            );
        }
        // with Γ = 0 the range is i[−w, w], w the width of H's enclosure
        let closed = DickeLiouvillian::new(&chain, &Noise::default(), Generator::Charging).unwrap();
        assert_eq!(closed.numerical_range().0, 0.0);
        assert!(closed.is_closed());
    }

    #[test]
    fn local_channels_and_unequal_couplings_are_refused() {
        let p0 = Chain::builder(4).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
        let p1 = Chain::builder(4).build().unwrap();
        let collective = Noise { collective_decay: 0.1, ..Noise::default() };
        assert!(DickeLiouvillian::new(&p0, &collective, Generator::Charging).is_ok());
        assert!(DickeLiouvillian::new(&p1, &collective, Generator::Charging).is_err());
        let local = Noise { dephasing: 0.1, ..collective };
        assert!(!keeps_dicke_states(&p0, &local));
        assert!(DickeLiouvillian::new(&p0, &local, Generator::Charging).is_err());
    }
}
