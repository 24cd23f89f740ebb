//! The local rows of `H_g`, `V` and `H0` on a partitioned state ([`super`]), applied with
//! the exchanges their global bits need.

use super::communicator::{Communicator, Wire};
use crate::error::{invalid, Result};
use crate::model::{Chain, FieldEnergy};
use crate::numeric::Real;
use crate::operator::PairFlip;
use rayon::prelude::*;

/// Rows per rayon task.
const CHUNK: usize = 1 << 12;

/// Which rows of the `2^N` full space one rank holds: `R = 2^k` ranks, rank `r` the rows
/// `r·L .. (r + 1)·L` with `L = 2^{N−k}` (split by the highest `k` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// `N`.
    pub n_sites: usize,
    /// `k`: the global bits, `R = 2^k` ranks.
    pub global_bits: usize,
    /// `r`.
    pub rank: usize,
}

impl Partition {
    /// The rows of rank `rank` of `ranks` for `n_sites` sites.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] (`ranks`) unless `ranks` is a power of two
    /// with `ranks ≤ 2^{N−1}` (every rank at least two rows), or `rank ≥ ranks`.
    pub fn new(n_sites: usize, ranks: usize, rank: usize) -> Result<Self> {
        if !ranks.is_power_of_two() {
            return Err(invalid("ranks", ranks, "the number of processes must be a power of two (1, 2, 4, 8, ...)"));
        }
        let k = ranks.trailing_zeros() as usize;
        if n_sites == 0 || k >= n_sites {
            return Err(invalid(
                "ranks",
                ranks,
                format!("{n_sites} sites hold at most 2^{} processes (two rows each)", n_sites.saturating_sub(1)),
            ));
        }
        if rank >= ranks {
            return Err(invalid("rank", rank, format!("must be below the {ranks} processes")));
        }
        Ok(Partition { n_sites, global_bits: k, rank })
    }

    /// `N − k`, the local bits.
    pub fn local_bits(&self) -> usize {
        self.n_sites - self.global_bits
    }

    /// `L = 2^{N−k}`, the rows this rank holds.
    pub fn len(&self) -> usize {
        1usize << self.local_bits()
    }

    /// Always `false` (a rank holds at least two rows); for clippy's `len` convention.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `r·L`, the full-space index of this rank's first row.
    pub fn base(&self) -> usize {
        self.rank << self.local_bits()
    }

    /// The rank holding full-space row `s`.
    pub fn owner(&self, s: usize) -> usize {
        s >> self.local_bits()
    }
}

/// The terms of `H` whose global bits flip by one mask `G`: they read the slice of rank
/// `r ⊕ G` (`G = 0`: this rank's own).
#[derive(Debug, Clone)]
struct Source {
    /// `G`, the rank mask
    rank_mask: usize,
    /// local masks of the `X_i` terms (`2^i` for a local site, `0` for the global site of
    /// a one-bit `G`)
    flips: Vec<usize>,
    /// pair terms of `H_g` with their local mask
    pairs: Vec<(PairFlip, usize)>,
}

/// The index in `sources` of the one for rank mask `g`, added where missing.
fn source_of(sources: &mut Vec<Source>, g: usize) -> usize {
    match sources.iter().position(|s| s.rank_mask == g) {
        Some(p) => p,
        None => {
            sources.push(Source { rank_mask: g, flips: Vec::new(), pairs: Vec::new() });
            sources.len() - 1
        }
    }
}

/// `H_g`, `V = ω Σ_i X_i` and `H0 = H_B + H_g` on one rank's rows of a partitioned state
/// ([`Partition`]), for the paper's charging: the diagonal of `H_g` on the rank's rows
/// (`8L` bytes) and the terms grouped by the rank they read ([`Self::apply`]).
#[derive(Debug, Clone)]
pub struct PartitionedOperators {
    part: Partition,
    omega: f64,
    fields: FieldEnergy,
    diag_g: Vec<f64>,
    sources: Vec<Source>,
    /// `E_0 = ⟨↓…↓|H0|↓…↓⟩`
    e0: f64,
    /// `Σ |amp|` of the pair terms (Gershgorin)
    offdiag: f64,
}

impl PartitionedOperators {
    /// The operators of `chain` on the rows of `part`: the diagonal
    /// `(H_g)_ss = −Σ_{i<j} g_ij z_i z_j` by adding one local site at a time (as
    /// [`crate::operator::Operators::new`]), then the couplings to the global sites, whose
    /// `z` the rank fixes: `−Σ_{i local} z_i Σ_{b global} g_ib z_b − Σ_{b<b'} g_bb' z_b z_b'`.
    ///
    /// # Errors
    /// [`crate::SpinbatError::Unsupported`] for a charging that is not the paper's
    /// (`γ`, the field kept on, per-site weights of `ω`) or per-site fields that do not
    /// commute with the flip-flops (their part of the rate is not partitioned yet);
    /// [`crate::SpinbatError::InvalidParameter`] where `part` is not for `chain`'s `N`.
    pub fn new(chain: &Chain, part: Partition) -> Result<Self> {
        let n = chain.n_sites();
        if part.n_sites != n {
            return Err(invalid(
                "ranks",
                part.n_sites,
                format!("the partition is for {} sites, the chain has {n}", part.n_sites),
            ));
        }
        if !chain.has_paper_charging() || !chain.fields_commute_with_couplings() {
            return Err(crate::SpinbatError::Unsupported {
                solver: "chebyshev (partitioned over processes)",
                reason: format!(
                    "the partitioned state takes the paper's charging H = H_g + omega sum_i X_i with fields that commute with the couplings; this chain has {}",
                    if chain.has_paper_charging() { "per-site fields with flip-flops".to_string() } else { chain.charging_extensions() }
                ),
            });
        }
        let lb = part.local_bits();
        let len = part.len();
        // the local sites' part of the diagonal
        let mut diag_g = crate::operator::low_sites_diagonal(chain, lb, len);
        // the global sites: a field on each local site, and a constant
        let base = part.base();
        let zg = |b: usize| crate::basis::z(base, b);
        let h_local: Vec<f64> = (0..lb).map(|i| (lb..n).map(|b| chain.coupling(i, b) * zg(b)).sum()).collect();
        let mut constant = 0.0;
        for b in lb..n {
            for b2 in b + 1..n {
                constant -= chain.coupling(b, b2) * zg(b) * zg(b2);
            }
        }
        if lb < n {
            diag_g.par_chunks_mut(CHUNK).enumerate().for_each(|(c, d)| {
                for (o, v) in d.iter_mut().enumerate() {
                    let l = c * CHUNK + o;
                    let cross: f64 = h_local.iter().enumerate().map(|(i, h)| h * crate::basis::z(l, i)).sum();
                    *v += constant - cross;
                }
            });
        }
        // the terms, grouped by the rank mask they flip
        let flips = crate::operator::flip_flops(chain);
        let offdiag = flips.iter().map(|f| f.amp.abs()).sum();
        let local_mask = len - 1;
        let mut sources: Vec<Source> = vec![Source { rank_mask: 0, flips: Vec::new(), pairs: Vec::new() }];
        for i in 0..n {
            let m = 1usize << i;
            let p = source_of(&mut sources, m >> lb);
            sources[p].flips.push(m & local_mask);
        }
        for f in flips {
            let p = source_of(&mut sources, f.mask >> lb);
            sources[p].pairs.push((f, f.mask & local_mask));
        }
        // every rank exchanges with its partners in the same order
        sources.sort_by_key(|s| s.rank_mask);
        let fields = FieldEnergy::of(chain);
        let e0 = fields.at(crate::basis::ALL_DOWN) - chain.pairs().iter().map(|&(_, _, g)| g).sum::<f64>();
        Ok(PartitionedOperators { part, omega: chain.omega(), fields, diag_g, sources, e0, offdiag })
    }

    /// The partition.
    pub fn partition(&self) -> Partition {
        self.part
    }

    /// `ω`.
    pub fn omega(&self) -> f64 {
        self.omega
    }

    /// `E_0 = ⟨↓…↓|H0|↓…↓⟩ = −N B − Σ_{i<j} g_ij` (for a clean chain).
    pub fn all_down_energy(&self) -> f64 {
        self.e0
    }

    /// `H0_ss − E_0` at local row `l`: `Σ_i B_i z_i(s) + (H_g)_ss − E_0`.
    #[inline(always)]
    pub fn work_diagonal(&self, l: usize) -> f64 {
        self.fields.at(self.part.base() + l) + self.diag_g[l] - self.e0
    }

    /// The diagonal of `H_g` on this rank's rows.
    pub fn diag_g(&self) -> &[f64] {
        &self.diag_g
    }

    /// `Σ |amp|` over the flip-flops, `2|α| Σ_{i<j} |g_ij|` (Gershgorin's off-diagonal row
    /// sum of `H_g`).
    pub fn pair_abs_sum(&self) -> f64 {
        self.offdiag
    }

    /// The rank masks `G ≠ 0` this rank exchanges with (each `apply` sends and receives
    /// one slice per mask): `k` for `α = 0`, up to `k + k(k−1)/2` with flip-flops between
    /// global sites.
    pub fn exchanges(&self) -> usize {
        self.sources.iter().filter(|s| s.rank_mask != 0).count()
    }

    /// `hg = H_g x` and `fx = Σ_i X_i x` on this rank's rows, for a real vector `x` (`H`
    /// is real, so complex states apply it to their real and imaginary parts). The rows of
    /// rank `r ⊕ G` each source needs arrive in `recv` (resized to `L`) by one exchange per
    /// `G ≠ 0`, in increasing `G` on every rank:
    /// `hg[l] = (H_g)_ss x[l] + Σ_{pairs acting on s} amp · x_{r⊕G}[l ⊕ m_local]`,
    /// `fx[l] = Σ_i x_{r⊕G_i}[l ⊕ m_local,i]`. Cost: `O(L (N + P))` and `exchanges()`
    /// slices of `L` values sent and received.
    pub fn apply<R: Real + Wire, C: Communicator + ?Sized>(
        &self,
        comm: &C,
        x: &[R],
        hg: &mut [R],
        fx: &mut [R],
        recv: &mut Vec<R>,
    ) {
        let len = self.part.len();
        assert!(x.len() == len && hg.len() == len && fx.len() == len, "vectors must hold this rank's {len} rows");
        let base = self.part.base();
        for src in &self.sources {
            let from: &[R] = if src.rank_mask == 0 {
                x
            } else {
                recv.resize(len, R::default());
                R::exchange(comm, self.part.rank ^ src.rank_mask, x, recv);
                recv
            };
            let first = src.rank_mask == 0;
            hg.par_chunks_mut(CHUNK).zip(fx.par_chunks_mut(CHUNK)).enumerate().for_each(|(c, (hg, fx))| {
                let b = c * CHUNK;
                for (o, (h, f)) in hg.iter_mut().zip(fx.iter_mut()).enumerate() {
                    let l = b + o;
                    let s = base + l;
                    let mut hv = if first { x[l].scale(self.diag_g[l]) } else { *h };
                    let mut fv = if first { R::default() } else { *f };
                    for &m in &src.flips {
                        fv += from[l ^ m];
                    }
                    for (p, m) in &src.pairs {
                        if p.acts_on(s) {
                            hv += from[l ^ m].scale(p.amp);
                        }
                    }
                    *h = hv;
                    *f = fv;
                }
            });
        }
    }
}
