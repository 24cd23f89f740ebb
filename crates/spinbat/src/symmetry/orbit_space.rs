//! The coupling-orbit space: the states invariant under every site permutation that keeps
//! the couplings ([`super::generators`]: reflection, translation of a ring, all
//! permutations), as a [`Space`] for any chain.
//!
//! **Why it is exact.** Each such permutation `π` commutes with `H_g`, `V` and `H_B` and
//! fixes `|↓…↓⟩`, so `ψ(t)` stays in the invariant subspace, whose orthonormal basis is one
//! vector per orbit `O` of basis states, `|O⟩ = |O|^{−1/2} Σ_{s∈O} |s⟩` (rows of weight 1).
//! A real symmetric operator `A` that commutes with the permutations has the elements
//! `⟨O|A|O'⟩ = √(|O|/|O'|) Σ_{s∈O'} A_{s, r}`, `r` the representative of `O` (its column
//! is walked once). For an open chain the group is the reflection (about half the states:
//! the reflection-even sector, normalised), for a ring the dihedral group (about `2N` times
//! fewer), for all-equal couplings the symmetric group (the `N + 1` Dicke states).
//!
//! **Storage.** Rows are the orbits by number of up spins `k`, then by representative. The
//! diagonal of `H_g` (`8` bytes a row), the diagonal of `H0 − E_0` (`8`), and two sparse
//! matrices in compressed rows: `Σ_i X_i` (one entry per site and row, merged where two
//! flips land in one orbit) and the flip-flop terms `−2αg_ij` (`α ≠ 0`), `12` bytes an
//! entry. Building walks every representative's column: `O(2^N)` for the orbits (a `u32`
//! per basis state, freed afterwards) and `O(D (N + P))` for the matrices, `D` the rows.
//! A product costs one pass over the entries: more per row than the bit-flip kernels of
//! the full space, fewer rows.

use super::orbits::Orbits;
use super::space::Space;
use crate::model::Chain;
use crate::numeric::Amplitude;
use num_complex::Complex64;

/// Rows per block of the kernels.
const BLOCK: usize = 4096;

/// A sparse matrix in compressed rows.
#[derive(Debug, Clone, Default, PartialEq)]
struct Csr {
    start: Vec<u32>,
    col: Vec<u32>,
    val: Vec<f64>,
}

impl Csr {
    /// `Σ_c A[row][c] x[c·m + j]`, for `m` interleaved states.
    #[inline(always)]
    fn row_dot<T: Amplitude>(&self, row: usize, x: &[T], m: usize, j: usize) -> T {
        let (a, b) = (self.start[row] as usize, self.start[row + 1] as usize);
        let mut acc = T::default();
        for (c, v) in self.col[a..b].iter().zip(&self.val[a..b]) {
            acc += x[*c as usize * m + j].scale(*v);
        }
        acc
    }

    /// `max_row Σ_c |A[row][c]|`, excluding the diagonal entries (for Gershgorin).
    fn off_diagonal_row_sums(&self) -> Vec<f64> {
        (0..self.start.len() - 1)
            .map(|r| {
                let (a, b) = (self.start[r] as usize, self.start[r + 1] as usize);
                self.col[a..b]
                    .iter()
                    .zip(&self.val[a..b])
                    .filter(|(c, _)| **c as usize != r)
                    .map(|(_, v)| v.abs())
                    .sum()
            })
            .collect()
    }

    /// The diagonal entries `A[row][row]` (zero where none is stored).
    fn diagonal(&self) -> Vec<f64> {
        (0..self.start.len() - 1)
            .map(|r| {
                let (a, b) = (self.start[r] as usize, self.start[r + 1] as usize);
                self.col[a..b].iter().zip(&self.val[a..b]).filter(|(c, _)| **c as usize == r).map(|(_, v)| *v).sum()
            })
            .collect()
    }

    fn entries(&self) -> usize {
        self.val.len()
    }
}

/// `H = H_g + V` and `H0 − E_0` on the coupling orbits of a chain (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct OrbitSpace {
    n: usize,
    omega: f64,
    /// generators of the group
    generators: Vec<Vec<usize>>,
    /// the row of every basis state and `1/√|O|` of every row, built at the first expansion
    /// onto the full space (`4·2^N + 8D` bytes: only for requests of the state)
    rows_of_states: std::sync::OnceLock<(Vec<u32>, Vec<f64>)>,
    /// `(H_g)_{rr}` and `(H0 − E_0)_{rr}` at each representative `r`
    diag_g: Vec<f64>,
    diag_w: Vec<f64>,
    /// the full space's Gershgorin radii of `H` and of `H_g`: `N|ω| + 2|α|(1 + |γ|)Σ|g_ij|`,
    /// `2|α|(1 + |γ|)Σ|g_ij|`
    full_radius: f64,
    full_radius_g: f64,
    /// the full space's two-site enclosure of the spectrum of `H`
    bonds: crate::model::BondEnclosure,
    /// `E_B` of each row where `[H_g, H_B] ≠ 0` (empty otherwise)
    field_b: Vec<f64>,
    /// `Σ_i X_i` and the flip-flop terms of `H_g` (also those of `H0`)
    flips: Csr,
    pairs: Csr,
}

/// Appends one row of `(column, value)` entries to `csr`, adding values that share a column.
fn push_row(csr: &mut Csr, mut entries: Vec<(u32, f64)>) {
    entries.sort_unstable_by_key(|e| e.0);
    let row_start = csr.col.len();
    for (c, v) in entries {
        match csr.col.last() {
            Some(&last) if last == c && csr.col.len() > row_start => *csr.val.last_mut().expect("an entry") += v,
            _ => {
                csr.col.push(c);
                csr.val.push(v);
            }
        }
    }
    csr.start.push(csr.col.len() as u32);
}

impl OrbitSpace {
    /// The orbit space of `chain`'s coupling symmetries (module docs; `O(2^N)` to build).
    ///
    /// # Errors
    /// [`crate::SpinbatError::TooLarge`] beyond [`crate::basis::MAX_EXACT_SITES`] or where
    /// the rows would not be addressable by `u32`.
    pub fn new(chain: &Chain) -> crate::Result<Self> {
        let n = chain.n_sites();
        if n > crate::basis::MAX_EXACT_SITES || n >= 32 {
            return Err(crate::resources::cannot_index("orbit space", n, 4.0 * (n as f64).exp2()));
        }
        if chain.keep_field() || chain.has_omega_sites() {
            return Err(crate::error::invalid(
                "charging",
                chain.charging_extensions(),
                "the orbit space holds H = H_g + omega sum_i X_i (XXZ or XYZ couplings) only; use the full space",
            ));
        }
        let generators = super::generators(chain);
        let orbits = Orbits::new(chain);
        let offsets = orbits.offsets();
        let row_of = |s: usize| orbits.row_of(&offsets, s);
        let reps: Vec<usize> = orbits.reps.iter().flatten().map(|&r| r as usize).collect();
        let sizes: Vec<f64> = orbits.sizes.iter().flatten().map(|&z| z as f64).collect();
        let pairs_list = chain.pairs();
        let (alpha, gamma) = (chain.alpha(), chain.gamma());
        // [H_g, H_B] != 0 (XYZ pair flips, per-site fields with flip-flops): the field
        // energy of each row for the rate's part i<[H_g, H_B]>
        let field_flips = !chain.fields_commute_with_couplings();
        let mut field_b = Vec::new();
        let e0 = chain.initial_energy();
        let (fields, rows) = (crate::model::FieldEnergy::of(chain), reps.len());
        let mut diag_g = Vec::with_capacity(rows);
        let mut diag_w = Vec::with_capacity(rows);
        let mut flips = Csr { start: vec![0], ..Csr::default() };
        let mut pairs = Csr { start: vec![0], ..Csr::default() };
        for (row, &r) in reps.iter().enumerate() {
            let z = |i: usize| crate::basis::z(r, i);
            let ising: f64 = pairs_list.iter().map(|&(i, j, g)| -g * z(i) * z(j)).sum();
            diag_g.push(ising);
            // the generators keep the fields too: E_B is the same on the whole orbit
            diag_w.push(fields.at(r) + ising - e0);
            if field_flips {
                field_b.push(fields.at(r));
            }
            let weight = |s: usize| -> (u32, f64) {
                let o = row_of(s);
                (o as u32, (sizes[row] / sizes[o]).sqrt())
            };
            push_row(&mut flips, (0..n).map(|i| weight(r ^ (1 << i))).collect());
            let ff: Vec<(u32, f64)> = if alpha == 0.0 {
                Vec::new()
            } else {
                // the flip-flops of anti-parallel pairs, −2αg_ij, and with XYZ couplings the
                // pair flips of parallel ones, −2αγg_ij
                pairs_list
                    .iter()
                    .filter_map(|&(i, j, g)| {
                        let anti = ((r >> i) ^ (r >> j)) & 1 == 1;
                        let amp = if anti { -2.0 * alpha * g } else { -2.0 * alpha * gamma * g };
                        (amp != 0.0).then(|| {
                            let (o, w) = weight(r ^ (1 << i) ^ (1 << j));
                            (o, amp * w)
                        })
                    })
                    .collect()
            };
            push_row(&mut pairs, ff);
        }
        Ok(OrbitSpace {
            n,
            omega: chain.omega(),
            generators,
            rows_of_states: std::sync::OnceLock::new(),
            full_radius: n as f64 * chain.omega().abs()
                + 2.0 * alpha.abs() * (1.0 + gamma.abs()) * chain.total_abs_coupling(),
            full_radius_g: 2.0 * alpha.abs() * (1.0 + gamma.abs()) * chain.total_abs_coupling(),
            bonds: crate::model::BondEnclosure::of(chain),
            field_b,
            diag_g,
            diag_w,
            flips,
            pairs,
        })
    }

    /// Bytes per row (estimate for planning): the two diagonals and, per row, `N` entries
    /// of `Σ X_i` and one per anti-parallel coupled pair of `H_g`'s flip-flops (`α ≠ 0`; half
    /// the pairs on average), `12` bytes each, and the row start.
    pub fn bytes_per_row(chain: &Chain) -> f64 {
        // on average half the pairs of a row are anti-parallel (each gives one entry)
        // with XYZ couplings every pair acts (pair flips of the parallel ones)
        let pairs = chain.pairs().len() as f64;
        let p = match (chain.alpha() == 0.0, chain.gamma() == 0.0) {
            (true, _) => 0.0,
            (false, true) => 0.5 * pairs + 1.0,
            (false, false) => pairs + 1.0,
        };
        16.0 + 12.0 * (chain.n_sites() as f64 + p) + 8.0
    }

    /// An upper bound on the rows for `chain`, by Burnside's lemma (`#orbits = (1/|G|) Σ_π
    /// 2^{cycles(π)}`) for the group its [`super::Symmetries`] name: the rotations of a ring
    /// (`2^{gcd(k, N)}`) and, with the reflection, its `N` reflections; the reflection alone;
    /// or none. A larger group (found by [`super::generators`]) only leaves fewer orbits.
    pub fn dimension_bound(chain: &Chain) -> f64 {
        let n = chain.n_sites();
        let sym = super::Symmetries::of(chain);
        let two = |c: usize| (c as f64).exp2();
        let gcd = |mut a: usize, mut b: usize| {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        };
        if sym.translation && n >= 1 {
            let rotations: f64 = (0..n).map(|k| two(gcd(k, n))).sum();
            if sym.reflection {
                let reflections = if n % 2 == 1 {
                    n as f64 * two(n.div_ceil(2))
                } else {
                    (n / 2) as f64 * (two(n / 2) + two(n / 2 + 1))
                };
                (rotations + reflections) / (2 * n) as f64
            } else {
                rotations / n as f64
            }
        } else if sym.reflection {
            (two(n) + two(n.div_ceil(2))) / 2.0
        } else {
            two(n)
        }
    }

    /// Writes the full-space amplitudes `ψ(s) = φ(O(s))/√|O(s)|` of the stored state `φ`
    /// (`2^N` of them; the map from states to rows is built at the first call).
    pub fn expand(&self, stored: &[Complex64], full: &mut [Complex64]) {
        use rayon::prelude::*;
        let (map, scale) = self.rows_of_states.get_or_init(|| {
            let orbits = Orbits::with_generators(self.n, &self.generators);
            let offsets = orbits.offsets();
            let map = (0..1usize << self.n).map(|s| orbits.row_of(&offsets, s) as u32).collect();
            let scale = orbits.sizes.iter().flatten().map(|&z| 1.0 / (z as f64).sqrt()).collect();
            (map, scale)
        });
        full.par_iter_mut().zip(map.par_iter()).with_min_len(1 << 12).for_each(|(v, &row)| {
            let row = row as usize;
            *v = stored[row] * scale[row];
        });
    }

    /// Stored entries of the two sparse matrices.
    pub fn entries(&self) -> usize {
        self.flips.entries() + self.pairs.entries()
    }
}

impl Space for OrbitSpace {
    fn n_sites(&self) -> usize {
        self.n
    }

    fn omega(&self) -> f64 {
        self.omega
    }

    fn set_omega(&mut self, omega: f64) {
        self.omega = omega;
        self.full_radius = self.n as f64 * omega.abs() + self.full_radius_g;
    }

    fn dim(&self) -> usize {
        self.diag_g.len()
    }

    fn block_len(&self) -> usize {
        BLOCK.min(self.dim())
    }

    fn h_block<T: Amplitude>(&self, x: &[T], block: usize, out: &mut [T]) {
        let with_pairs = !self.pairs.val.is_empty();
        for (row, o) in self.block_rows(block).zip(out.iter_mut()) {
            let mut v = x[row].scale(self.diag_g[row]) + self.flips.row_dot(row, x, 1, 0).scale(self.omega);
            if with_pairs {
                v += self.pairs.row_dot(row, x, 1, 0);
            }
            *o = v;
        }
    }

    fn flip_sum_block<T: Amplitude>(&self, x: &[T], m: usize, block: usize, out: &mut [T]) {
        for (row, o) in self.block_rows(block).zip(out.chunks_exact_mut(m)) {
            for (j, y) in o.iter_mut().enumerate() {
                *y = self.flips.row_dot(row, x, m, j);
            }
        }
    }

    fn work_block<T: Amplitude>(&self, x: &[T], m: usize, block: usize, out: &mut [T]) {
        let with_pairs = !self.pairs.val.is_empty();
        for (row, o) in self.block_rows(block).zip(out.chunks_exact_mut(m)) {
            for (j, y) in o.iter_mut().enumerate() {
                let mut v = x[row * m + j].scale(self.diag_w[row]);
                if with_pairs {
                    v += self.pairs.row_dot(row, x, m, j);
                }
                *y = v;
            }
        }
    }

    /// `i⟨[H_g, H_B]⟩` over the block's rows (`E_B` is one number per orbit: the
    /// generators keep the fields): `−h (E_B(s) − E_B(r)) Im(ψ̄_r ψ_s)` for every pair entry
    /// `h` of row `s` in column `r`.
    fn field_flip_rate(&self, block: usize, m: usize, im_pair: &dyn Fn(usize, usize, usize) -> f64, out: &mut [f64]) {
        if self.field_b.is_empty() {
            return;
        }
        for s in self.block_rows(block) {
            let (a, b) = (self.pairs.start[s] as usize, self.pairs.start[s + 1] as usize);
            for (&r, &h) in self.pairs.col[a..b].iter().zip(&self.pairs.val[a..b]) {
                let r = r as usize;
                let de = self.field_b[s] - self.field_b[r];
                if de != 0.0 {
                    for (j, o) in out.iter_mut().enumerate().take(m) {
                        *o += -h * de * im_pair(r, s, j);
                    }
                }
            }
        }
    }

    fn has_field_flip_rate(&self) -> bool {
        !self.field_b.is_empty()
    }

    fn work_diagonal(&self, block: usize, out: &mut [f64]) -> bool {
        if !self.pairs.val.is_empty() {
            return false;
        }
        for (row, d) in self.block_rows(block).zip(out.iter_mut()) {
            *d = self.diag_w[row];
        }
        true
    }

    fn block_weight(&self, _block: usize) -> f64 {
        1.0
    }

    /// The intersection of three rigorous enclosures: Gershgorin on the orbit matrix, the
    /// full space's two-site one ([`crate::model::BondEnclosure`]), and the full space's
    /// Gershgorin (the diagonal of `H_g` takes the same values on the
    /// representatives as on all states; the spectrum on the orbits is part of the full one).
    /// The orbit rows' off-diagonal sums carry the weights `√(|O|/|O'|)`, which can exceed 1,
    /// so neither contains the other in general.
    fn spectral_bounds_h(&self) -> (f64, f64) {
        let (fd, fo) = (self.flips.diagonal(), self.flips.off_diagonal_row_sums());
        let (pd, po) = (self.pairs.diagonal(), self.pairs.off_diagonal_row_sums());
        let w = self.omega;
        let (lo, hi, dlo, dhi) =
            (0..self.dim()).fold((f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY), |acc, r| {
                let d = self.diag_g[r] + w * fd[r] + pd[r];
                let rad = w.abs() * fo[r] + po[r];
                (acc.0.min(d - rad), acc.1.max(d + rad), acc.2.min(self.diag_g[r]), acc.3.max(self.diag_g[r]))
            });
        self.bonds.narrow(w, (lo.max(dlo - self.full_radius), hi.min(dhi + self.full_radius)))
    }

    /// The smaller of Gershgorin on `H_g` restricted to the orbits and on the full space
    /// (`max (H_g)_ss + 2|α|Σ|g_ij|`): both bound the top of `H_g` on the orbits.
    fn h_g_max_bound(&self) -> f64 {
        let (pd, po) = (self.pairs.diagonal(), self.pairs.off_diagonal_row_sums());
        let (orbit, top) = (0..self.dim()).fold((f64::NEG_INFINITY, f64::NEG_INFINITY), |(o, t), r| {
            (o.max(self.diag_g[r] + pd[r] + po[r]), t.max(self.diag_g[r]))
        });
        orbit.min(top + self.full_radius_g)
    }

    fn description(&self) -> String {
        format!(
            "coupling orbits ({} symmetry generators), {} of 2^{} states",
            self.generators.len(),
            self.dim(),
            self.n
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Boundary, Couplings};
    use crate::operator::{energy_and_rate_multi, Operators};
    use num_complex::Complex64;

    /// The orbit vector `|O⟩` of each row on the full space.
    fn orbit_vectors(chain: &Chain) -> Vec<Vec<f64>> {
        let orbits = Orbits::new(chain);
        let n = chain.n_sites();
        let mut out = Vec::new();
        for (k, reps) in orbits.reps.iter().enumerate() {
            for (pos, &_r) in reps.iter().enumerate() {
                let members: Vec<usize> = (0..1usize << n)
                    .filter(|&s| s.count_ones() as usize == k && orbits.index[s] as usize == pos)
                    .collect();
                let amp = 1.0 / (members.len() as f64).sqrt();
                let mut v = vec![0.0; 1 << n];
                for s in members {
                    v[s] = amp;
                }
                out.push(v);
            }
        }
        out
    }

    #[test]
    fn operators_on_the_orbits_equal_the_full_space_restricted() {
        for (n, couplings, boundary, alpha) in [
            (7, Couplings::NearestNeighbour, Boundary::Periodic, 0.6),
            (8, Couplings::PowerLaw { p: 1.5 }, Boundary::Open, -0.3),
            (6, Couplings::PowerLaw { p: 0.0 }, Boundary::Open, 0.25),
            (9, Couplings::PowerLaw { p: 1.0 }, Boundary::Periodic, 0.0),
        ] {
            let chain = Chain::builder(n)
                .couplings(couplings)
                .boundary(boundary)
                .alpha(alpha)
                .g(0.9)
                .b(1.1)
                .omega(1.7)
                .build()
                .unwrap();
            let space = OrbitSpace::new(&chain).unwrap();
            let ops = Operators::new(&chain).unwrap();
            let basis = orbit_vectors(&chain);
            assert_eq!(basis.len(), space.dim());
            assert!(space.dim() < 1 << n, "N = {n}: the symmetry must reduce the space");
            // a random-looking invariant state
            let phi: Vec<Complex64> = (0..space.dim())
                .map(|r| Complex64::new((0.7 * r as f64).cos(), (1.3 * r as f64 + 0.2).sin()))
                .collect();
            let mut full = vec![Complex64::new(0.0, 0.0); 1 << n];
            for (v, c) in basis.iter().zip(&phi) {
                for (f, a) in full.iter_mut().zip(v) {
                    *f += c * a;
                }
            }
            // measurements: norm, W, W' and |(H0 - E0) psi|^2
            let got = energy_and_rate_multi(&space, &phi, 1)[0];
            let want = ops.work_and_rate(&full);
            let scale = 1.0 + want.work.abs() + want.rate.abs();
            assert!((got.norm - want.norm).abs() < 1e-12 * want.norm, "N = {n}: norm");
            assert!((got.work - want.work).abs() < 1e-11 * scale, "N = {n}: work {} vs {}", got.work, want.work);
            assert!((got.rate - want.rate).abs() < 1e-11 * scale, "N = {n}: rate {} vs {}", got.rate, want.rate);
            assert!((got.work_sq - want.work_sq).abs() < 1e-10 * (1.0 + want.work_sq), "N = {n}: |A psi|^2");
            // H x on the orbits equals <O|H|full x>
            let mut hx = vec![Complex64::new(0.0, 0.0); space.dim()];
            for block in 0..space.blocks() {
                let rows = space.block_rows(block);
                space.h_block(&phi, block, &mut hx[rows]);
            }
            let mut hfull = vec![Complex64::new(0.0, 0.0); 1 << n];
            ops.apply_h(&full, &mut hfull);
            for (r, v) in basis.iter().enumerate() {
                let want: Complex64 = v.iter().zip(&hfull).map(|(a, h)| h * a).sum();
                assert!((hx[r] - want).norm() < 1e-11 * (1.0 + want.norm()), "N = {n}, row {r}: {} vs {want}", hx[r]);
            }
            let (lo, hi) = space.spectral_bounds_h();
            let (flo, fhi) = ops.spectral_bounds_h();
            assert!(lo <= hi && lo >= flo - 1e-9 && hi <= fhi + 1e-9, "N = {n}: enclosure inside the full one");
        }
    }
}
