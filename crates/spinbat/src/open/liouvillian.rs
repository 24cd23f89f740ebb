//! The Lindblad generator acting on a density matrix, matrix-free:
//!
//! `𝓛X = −i[H, X] + Σ_k (L_k X L_k† − ½{L_k†L_k, X})`
//!
//! with `H` the charging (`H_g + V`) or the storage (`H0`) Hamiltonian and the channels of a
//! [`Noise`]. `X` is a dense `2^N × 2^N` complex matrix stored by columns (`X[c·2^N + r] =
//! X_rc`, each column a `2^N` vector); the `4^N × 4^N` Liouvillian is never formed. In the
//! `Z` basis (bit `i` set: site `i` up, [`crate::basis`]) every term is a bit operation:
//!
//! * `(HX)_rc = h(r) X_rc + ω Σ_i X_{r⊕2^i, c} + Σ_{(i,j) anti-parallel in r} a_ij X_{r⊕m_ij, c}`
//!   with `h` the diagonal (`H_g`, plus `B Σ z_i` in storage), `a_ij = −2αg_ij`,
//!   `m_ij = 2^i + 2^j`; and `XH = (column combinations)` the same with the roles of `r` and
//!   `c` exchanged, since `H` is real symmetric: `(XH)_{:,c} = Σ_k X_{:,k} H_kc`. So
//!   `−i[H, X]` is `−i((h(r) − h(c))X_rc + ω(Σ_i X_{r⊕2^i,c} − Σ_i X_{r,c⊕2^i}) + …)`:
//!   the left action on one column and contiguous combinations of `N + 1` columns;
//! * dephasing: `Σ_i (Z_i X Z_i − X)_rc = −2 d(r, c) X_rc`, `d` the Hamming distance;
//! * local decay and pumping (`σ⁺σ⁻ = n`, the up projector): the jumps
//!   `(σ_i⁻Xσ_i⁺)_rc = X_{r+2^i, c+2^i}` where bit `i` is clear in `r` and `c`,
//!   `(σ_i⁺Xσ_i⁻)_rc = X_{r−2^i, c−2^i}` where it is set in both, and the diagonal
//!   `−(γ↓/2)(|r| + |c|) − (γ↑/2)(2N − |r| − |c|)` (`|s|` the number of up spins);
//! * collective decay (`J^± = Σ_i σ_i^±`): `Γ(J⁻XJ⁺ − ½J⁺J⁻X − ½XJ⁺J⁻)` from the two
//!   intermediate matrices `Y = J⁻X` and `Z = XJ⁺` (`Z_{:,c} = Σ_{i clear in c} X_{:,c+2^i}`):
//!   `J⁻XJ⁺ = J⁻Z`, `J⁺J⁻X = J⁺Y`, `(XJ⁺J⁻)_{:,c} = Σ_{i set in c} Z_{:,c−2^i}`.
//!
//! Cost per application: `O(4^N (N + P))` (`P` coupled pairs when `α ≠ 0`), about `2(N + 1)`
//! complex multiply-adds per entry for the Ising chain with local noise, plus `5N` for the
//! collective channel; parallel over columns (rayon). Checked against the dense
//! superoperator built from Kronecker products (unit tests) and QuTiP `mesolve`
//! (`tests/contract/open.rs`).

use super::noise::{Noise, Rates};
use crate::basis::{dimension, MAX_EXACT_SITES};
use crate::error::Result;
use crate::model::Chain;
use crate::operator::{flip_flops, Operators, PairFlip};
use num_complex::Complex64;
use rayon::prelude::*;

/// Which Hamiltonian drives the coherent part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    /// Charging: `H = H_g + V`, `V = ω Σ_i X_i` (the field `B` off).
    Charging,
    /// Storage: `H0 = H_B + H_g` (the transverse field off).
    Storage,
}

/// Sums over one matrix that the propagator needs, gathered in the pass that writes it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MatrixSums {
    /// `Tr((H0 − E_0) X)`: the work of a state, or of a term of its series (complex for a
    /// matrix that is not Hermitian).
    pub work: Complex64,
    /// `Tr X`.
    pub trace: Complex64,
    /// `‖X‖_F² = Σ_rc |X_rc|²` (the trace norm is at most `√D ‖X‖_F`).
    pub frobenius_sq: f64,
}

impl MatrixSums {
    /// The sums of two disjoint sets of columns together.
    pub fn join(self, o: MatrixSums) -> MatrixSums {
        MatrixSums {
            work: self.work + o.work,
            trace: self.trace + o.trace,
            frobenius_sq: self.frobenius_sq + o.frobenius_sq,
        }
    }
}

/// Buffers of the collective channel (`Y = J⁻X`, `Z = XJ⁺`), `2 · 16 · 4^N` bytes; empty
/// without it.
#[derive(Debug, Default)]
pub struct Workspace {
    y: Vec<Complex64>,
    z: Vec<Complex64>,
}

/// The Lindblad generator of a chain with a noise (module docs).
#[derive(Debug, Clone)]
pub struct Liouvillian {
    n_sites: usize,
    dim: usize,
    generator: Generator,
    /// diagonal of the Hamiltonian
    diag_h: Vec<f64>,
    /// diagonal of `H0 − E_0` (the work operator)
    diag_work: Vec<f64>,
    field: f64,
    flips: Vec<PairFlip>,
    rates: Rates,
    h_width: f64,
    h0_half_width: f64,
    work_norm: f64,
    h_g_max: f64,
}

impl Liouvillian {
    /// The generator for `chain` under `noise` with the Hamiltonian of `generator`.
    /// Holds two diagonals, `16 · 2^N` bytes.
    ///
    /// # Errors
    /// The first of [`Noise::problems`] for the chain's field; [`crate::SpinbatError::TooLarge`]
    /// when a `2^N × 2^N` matrix could not even be indexed.
    pub fn new(chain: &Chain, noise: &Noise, generator: Generator) -> Result<Self> {
        noise.check_for(chain)?;
        let n = chain.n_sites();
        if 2 * n > MAX_EXACT_SITES {
            return Err(crate::resources::cannot_index("density-matrix", n, 16.0 * (2.0 * n as f64).exp2()));
        }
        let ops = Operators::new(chain)?;
        let dim = dimension(n);
        let e0 = chain.initial_energy();
        let diag_h0: Vec<f64> = ops.diag_g().iter().enumerate().map(|(s, &g)| ops.field_energy(s) + g).collect();
        let diag_work: Vec<f64> = diag_h0.iter().map(|&h| h - e0).collect();
        let (diag_h, field) = match generator {
            Generator::Charging => (ops.diag_g().to_vec(), chain.omega()),
            Generator::Storage => (diag_h0.clone(), 0.0),
        };
        let flips = flip_flops(chain);
        let off: f64 = flips.iter().map(|f| f.amp.abs()).sum();
        let range =
            |d: &[f64]| d.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let (lo, hi) = range(&diag_h);
        let h_width = hi - lo + 2.0 * (n as f64 * field.abs() + off);
        let (lo0, hi0) = range(&diag_h0);
        let h0_half_width = 0.5 * (hi0 - lo0) + off;
        let work_norm = (hi0 + off - e0).abs().max((lo0 - off - e0).abs());
        let h_g_max = ops.h_g_max_bound();
        Ok(Liouvillian {
            n_sites: n,
            dim,
            generator,
            diag_h,
            diag_work,
            field,
            flips,
            rates: noise.rates(chain.b()),
            h_width,
            h0_half_width,
            work_norm,
            h_g_max,
        })
    }

    /// Sites `N`.
    pub fn n_sites(&self) -> usize {
        self.n_sites
    }

    /// `D = 2^N`: a matrix has `D²` entries.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The Hamiltonian of the coherent part.
    pub fn generator(&self) -> Generator {
        self.generator
    }

    /// The channels' rates.
    pub fn rates(&self) -> Rates {
        self.rates
    }

    /// Upper bound `Λ` on the norm of `𝓛` induced by the trace norm (and by the
    /// Hilbert–Schmidt norm): `‖[H, X]‖ ≤ 2‖H − c‖ ‖X‖ ≤ (E_max − E_min)‖X‖` with the
    /// Gershgorin enclosure `[E_min, E_max]` of `H`, and `‖L X L†‖, ‖L†L X‖ ≤ ‖L‖²‖X‖` for
    /// each channel ([`Rates::dissipator_norm_bound`]):
    /// `Λ = (E_max − E_min) + Σ_k 2‖L_k‖²`.
    pub fn norm_bound(&self) -> f64 {
        self.h_width + self.rates.dissipator_norm_bound(self.n_sites)
    }

    /// A rectangle `{a + x + iy : |x| ≤ h, |y| ≤ b}` holding the numerical range of `𝓛`
    /// in the Hilbert–Schmidt inner product `⟨X, Y⟩ = Tr X†Y`, returned as `(a, h, b)`. The
    /// numerical range of a sum lies in the sum of the ranges:
    /// * `−i[H, ·]` is skew-Hermitian with eigenvalues `−i(E_m − E_n)`: `i[−w, w]`, `w` the
    ///   width of the Gershgorin enclosure of `H`;
    /// * dephasing `X ↦ Σ_i γ(Z_iXZ_i − X)` is Hermitian with eigenvalues `−2γ d(r, c)`:
    ///   `[−2γN, 0]`;
    /// * any other channel: `−½{L†L, ·}` is Hermitian with eigenvalues in `[−‖L‖², 0]` and
    ///   `|⟨X, LXL†⟩| ≤ ‖L‖²‖X‖_F²`, so `[−2‖L‖², ‖L‖²] + i[−‖L‖², ‖L‖²]`, with
    ///   `‖σ^±‖ = 1` and `‖J⁻‖² ≤ (N + 1)²/4` ([`Rates::dissipator_norm_bound`]).
    pub fn numerical_range(&self) -> (f64, f64, f64) {
        let n = self.n_sites as f64;
        let r = self.rates;
        // the non-Hermitian channels' Σ‖L‖²
        let other = n * (r.down + r.up) + r.collective * (n + 1.0).powi(2) / 4.0;
        let lo = -2.0 * r.dephasing * n - 2.0 * other;
        let hi = other;
        (0.5 * (lo + hi), 0.5 * (hi - lo), self.h_width + other)
    }

    /// Whether `𝓛` is normal in the Hilbert–Schmidt inner product because no channel acts
    /// (`−i[H, ·]` alone, skew-Hermitian).
    pub fn is_closed(&self) -> bool {
        self.rates == Rates::default()
    }

    /// `‖H0 − E_0‖ ≤ max(|E_max − E_0|, |E_min − E_0|)` over the Gershgorin enclosure
    /// `[E_min, E_max]` of `H0`: an error `δ` of the state moves the work by at most
    /// `‖H0 − E_0‖ ‖δ‖_1`, traceless or not.
    pub fn work_operator_norm(&self) -> f64 {
        self.work_norm
    }

    /// `min_c ‖H0 − c‖ ≤ (max − min of the diagonal)/2 + Σ_{i<j} 2|α g_ij|` (Gershgorin): a
    /// traceless error `δ` of the state moves the work by `|Tr(H0 δ)| ≤ min_c ‖H0 − c‖ ‖δ‖_1`.
    pub fn h0_half_width(&self) -> f64 {
        self.h0_half_width
    }

    /// Upper bound on `λ_max(H_g)` (Gershgorin; exact for `α = 0`), for the work bound.
    pub fn h_g_max_bound(&self) -> f64 {
        self.h_g_max
    }

    /// Whether the collective channel acts (it needs a [`Workspace`] of two matrices).
    pub fn needs_workspace(&self) -> bool {
        self.rates.collective != 0.0
    }

    /// A workspace sized for this generator (empty without collective decay).
    pub fn workspace(&self) -> Workspace {
        if self.needs_workspace() {
            let zero = Complex64::new(0.0, 0.0);
            Workspace { y: vec![zero; self.dim * self.dim], z: vec![zero; self.dim * self.dim] }
        } else {
            Workspace::default()
        }
    }

    /// The pure state `|s⟩⟨s|` of basis state `s` as a matrix (`s = 0`: all down).
    pub fn basis_state(&self, s: usize) -> Vec<Complex64> {
        let mut rho = vec![Complex64::new(0.0, 0.0); self.dim * self.dim];
        rho[s * self.dim + s] = Complex64::new(1.0, 0.0);
        rho
    }

    /// The [`MatrixSums`] of `x` (length `D²`, by columns).
    pub fn sums(&self, x: &[Complex64]) -> MatrixSums {
        self.check_len(x);
        let d = self.dim;
        x.par_chunks(d)
            .enumerate()
            .map(|(c, col)| self.column_sums(c, col))
            .reduce(MatrixSums::default, MatrixSums::join)
    }

    /// `out = 𝓛x` (both `D²` long, by columns); returns the [`MatrixSums`] of `out`.
    ///
    /// # Panics
    /// If a length is not `D²` or the workspace is too small for the collective channel (a
    /// programming error).
    pub fn apply(&self, x: &[Complex64], out: &mut [Complex64], ws: &mut Workspace) -> MatrixSums {
        self.check_len(x);
        self.check_len(out);
        self.prepare(x, ws);
        let d = self.dim;
        let ws = &*ws;
        out.par_chunks_mut(d)
            .enumerate()
            .map(|(c, o)| {
                self.column(x, c, o, ws);
                self.column_sums(c, o)
            })
            .reduce(MatrixSums::default, MatrixSums::join)
    }

    /// What [`Liouvillian::column`] needs beyond `x` itself, computed once per matrix: the
    /// collective channel's `J⁻x` and `xJ⁺` (nothing without it).
    ///
    /// # Panics
    /// As [`Liouvillian::apply`].
    pub fn prepare(&self, x: &[Complex64], ws: &mut Workspace) {
        if self.needs_workspace() {
            self.check_len(x);
            self.collective_intermediates(x, ws);
        }
    }

    fn check_len(&self, x: &[Complex64]) {
        assert_eq!(x.len(), self.dim * self.dim, "a density matrix of N = {} has 4^N entries", self.n_sites);
    }

    /// The sums of column `c` of a matrix: `(H0 − E_0)` against it (its part of the trace
    /// `Σ_c Σ_r (H0 − E_0)_cr X_rc`), its diagonal entry and its norms.
    pub fn column_sums(&self, c: usize, col: &[Complex64]) -> MatrixSums {
        let mut work = col[c] * self.diag_work[c];
        for f in &self.flips {
            if f.acts_on(c) {
                work += col[c ^ f.mask] * f.amp;
            }
        }
        let f2 = col.iter().map(|v| v.norm_sqr()).sum();
        MatrixSums { work, trace: col[c], frobenius_sq: f2 }
    }

    /// `Y_{:,c} = J⁻X_{:,c}` and `Z_{:,c} = Σ_{i clear in c} X_{:,c+2^i}` for every column.
    fn collective_intermediates(&self, x: &[Complex64], ws: &mut Workspace) {
        let d = self.dim;
        assert!(ws.y.len() == d * d && ws.z.len() == d * d, "the collective channel needs a workspace");
        let n = self.n_sites;
        ws.y.par_chunks_mut(d).zip(ws.z.par_chunks_mut(d)).enumerate().for_each(|(c, (y, z))| {
            let xc = &x[c * d..(c + 1) * d];
            y.fill(Complex64::new(0.0, 0.0));
            z.fill(Complex64::new(0.0, 0.0));
            for i in 0..n {
                let bit = 1usize << i;
                lower_into(y, xc, bit, 1.0, 0);
                if c & bit == 0 {
                    let src = &x[(c | bit) * d..((c | bit) + 1) * d];
                    for (o, &v) in z.iter_mut().zip(src) {
                        *o += v;
                    }
                }
            }
        });
    }

    /// Column `c` of `𝓛x` into `out` (`D` long; module docs for each term), after
    /// [`Liouvillian::prepare`] of `x` into `ws`.
    #[inline]
    pub fn column(&self, x: &[Complex64], c: usize, out: &mut [Complex64], ws: &Workspace) {
        self.column_rows(x, c, 0, out, ws);
    }

    /// Rows `r0..D` of column `c` of `𝓛x` into `out[r0..]` (`out` is `D` long; rows above
    /// `r0` are left as they are), after [`Liouvillian::prepare`] of `x` into `ws`. `r0`
    /// is `0` or a multiple of [`ROW_BLOCK`]: [`lower_start`] gives the rows on and below
    /// the diagonal, all that a Hermitian (or anti-Hermitian) result needs.
    ///
    /// # Panics
    /// If `r0` is not `0` or a multiple of [`ROW_BLOCK`] below `D` (a programming error).
    #[inline]
    pub fn column_rows(&self, x: &[Complex64], c: usize, r0: usize, out: &mut [Complex64], ws: &Workspace) {
        let d = self.dim;
        let n = self.n_sites;
        assert!(r0 == 0 || (r0.is_multiple_of(ROW_BLOCK) && r0 < d), "row start {r0} of a {d}-row column");
        let col = |k: usize| &x[k * d..(k + 1) * d];
        let xc = col(c);
        let zero = Complex64::new(0.0, 0.0);
        // Σ_i X_{r⊕2^i, c} − Σ_i X_{r, c⊕2^i}, scaled by ω below
        out[r0..].fill(zero);
        if self.field != 0.0 {
            for i in 0..n {
                let bit = 1usize << i;
                flip_add(out, xc, bit, r0);
                for (o, &v) in out[r0..].iter_mut().zip(&col(c ^ bit)[r0..]) {
                    *o -= v;
                }
            }
        }
        // the diagonal: −i(ω F + (h(r) − h(c)) X_rc) + (dissipative rate of (r, c)) X_rc
        let w = self.field;
        let hc = self.diag_h[c];
        let r = self.rates;
        let pc = c.count_ones() as f64;
        // −(γ↓/2)(|r| + |c|) − (γ↑/2)(2N − |r| − |c|) = base − ((γ↓ − γ↑)/2)|r|
        let base = -0.5 * (r.down - r.up) * pc - r.up * n as f64;
        let per_up = -0.5 * (r.down - r.up);
        let per_flip = -2.0 * r.dephasing;
        for (k, (o, (&xv, &h))) in out[r0..].iter_mut().zip(xc[r0..].iter().zip(&self.diag_h[r0..])).enumerate() {
            let k = k + r0;
            let coherent = *o * w + xv * (h - hc);
            let rate = base + per_up * k.count_ones() as f64 + per_flip * (k ^ c).count_ones() as f64;
            // −i(a + ib) = b − ia
            *o = Complex64::new(coherent.im + rate * xv.re, -coherent.re + rate * xv.im);
        }
        if !self.flips.is_empty() {
            // −i Σ_{pairs anti-parallel in r} a X_{r⊕m, c}, then +i Σ_{pairs anti-parallel in c} a X_{r, c⊕m}
            for (k, o) in out.iter_mut().enumerate().skip(r0) {
                let mut acc = zero;
                for f in &self.flips {
                    if f.acts_on(k) {
                        acc += xc[k ^ f.mask] * f.amp;
                    }
                }
                *o += Complex64::new(acc.im, -acc.re);
            }
            for f in &self.flips {
                if f.acts_on(c) {
                    for (o, &v) in out[r0..].iter_mut().zip(&col(c ^ f.mask)[r0..]) {
                        *o += Complex64::new(-v.im * f.amp, v.re * f.amp);
                    }
                }
            }
        }
        // jumps of the local channels
        for i in 0..n {
            let bit = 1usize << i;
            if c & bit == 0 && r.down != 0.0 {
                // γ↓ X_{r+2^i, c+2^i} for rows with bit i clear
                lower_into(out, col(c | bit), bit, r.down, r0);
            } else if c & bit != 0 && r.up != 0.0 {
                // γ↑ X_{r−2^i, c−2^i} for rows with bit i set
                raise_into(out, col(c & !bit), bit, r.up, r0);
            }
        }
        if r.collective != 0.0 {
            let g = r.collective;
            let yc = &ws.y[c * d..(c + 1) * d];
            let zc = &ws.z[c * d..(c + 1) * d];
            for i in 0..n {
                let bit = 1usize << i;
                lower_into(out, zc, bit, g, r0); // Γ (J⁻Z)_{:,c}
                raise_into(out, yc, bit, -0.5 * g, r0); // −Γ/2 (J⁺Y)_{:,c}
                if c & bit != 0 {
                    // −Γ/2 (ZJ⁻)_{:,c}
                    let zs = &ws.z[(c & !bit) * d..((c & !bit) + 1) * d];
                    for (o, &v) in out[r0..].iter_mut().zip(&zs[r0..]) {
                        *o -= v * (0.5 * g);
                    }
                }
            }
        }
    }

    /// The [`MatrixSums`] of a matrix `X` with `X† = sX` (`s = ±1`: Hermitian or
    /// anti-Hermitian) from the rows `r ≥ c` of its column `c` (the rows above are not
    /// read), summed over `c`: `‖X‖_F² = Σ_c (|X_cc|² + 2 Σ_{r>c} |X_rc|²)`, and the work
    /// `Tr((H0 − E_0)X) = Σ_c [(H0 − E_0)_cc X_cc + Σ_{r>c} (H0)_cr (X_rc + s X̄_rc)]`
    /// (`(H0)_cr` the flip-flop amplitudes, real).
    pub fn lower_column_sums(&self, c: usize, col: &[Complex64], sign: f64) -> MatrixSums {
        let mut work = col[c] * self.diag_work[c];
        for f in &self.flips {
            let r = c ^ f.mask;
            if r > c && f.acts_on(c) {
                let v = col[r];
                work += Complex64::new(v.re * (1.0 + sign), v.im * (1.0 - sign)) * f.amp;
            }
        }
        let below: f64 = col[c + 1..].iter().map(|v| v.norm_sqr()).sum();
        MatrixSums { work, trace: col[c], frobenius_sq: col[c].norm_sqr() + 2.0 * below }
    }
}

/// Rows are computed in blocks of this many ([`Liouvillian::column_rows`]).
pub const ROW_BLOCK: usize = 8;

/// The first row of column `c` that a Hermitian result needs computed: `c` rounded down to a
/// multiple of [`ROW_BLOCK`] (so every row `r ≥ c` is included).
#[inline]
pub fn lower_start(c: usize) -> usize {
    c & !(ROW_BLOCK - 1)
}

/// Fills the rows above [`lower_start`] of every column of `x` (`d × d` by columns, any `d`) from the
/// rows below: `X_rc = s X̄_cr` (`s = 1`: Hermitian, `s = −1`: anti-Hermitian), reading only
/// entries `(r, c)` with `r ≥ lower_start(c)`. Parallel over blocks of [`ROW_BLOCK`] columns,
/// each reading [`ROW_BLOCK`] contiguous entries of a column per row it writes.
///
/// # Panics
/// If `x` is not `d²` long (a programming error).
pub fn fill_upper(x: &mut [Complex64], d: usize, sign: f64) {
    assert_eq!(x.len(), d * d, "a {d} x {d} matrix");
    struct Shared(*mut Complex64);
    // SAFETY: block b writes rows r < 8b of columns 8b..8b+8 and reads rows 8b..8b+8 of
    // columns r < 8b; a column r is written only above lower_start(r) ≤ r < 8b, so no entry
    // is both read and written, and no two blocks write the same entry.
    unsafe impl Sync for Shared {}
    let base = Shared(x.as_mut_ptr());
    let base = &base;
    // the last block may be narrower (any d; lower_start(c) = 0 for every column of block 0)
    (1..d.div_ceil(ROW_BLOCK)).into_par_iter().for_each(move |b| {
        let cb = b * ROW_BLOCK;
        let width = ROW_BLOCK.min(d - cb);
        for r in 0..cb {
            for j in 0..width {
                // SAFETY: r·d + cb + j and (cb + j)·d + r are below d² (r < cb, cb + j < d)
                unsafe {
                    let v = *base.0.add(r * d + cb + j);
                    *base.0.add((cb + j) * d + r) = Complex64::new(sign * v.re, -sign * v.im);
                }
            }
        }
    });
}

/// `out[r] += v[r ⊕ bit]` for the rows `r ≥ r0` (`r0` as in [`Liouvillian::column_rows`]).
#[inline]
fn flip_add(out: &mut [Complex64], v: &[Complex64], bit: usize, r0: usize) {
    if bit >= ROW_BLOCK {
        for (s, o) in out[r0..].chunks_exact_mut(ROW_BLOCK).enumerate() {
            let t = (r0 + s * ROW_BLOCK) ^ bit;
            for (o, &x) in o.iter_mut().zip(&v[t..t + ROW_BLOCK]) {
                *o += x;
            }
        }
    } else {
        for (o, s) in out[r0..].chunks_exact_mut(2 * bit).zip(v[r0..].chunks_exact(2 * bit)) {
            let (olo, ohi) = o.split_at_mut(bit);
            let (slo, shi) = s.split_at(bit);
            for (o, &v) in olo.iter_mut().zip(shi) {
                *o += v;
            }
            for (o, &v) in ohi.iter_mut().zip(slo) {
                *o += v;
            }
        }
    }
}

/// `out[r] += a · v[r + bit]` for the rows `r ≥ r0` with `bit` clear: `a σ⁻` applied to `v`
/// at the site of `bit` (`(σ⁻v)_r = v_{r+2^i}` where bit `i` of `r` is clear).
#[inline]
fn lower_into(out: &mut [Complex64], v: &[Complex64], bit: usize, a: f64, r0: usize) {
    if bit >= ROW_BLOCK && !r0.is_multiple_of(2 * bit) {
        for (s, o) in out[r0..].chunks_exact_mut(ROW_BLOCK).enumerate() {
            let s = r0 + s * ROW_BLOCK;
            if s & bit == 0 {
                for (o, &x) in o.iter_mut().zip(&v[s + bit..s + bit + ROW_BLOCK]) {
                    *o += x * a;
                }
            }
        }
        return;
    }
    for (o, s) in out[r0..].chunks_exact_mut(2 * bit).zip(v[r0..].chunks_exact(2 * bit)) {
        for (o, &x) in o[..bit].iter_mut().zip(&s[bit..]) {
            *o += x * a;
        }
    }
}

/// `out[r] += a · v[r − bit]` for the rows `r ≥ r0` with `bit` set: `a σ⁺` applied to `v`.
#[inline]
fn raise_into(out: &mut [Complex64], v: &[Complex64], bit: usize, a: f64, r0: usize) {
    if bit >= ROW_BLOCK && !r0.is_multiple_of(2 * bit) {
        for (s, o) in out[r0..].chunks_exact_mut(ROW_BLOCK).enumerate() {
            let s = r0 + s * ROW_BLOCK;
            if s & bit != 0 {
                for (o, &x) in o.iter_mut().zip(&v[s - bit..s - bit + ROW_BLOCK]) {
                    *o += x * a;
                }
            }
        }
        return;
    }
    for (o, s) in out[r0..].chunks_exact_mut(2 * bit).zip(v[r0..].chunks_exact(2 * bit)) {
        for (o, &x) in o[bit..].iter_mut().zip(&s[..bit]) {
            *o += x * a;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;
    use faer::Mat;

    type C = Complex64;

    /// Dense `D × D` matrices as row-major `Vec<Vec<C>>` helpers for the reference.
    fn kron_site(n: usize, i: usize, op: [[f64; 2]; 2]) -> Mat<C> {
        // operator `op` on site i (bit i), identity elsewhere; basis index s
        let d = 1usize << n;
        Mat::from_fn(d, d, |r, c| {
            if (r ^ c) & !(1 << i) != 0 {
                return C::new(0.0, 0.0);
            }
            C::new(op[(r >> i) & 1][(c >> i) & 1], 0.0)
        })
    }

    fn dense_h(ops: &Operators, generator: Generator) -> Mat<C> {
        let d = ops.dim();
        let mut h = Mat::<C>::zeros(d, d);
        for s in 0..d {
            match generator {
                Generator::Charging => ops.column_h(s, |row, v| h[(row, s)] += C::new(v, 0.0)),
                Generator::Storage => ops.column_h0(s, |row, v| h[(row, s)] += C::new(v, 0.0)),
            }
        }
        h
    }

    /// `𝓛X` from dense products: the reference.
    fn reference(chain: &Chain, noise: &Noise, generator: Generator, x: &Mat<C>) -> Mat<C> {
        let n = chain.n_sites();
        let ops = Operators::new(chain).unwrap();
        let h = dense_h(&ops, generator);
        let i = C::new(0.0, 1.0);
        let mut out = (&h * x - x * &h) * faer::Scale(-i);
        let r = noise.rates(chain.b());
        // index 0 = down (bit clear), 1 = up: σ⁻ = |↓⟩⟨↑| has [0][1] = 1
        let sm = [[0.0, 1.0], [0.0, 0.0]];
        let sp = [[0.0, 0.0], [1.0, 0.0]];
        let z = [[-1.0, 0.0], [0.0, 1.0]];
        let mut channels: Vec<(f64, Mat<C>)> = Vec::new();
        for site in 0..n {
            channels.push((r.dephasing, kron_site(n, site, z)));
            channels.push((r.down, kron_site(n, site, sm)));
            channels.push((r.up, kron_site(n, site, sp)));
        }
        let d = 1usize << n;
        let mut jm = Mat::<C>::zeros(d, d);
        for site in 0..n {
            jm += kron_site(n, site, sm);
        }
        channels.push((r.collective, jm));
        for (rate, l) in channels {
            if rate == 0.0 {
                continue;
            }
            let ld = l.adjoint().to_owned();
            let ldl = &ld * &l;
            let term = &l * x * &ld - (&ldl * x + x * &ldl) * faer::Scale(C::new(0.5, 0.0));
            out += term * faer::Scale(C::new(rate, 0.0));
        }
        out
    }

    #[test]
    fn matrix_free_action_equals_the_dense_superoperator() {
        let chains = [
            Chain::builder(3).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(0.0).g(0.7).omega(1.3).build().unwrap(),
            Chain::builder(4)
                .couplings(Couplings::NearestNeighbour)
                .alpha(0.6)
                .g(1.1)
                .b(0.8)
                .omega(2.0)
                .build()
                .unwrap(),
            Chain::builder(5).couplings(Couplings::PowerLaw { p: 0.5 }).alpha(-0.3).build().unwrap(),
        ];
        let noises = [
            Noise { dephasing: 0.3, ..Noise::default() },
            Noise { decay: 0.4, ..Noise::default() },
            Noise { decay: 0.4, temperature: Some(1.5), dephasing: 0.1, ..Noise::default() },
            Noise { collective_decay: 0.25, ..Noise::default() },
            Noise { dephasing: 0.2, decay: 0.1, temperature: Some(0.7), collective_decay: 0.3 },
        ];
        for chain in &chains {
            for noise in &noises {
                for generator in [Generator::Charging, Generator::Storage] {
                    let l = Liouvillian::new(chain, noise, generator).unwrap();
                    let d = l.dim();
                    // a Hermitian test matrix with every entry non-zero
                    let x = Mat::<C>::from_fn(d, d, |r, c| {
                        let (a, b) = (r.min(c) as f64, r.max(c) as f64);
                        let im =
                            if r == c { 0.0 } else { ((a * 1.7 + b * 0.3).sin()) * if r < c { 1.0 } else { -1.0 } };
                        C::new((a * 0.9 + b * 1.3 + 0.2).cos(), im)
                    });
                    let flat: Vec<C> = (0..d * d).map(|k| x[(k % d, k / d)]).collect();
                    let mut out = vec![C::new(0.0, 0.0); d * d];
                    let mut ws = l.workspace();
                    l.apply(&flat, &mut out, &mut ws);
                    let want = reference(chain, noise, generator, &x);
                    let err = (0..d * d).map(|k| (out[k] - want[(k % d, k / d)]).norm()).fold(0.0, f64::max);
                    assert!(err < 1e-12, "N = {}, {noise:?}, {generator:?}: {err}", chain.n_sites());
                    // trace preserved: Tr 𝓛X = 0; and the norm bound holds in Frobenius norm
                    let sums = l.sums(&out);
                    assert!(sums.trace.norm() < 1e-12);
                    let fx = l.sums(&flat).frobenius_sq.sqrt();
                    assert!(sums.frobenius_sq.sqrt() <= l.norm_bound() * fx);
                }
            }
        }
    }

    /// The lower-triangle kernel, its sums and the mirror together equal the full action on
    /// Hermitian and anti-Hermitian matrices, with every channel and blocks past one
    /// `ROW_BLOCK` (N = 5, 6: rows from 8 to 56, bits 8 to 32 across them).
    #[test]
    fn lower_rows_with_the_mirror_equal_the_full_action() {
        let noise = Noise { dephasing: 0.2, decay: 0.1, temperature: Some(0.7), collective_decay: 0.3 };
        for (n, alpha) in [(5, 0.0), (6, 0.4)] {
            let chain = Chain::builder(n).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(alpha).build().unwrap();
            for generator in [Generator::Charging, Generator::Storage] {
                let l = Liouvillian::new(&chain, &noise, generator).unwrap();
                let d = l.dim();
                for sign in [1.0, -1.0] {
                    // X† = sign X, every entry non-zero
                    let mut x = vec![C::new(0.0, 0.0); d * d];
                    for c in 0..d {
                        for r in c..d {
                            let v = C::new(
                                (0.3 * r as f64 + 1.1 * c as f64).sin(),
                                (0.7 * r as f64 - 0.2 * c as f64).cos(),
                            );
                            let v = if r == c {
                                C::new(if sign > 0.0 { v.re } else { 0.0 }, if sign > 0.0 { 0.0 } else { v.im })
                            } else {
                                v
                            };
                            x[c * d + r] = v;
                            x[r * d + c] = C::new(sign * v.re, -sign * v.im);
                        }
                    }
                    let mut ws = l.workspace();
                    let mut full = vec![C::new(0.0, 0.0); d * d];
                    let want = l.apply(&x, &mut full, &mut ws);
                    // garbage above the computed rows: fill_upper must overwrite all of it
                    let mut half = vec![C::new(7.0, -3.0); d * d];
                    let mut got = MatrixSums::default();
                    for (c, col) in half.chunks_mut(d).enumerate() {
                        l.column_rows(&x, c, lower_start(c), col, &ws);
                        got = got.join(l.lower_column_sums(c, col, sign));
                    }
                    fill_upper(&mut half, d, sign);
                    let err = half.iter().zip(&full).map(|(a, b)| (a - b).norm()).fold(0.0, f64::max);
                    assert!(err < 1e-12, "N = {n}, {generator:?}, sign {sign}: entries off by {err}");
                    assert!((got.work - want.work).norm() < 1e-11 * (1.0 + want.work.norm()), "{got:?} vs {want:?}");
                    assert!((got.trace - want.trace).norm() < 1e-12);
                    assert!((got.frobenius_sq - want.frobenius_sq).abs() < 1e-10 * want.frobenius_sq);
                }
            }
        }
    }

    /// The mirror restores a Hermitian or anti-Hermitian matrix of any size (the Dicke
    /// states have `N + 1` rows) from its rows at and below [`lower_start`].
    #[test]
    fn fill_upper_restores_any_size_from_the_lower_rows() {
        for d in [1, 5, 8, 13, 21, 64] {
            for sign in [1.0, -1.0] {
                let mut x = vec![C::new(0.0, 0.0); d * d];
                for c in 0..d {
                    for r in c..d {
                        let v = C::new((r as f64 * 0.37 + c as f64).sin(), (r as f64 - 2.0 * c as f64).cos());
                        let v = if r == c {
                            C::new(if sign > 0.0 { v.re } else { 0.0 }, if sign > 0.0 { 0.0 } else { v.im })
                        } else {
                            v
                        };
                        x[c * d + r] = v;
                        x[r * d + c] = C::new(sign * v.re, -sign * v.im);
                    }
                }
                let mut y = x.clone();
                for c in 0..d {
                    y[c * d..c * d + lower_start(c)].fill(C::new(9.0, 9.0));
                }
                fill_upper(&mut y, d, sign);
                assert_eq!(x, y, "d = {d}, sign {sign}");
            }
        }
    }
}
