//! Dense diagonalisation of `H = H_g + V` in the two spin-flip parity sectors.
//!
//! `P = Π_i X_i` commutes with `H`; the sector `σ = ±1` has the basis
//! `|r⟩_σ = (|r⟩ + σ|r̄⟩)/√2`, `r ∈ [0, 2^{N−1})` (site `N − 1` down, see
//! [`crate::basis::flip_representative`]), in which
//! `⟨r'|_σ H |r⟩_σ = H_{r'r} + σ H_{r̄'r}`: column `r` of the full `H` is folded onto the
//! representatives, with the sign `σ` for rows `r̄'`. The all-down state is
//! `|D⟩ = (|0⟩_+ + |0⟩_−)/√2`, and `H_B = B Σ_i Z_i` maps `|r⟩_σ` to
//! `B m(r) |r⟩_{−σ}` (`m(r) = 2·popcount(r) − N`): it only connects the sectors.
//!
//! Each sector has `2^{N−1}` states, half the full space, and its eigenvectors are as
//! accurate as their separation within the sector allows: the near-degenerate doublet of
//! the strong-coupling regime is split across the two sectors, so neither eigensolver sees
//! it.

use super::partition::coupling_terms;
use crate::basis::flip_representative;
use crate::error::{invalid, Result, SpinbatError};
use crate::model::Chain;
use faer::{Mat, Side};

/// Largest chain diagonalised densely by sector: `2^{N−1} = 8192` states, about 2 GB and a
/// few minutes at `N = 14`.
pub const MAX_SITES: usize = 14;

/// One parity sector of `H`, diagonalised: `H|m⟩ = E_m|m⟩` with `E_m` ascending.
#[derive(Debug, Clone)]
pub struct ParitySector {
    n_sites: usize,
    parity: i8,
    e_d: f64,
    /// `E_m − E_d`, ascending.
    levels: Vec<f64>,
    /// Eigenvectors as columns, in the basis `|r⟩_σ`.
    vectors: Mat<f64>,
    /// `V` in the sector, column by column: `(row, value)`, `N` entries per column.
    v_columns: Vec<Vec<(u32, f64)>>,
}

impl ParitySector {
    /// Bytes needed for `N` sites: the matrix, its eigenvectors and faer's workspace,
    /// `≈ 4 · 8 · 4^{N−1}`.
    pub fn bytes(n_sites: usize) -> f64 {
        let d = (n_sites as f64 - 1.0).exp2();
        32.0 * d * d
    }

    /// Builds `H − E_d` in the sector `parity = ±1` and diagonalises it (faer,
    /// `O(8^{N−1})` time).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for `parity ∉ {±1}` or `N > MAX_SITES`;
    /// [`SpinbatError::TooLarge`] if the matrices do not fit in memory;
    /// [`SpinbatError::NotConverged`] if the eigensolver fails.
    pub fn new(chain: &Chain, parity: i8) -> Result<Self> {
        let n = chain.n_sites();
        if parity != 1 && parity != -1 {
            return Err(invalid("parity", parity, "must be +1 (even) or -1 (odd)"));
        }
        if n > MAX_SITES {
            return Err(invalid(
                "n_sites",
                n,
                format!("dense parity sectors handle N <= {MAX_SITES} (2^(N-1) states, O(8^(N-1)) work)"),
            ));
        }
        let needed = Self::bytes(n);
        if let Some(available) = crate::propagate::memory::bytes_available() {
            if needed > available {
                return Err(SpinbatError::TooLarge {
                    solver: "dense parity sector",
                    n_sites: n,
                    bytes_needed: needed,
                    bytes_available: available,
                });
            }
        }
        let (wall, flips) = coupling_terms(chain);
        let d = 1usize << (n - 1);
        let sigma = parity as f64;
        let fold = |x: usize| {
            let (r, flipped) = flip_representative(x, n);
            (r, if flipped { sigma } else { 1.0 })
        };
        let mut h = Mat::<f64>::zeros(d, d);
        let mut v_columns = Vec::with_capacity(d);
        for r in 0..d {
            h[(r, r)] += wall[r];
            let mut col = Vec::with_capacity(n);
            for i in 0..n {
                let (row, sign) = fold(r ^ (1 << i));
                h[(row, r)] += sign * chain.omega();
                col.push((row as u32, sign * chain.omega()));
            }
            v_columns.push(col);
            for &(mask, amp) in &flips {
                if (r & mask).count_ones() == 1 {
                    let (row, sign) = fold(r ^ mask);
                    h[(row, r)] += sign * amp;
                }
            }
        }
        let evd = h.self_adjoint_eigen(Side::Lower).map_err(|e| SpinbatError::NotConverged {
            what: "parity-sector eigendecomposition",
            reason: format!("{e:?}"),
        })?;
        let levels = (0..d).map(|m| evd.S().column_vector()[m]).collect();
        Ok(ParitySector {
            n_sites: n,
            parity,
            e_d: -chain.total_coupling(),
            levels,
            vectors: evd.U().to_owned(),
            v_columns,
        })
    }

    /// `+1` (even) or `−1` (odd).
    pub fn parity(&self) -> i8 {
        self.parity
    }

    /// Dimension `2^{N−1}`.
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

    /// Eigenvector `m` in the basis `|r⟩_σ`.
    pub fn vector(&self, m: usize) -> &[f64] {
        self.vectors.col_as_slice(m)
    }

    /// `⟨m|D⟩ = ⟨m|0⟩_σ / √2`, the overlap of eigenvector `m` with the all-down state.
    pub fn overlap(&self, m: usize) -> f64 {
        self.vectors[(0, m)] * std::f64::consts::FRAC_1_SQRT_2
    }

    /// `⟨a|V|b⟩` for two vectors of this sector (`O(2^{N−1} N)`).
    pub fn v_element(&self, a: &[f64], b: &[f64]) -> f64 {
        self.v_columns
            .iter()
            .zip(b)
            .map(|(col, &bc)| bc * col.iter().map(|&(row, v)| v * a[row as usize]).sum::<f64>())
            .sum()
    }

    /// `⟨a|H_B|b⟩` for `a` in the even and `b` in the odd sector:
    /// `B Σ_r a_r m(r) b_r`, `m(r) = 2·popcount(r) − N`.
    pub fn field_element(b_field: f64, n_sites: usize, a: &[f64], b: &[f64]) -> f64 {
        b_field
            * a.iter()
                .zip(b)
                .enumerate()
                .map(|(r, (x, y))| x * y * crate::basis::magnetisation(r, n_sites))
                .sum::<f64>()
    }

    /// Number of sites.
    pub fn n_sites(&self) -> usize {
        self.n_sites
    }
}
