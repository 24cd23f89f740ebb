//! The symmetries of a chain's couplings, detected in one place, and the sectors they give.
//!
//! Which site permutations `π` leave every `g_ij` unchanged (`g_{π(i)π(j)} = g_ij`,
//! exactly), and every storage field `B_i` too (`B_{π(i)} = B_i`: always for a clean chain,
//! rarely for per-site fields, [`Chain::site_fields`])? Each commutes with `H_g`,
//! `V = ω Σ X_i` and `H_B = Σ_i B_i Z_i`, and fixes the all-down start,
//! so the charging dynamics stays in the states invariant under it, and the solvers may work
//! there. Every such sector is a [`Space`] ([`space`]): blocks of rows of any length, the
//! inner product as weighted row sums, `H` and the work operator `H0 − E_0` block by block.
//!
//! | symmetry | condition | the sector ([`Space`]) |
//! |---|---|---|
//! | reflection `i → N−1−i` | `g_ij = g_{N−1−i, N−1−j}` (every `\|i−j\|` pattern, open or periodic) | the reflection-even sector, tiled for the bit-flip kernels ([`ReflectionSector`], about half the states) |
//! | every permutation | all `g_ij` equal (`p = 0`, or `N ≤ 2`, or the 3-ring) | the `N + 1` Dicke states ([`DickeSpace`], tridiagonal) |
//! | the group of [`generators`] | reflection, translation `i → i+1 mod N`, adjacent transpositions, as they hold | the coupling orbits ([`OrbitSpace`], sparse rows; a ring's dihedral group: about `2N` times fewer states) and, for the strong-coupling analysis, the orbit basis ([`orbits`]) and its spin-flip parity sectors ([`parity`]: not a `Space`, since `H_B` maps one parity sector onto the other) |
//!
//! [`Symmetries::of`] reports the symmetries together.

use crate::model::Chain;

pub mod dicke;
pub mod orbit_space;
pub mod orbits;
pub mod parity;
pub mod reflection;
pub mod space;

pub use dicke::DickeSpace;
pub use orbit_space::OrbitSpace;
pub use reflection::ReflectionSector;
pub use space::{Space, SymmetricTiles};

/// Which symmetries a chain's couplings have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symmetries {
    /// The reflection `i → N−1−i` ([`is_reflection_symmetric`]).
    pub reflection: bool,
    /// The translation `i → i+1 mod N` (a ring of distance couplings, or a circulant matrix).
    pub translation: bool,
    /// Every permutation: all couplings equal ([`is_permutation_symmetric`]).
    pub permutation: bool,
}

impl Symmetries {
    /// The symmetries of `chain` (`O(N)` for distance couplings, `O(N²)` for a matrix).
    pub fn of(chain: &Chain) -> Self {
        let n = chain.n_sites();
        let translation = n < 2 || preserves(chain, &(0..n).map(|i| (i + 1) % n).collect::<Vec<_>>());
        Symmetries {
            reflection: is_reflection_symmetric(chain),
            translation,
            permutation: is_permutation_symmetric(chain),
        }
    }
}

/// Whether the reflection `i → N−1−i` maps every coupling and every field onto itself:
/// always for couplings that depend on `|i − j|` alone (open or periodic), checked pair by
/// pair for a matrix; per-site fields need `B_i = B_{N−1−i}`.
pub fn is_reflection_symmetric(chain: &Chain) -> bool {
    let n = chain.n_sites();
    let couplings = chain.toeplitz_kernel().is_some()
        || (0..n).all(|i| (i + 1..n).all(|j| chain.coupling(i, j) == chain.coupling(n - 1 - i, n - 1 - j)));
    couplings && fields_preserved(chain, &(0..n).rev().collect::<Vec<_>>())
}

/// Whether the site permutation `p` maps every field onto itself, `B_{p(i)} = B_i` (always
/// for a clean chain).
///
/// The charging field's per-site weights must be mapped onto themselves too,
/// `w_{p(i)} = w_i` ([`Chain::omega_sites`]), so that `V = ω Σ_i w_i X_i` commutes with the
/// permutation.
fn fields_preserved(chain: &Chain, p: &[usize]) -> bool {
    chain.site_fields().is_none_or(|f| (0..f.len()).all(|i| f[p[i]] == f[i]))
        && chain.omega_sites().is_none_or(|w| (0..w.len()).all(|i| w[p[i]] == w[i]))
}

/// The common coupling `g'` if every off-diagonal `g_ij` is equal (`0` for `N = 1`).
pub fn uniform_coupling(chain: &Chain) -> Option<f64> {
    let n = chain.n_sites();
    if n < 2 {
        return Some(0.0);
    }
    let g = chain.coupling(0, 1);
    let all_equal = match chain.toeplitz_kernel() {
        // f(d) = g_{i,i+d}; every distance 1..N−1 occurs (periodic: f(d) = f(N − d))
        Some(f) => f[1..].iter().all(|&v| v == g),
        None => (0..n).all(|i| (i + 1..n).all(|j| chain.coupling(i, j) == g)),
    };
    all_equal.then_some(g)
}

/// Whether every off-diagonal coupling `g_ij` is the same (exactly) and the chain has one
/// field (no per-site fields), so that the dynamics stays in the Dicke states and `H0` acts
/// there.
/// The charging field must be the same on every site too (no [`Chain::has_omega_sites`]).
/// The Dicke solver also needs the paper's charging Hamiltonian
/// ([`Chain::has_paper_charging`]); the symmetry itself holds for any `γ` and with the
/// field kept on.
pub fn is_permutation_symmetric(chain: &Chain) -> bool {
    uniform_coupling(chain).is_some() && !chain.has_site_fields() && !chain.has_omega_sites()
}

/// Site permutations that generate the couplings' symmetry group (as far as these
/// candidates find it): the reflection `i → N−1−i`, the translation `i → i+1 mod N` and
/// the adjacent transpositions `(i, i+1)`, each kept when it maps the couplings onto
/// themselves exactly (and the fields, [`Chain::field`]); the identity and repeats are left out. `π[i]` is the image of site
/// `i`. `O(N³)` (the effective-coupling analysis uses it at `N ≲ 24`).
pub fn generators(chain: &Chain) -> Vec<Vec<usize>> {
    let n = chain.n_sites();
    let mut candidates: Vec<Vec<usize>> = vec![(0..n).rev().collect(), (0..n).map(|i| (i + 1) % n).collect()];
    for i in 0..n.saturating_sub(1) {
        let mut p: Vec<usize> = (0..n).collect();
        p.swap(i, i + 1);
        candidates.push(p);
    }
    let identity: Vec<usize> = (0..n).collect();
    let g: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| chain.coupling(i, j)).collect()).collect();
    let mut kept: Vec<Vec<usize>> = Vec::new();
    for p in candidates {
        let preserves = (0..n).all(|i| (0..n).all(|j| g[p[i]][p[j]] == g[i][j])) && fields_preserved(chain, &p);
        if p != identity && preserves && !kept.contains(&p) {
            kept.push(p);
        }
    }
    kept
}

/// Whether the site permutation `p` maps every coupling and every field onto itself.
fn preserves(chain: &Chain, p: &[usize]) -> bool {
    let n = chain.n_sites();
    (0..n).all(|i| (i + 1..n).all(|j| chain.coupling(p[i], p[j]) == chain.coupling(i, j))) && fields_preserved(chain, p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Boundary, Couplings};

    fn chain(n: usize, c: Couplings, b: Boundary) -> Chain {
        Chain::builder(n).couplings(c).boundary(b).build().unwrap()
    }

    #[test]
    fn each_pattern_has_the_symmetries_its_couplings_allow() {
        use Boundary::{Open, Periodic};
        use Couplings::{NearestNeighbour as Nn, PowerLaw};
        let s = |c, b, n| Symmetries::of(&chain(n, c, b));
        // open distance couplings: the mirror only
        assert_eq!(s(Nn, Open, 6), Symmetries { reflection: true, translation: false, permutation: false });
        assert!(!s(PowerLaw { p: 1.5 }, Open, 7).translation);
        // rings: mirror and translation; all-to-all: everything
        assert_eq!(s(Nn, Periodic, 6), Symmetries { reflection: true, translation: true, permutation: false });
        assert_eq!(
            s(PowerLaw { p: 0.0 }, Open, 5),
            Symmetries { reflection: true, translation: true, permutation: true }
        );
        // the 3-ring of equal neighbours is all-to-all
        assert!(s(Nn, Periodic, 3).permutation);
        // a generic matrix: none; one mirrored by hand: the reflection only
        let generic = vec![vec![0.0, 1.0, 2.0], vec![1.0, 0.0, 3.0], vec![2.0, 3.0, 0.0]];
        assert_eq!(
            s(Couplings::Matrix { m: generic }, Open, 3),
            Symmetries { reflection: false, translation: false, permutation: false }
        );
        let mirrored = vec![vec![0.0, 1.0, 2.0], vec![1.0, 0.0, 1.0], vec![2.0, 1.0, 0.0]];
        let sym = s(Couplings::Matrix { m: mirrored }, Open, 3);
        assert!(sym.reflection && !sym.translation && !sym.permutation);
    }

    #[test]
    fn generators_preserve_every_coupling_and_match_the_flags() {
        for (c, b, n) in [
            (Couplings::NearestNeighbour, Boundary::Open, 6),
            (Couplings::NearestNeighbour, Boundary::Periodic, 5),
            (Couplings::PowerLaw { p: 0.0 }, Boundary::Open, 4),
            (Couplings::PowerLaw { p: 2.0 }, Boundary::Periodic, 6),
        ] {
            let ch = chain(n, c.clone(), b);
            let gens = generators(&ch);
            for p in &gens {
                assert!(preserves(&ch, p));
                let mut sorted = p.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "{p:?} is a permutation");
            }
            let sym = Symmetries::of(&ch);
            let reflection: Vec<usize> = (0..n).rev().collect();
            assert_eq!(gens.contains(&reflection), sym.reflection);
            // all-to-all: every adjacent transposition is kept (they generate S_N)
            let swaps = gens.iter().filter(|p| (0..n).filter(|&i| p[i] != i).count() == 2).count();
            assert_eq!(swaps == n - 1, sym.permutation, "{c:?} {b:?} N = {n}: {swaps} transpositions");
        }
    }
}
