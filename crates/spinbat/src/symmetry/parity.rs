//! Dense diagonalisation of `H = H_g + V` in the two spin-flip parity sectors.
//!
//! `P = Π_i X_i` commutes with `H`; the sector `σ = ±1` of the plain basis has the vectors
//! `|r⟩_σ = (|r⟩ + σ|r̄⟩)/√2`, in which `⟨r'|_σ H |r⟩_σ = H_{r'r} + σ H_{r̄'r}`: column `r`
//! of `H` is folded onto the representatives, with the sign `σ` for rows `r̄'`. The all-down
//! state is `|D⟩ = (|0⟩_+ + |0⟩_−)/√2`, and `H_B = B Σ_i Z_i` maps `|r⟩_σ` to
//! `B m(r) |r⟩_{−σ}` (`m(r) = 2·popcount(r) − N`): it only connects the sectors.
//!
//! Since `|D⟩` is invariant under the site permutations that preserve the couplings, only
//! the invariant subspace matters, and the folding is done on its orbit basis
//! `|O⟩ = |O|^{−1/2} Σ_{s∈O} |s⟩` (see `orbits.rs`): `P` maps orbits to orbits, a pair
//! `O ≠ PO` gives `(|O⟩ + σ|PO⟩)/√2`, a self-conjugate orbit `O = PO` (magnetisation 0)
//! gives `|O⟩` in the even sector only, and
//! `⟨r'|_σ H|r⟩_σ = 2 n_{r'} n_r (H_{O_{r'} O_r} + σ H_{P O_{r'}, O_r})` (`n = 1/√2` for a
//! pair, `1/2` for a self-conjugate orbit). An open chain's reflection halves each sector
//! (`8×` less work), a ring's dihedral group divides it by about `2N`.
//!
//! The eigenvectors of a sector are as accurate as their separation within the sector
//! allows: the near-degenerate doublet of the strong-coupling regime is split across the two
//! sectors, so neither eigensolver sees it.

use super::orbits::Orbits;
use crate::basis::{dimension, flipped};
use crate::error::{invalid, Result, SpinbatError};
use crate::model::Chain;
use faer::{Mat, Side};

/// Largest chain diagonalised densely by sector: `2^{N−1} = 8192` states per sector without
/// symmetry (about 2 GB and several minutes), a quarter of that for an open chain.
pub const MAX_SITES: usize = 14;

/// One parity sector of `H`, diagonalised: `H|m⟩ = E_m|m⟩` with `E_m` ascending.
#[derive(Debug, Clone)]
pub struct ParitySector {
    n_sites: usize,
    parity: i8,
    e_d: f64,
    /// `E_m − E_d`, ascending.
    levels: Vec<f64>,
    /// Eigenvectors as columns, in the sector basis.
    vectors: Mat<f64>,
    /// `V` in the sector, column by column: `(row, value)`.
    v_columns: Vec<Vec<(u32, f64)>>,
    /// Flat index of the orbit behind each basis vector (ascending; shared by both sectors).
    keys: Vec<u32>,
    /// Magnetisation `m = 2k − N` of each basis vector's orbit.
    magnetisation: Vec<f64>,
}

impl ParitySector {
    /// Bytes needed for a sector of dimension `d`: the matrix, its eigenvectors and faer's
    /// workspace, `≈ 4 · 8 · d²` (`d ≤ 2^{N−1}`).
    pub fn bytes(dim: usize) -> f64 {
        32.0 * (dim as f64).powi(2)
    }

    /// Builds `H − E_d` in the sector `parity = ±1` of the subspace invariant under the
    /// couplings' site symmetries and diagonalises it (faer, `O(d³)`, `d ≤ 2^{N−1}`).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for `parity ∉ {±1}` or `N > MAX_SITES`;
    /// [`SpinbatError::TooLarge`] if the matrices do not fit in memory;
    /// [`SpinbatError::NotConverged`] if the eigensolver fails.
    pub fn new(chain: &Chain, parity: i8) -> Result<Self> {
        Self::build(chain, parity, true)
    }

    /// As [`ParitySector::new`] on the plain basis (`d = 2^{N−1}`): with both sectors, the
    /// whole spectrum of `H`.
    ///
    /// # Errors
    /// As [`ParitySector::new`].
    pub fn without_symmetry(chain: &Chain, parity: i8) -> Result<Self> {
        Self::build(chain, parity, false)
    }

    fn build(chain: &Chain, parity: i8, reduce: bool) -> Result<Self> {
        let n = chain.n_sites();
        if parity != 1 && parity != -1 {
            return Err(invalid("parity", parity, "must be +1 (even) or -1 (odd)"));
        }
        if n > MAX_SITES {
            return Err(invalid(
                "n_sites",
                n,
                format!("dense parity sectors handle N <= {MAX_SITES} (up to 2^(N-1) states, O(8^(N-1)) work)"),
            ));
        }
        let sigma = parity as f64;
        let orbits = if reduce { Orbits::new(chain) } else { Orbits::trivial(n) };
        // flat orbit index f = offset[k] + a, its representative state, size and P-partner
        let mut offset = vec![0usize; n + 2];
        for k in 0..=n {
            offset[k + 1] = offset[k] + orbits.reps[k].len();
        }
        let flat = |s: usize| offset[s.count_ones() as usize] + orbits.index[s] as usize;
        let reps: Vec<usize> = orbits.reps.iter().flatten().map(|&s| s as usize).collect();
        let sizes: Vec<f64> = orbits.sizes.iter().flatten().map(|&m| m as f64).collect();
        let partner: Vec<usize> = reps.iter().map(|&s| flat(flipped(s, n))).collect();
        // the sector basis: one vector per pair {O, PO} (O the lower), self-conjugate orbits
        // in the even sector only
        let keys: Vec<u32> =
            (0..reps.len()).filter(|&f| f < partner[f] || (f == partner[f] && parity > 0)).map(|f| f as u32).collect();
        let d = keys.len();
        let needed = Self::bytes(d);
        crate::resources::ensure_fits("dense parity sector", n, needed)?;
        let mut pos = vec![u32::MAX; reps.len()];
        for (r, &f) in keys.iter().enumerate() {
            pos[f as usize] = r as u32;
        }
        let norm = |f: usize| if partner[f] == f { 0.5 } else { std::f64::consts::FRAC_1_SQRT_2 };
        // where orbit f' lands in the sector, with the factor (1, σ, or 1 + σ when self-conjugate)
        let fold = |f: usize| -> Option<(usize, f64)> {
            if partner[f] == f {
                (parity > 0).then(|| (pos[f] as usize, 2.0))
            } else if f < partner[f] {
                Some((pos[f] as usize, 1.0))
            } else {
                Some((pos[partner[f]] as usize, sigma))
            }
        };
        let (wall, flips) = coupling_terms(chain);
        let mut h = Mat::<f64>::zeros(d, d);
        let mut v_columns = Vec::with_capacity(d);
        for (r, &f) in keys.iter().enumerate() {
            let f = f as usize;
            let s0 = reps[f];
            // element of the orbit-basis column of O_f: √(|O|/|O'|) per full-space entry
            let mut add = |target: usize, amp: f64, is_v: bool, col: &mut Vec<(u32, f64)>| {
                let f2 = flat(target);
                if let Some((row, factor)) = fold(f2) {
                    let value =
                        2.0 * norm(partner[f2].min(f2)) * norm(f) * factor * amp * (sizes[f] / sizes[f2]).sqrt();
                    h[(row, r)] += value;
                    if is_v {
                        col.push((row as u32, value));
                    }
                }
            };
            let mut col = Vec::with_capacity(n);
            add(s0, wall[s0], false, &mut col);
            for i in 0..n {
                add(s0 ^ (1 << i), chain.omega(), true, &mut col);
            }
            for &(mask, amp) in &flips {
                if (s0 & mask).count_ones() == 1 {
                    add(s0 ^ mask, amp, false, &mut col);
                }
            }
            v_columns.push(col);
        }
        let evd = h.self_adjoint_eigen(Side::Lower).map_err(|e| SpinbatError::NotConverged {
            what: "parity-sector eigendecomposition",
            reason: format!("{e:?}"),
        })?;
        let levels = (0..d).map(|m| evd.S().column_vector()[m]).collect();
        let magnetisation = keys.iter().map(|&f| crate::basis::magnetisation(reps[f as usize], n)).collect();
        Ok(ParitySector {
            n_sites: n,
            parity,
            e_d: -chain.total_coupling(),
            levels,
            vectors: evd.U().to_owned(),
            v_columns,
            keys,
            magnetisation,
        })
    }

    /// `+1` (even) or `−1` (odd).
    pub fn parity(&self) -> i8 {
        self.parity
    }

    /// Dimension of the sector (after the symmetry reduction).
    pub fn dim(&self) -> usize {
        self.levels.len()
    }

    /// `E_m − E_d` ascending (`E_d = −Σ g_ij`), accurate to `~ε_mach ‖H‖` absolutely.
    pub fn levels(&self) -> &[f64] {
        &self.levels
    }

    /// The eigenvalues `E_m` of `H` in this sector, ascending.
    pub fn energies(&self) -> Vec<f64> {
        self.levels.iter().map(|l| l + self.e_d).collect()
    }

    /// Eigenvector `m` in the sector basis.
    pub fn vector(&self, m: usize) -> &[f64] {
        self.vectors.col_as_slice(m)
    }

    /// `⟨m|D⟩ = ⟨m|(|D⟩ + σ|U⟩)/√2⟩ / √2`, the overlap of eigenvector `m` with the all-down
    /// state (its first basis vector).
    pub fn overlap(&self, m: usize) -> f64 {
        self.vectors[(0, m)] * std::f64::consts::FRAC_1_SQRT_2
    }

    /// `⟨a|V|b⟩` for two vectors of this sector (`O(d N)`).
    pub fn v_element(&self, a: &[f64], b: &[f64]) -> f64 {
        self.v_columns
            .iter()
            .zip(b)
            .map(|(col, &bc)| bc * col.iter().map(|&(row, v)| v * a[row as usize]).sum::<f64>())
            .sum()
    }

    /// `⟨a|H_B|b⟩` for `a` in this (even) sector and `b` in the `odd` one:
    /// `B Σ_r m_r a_r b_r` over the orbit pairs both sectors share (`H_B` is diagonal in the
    /// orbits, odd under `P`, and zero on self-conjugate orbits).
    pub fn field_element(&self, b_field: f64, a: &[f64], odd: &ParitySector, b: &[f64]) -> f64 {
        let (mut i, mut j, mut sum) = (0, 0, 0.0);
        while i < self.keys.len() && j < odd.keys.len() {
            match self.keys[i].cmp(&odd.keys[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += a[i] * self.magnetisation[i] * b[j];
                    i += 1;
                    j += 1;
                }
            }
        }
        b_field * sum
    }

    /// Number of sites.
    pub fn n_sites(&self) -> usize {
        self.n_sites
    }
}
/// `H_g − E_d` in the `Z` basis: its diagonal `2 Σ_{anti-parallel (i,j)} g_ij` on all `2^N`
/// states (`O(2^N P)`) and its flip-flop terms `(mask, −2α g_ij)` (none for `α = 0`),
/// which act on a state with exactly one bit of `mask` set.
pub(crate) fn coupling_terms(chain: &Chain) -> (Vec<f64>, Vec<(usize, f64)>) {
    let pairs = chain.pairs();
    let wall = (0..dimension(chain.n_sites()))
        .map(|s| {
            // 1 − z_i z_j is 2 for an anti-parallel pair and 0 otherwise
            pairs.iter().filter(|&&(i, j, _)| ((s >> i) ^ (s >> j)) & 1 == 1).map(|p| 2.0 * p.2).sum()
        })
        .collect();
    let alpha = chain.alpha();
    let flips = if alpha == 0.0 {
        Vec::new()
    } else {
        pairs.iter().map(|&(i, j, g)| ((1usize << i) | (1usize << j), -2.0 * alpha * g)).collect()
    };
    (wall, flips)
}
