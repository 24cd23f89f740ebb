//! Orbits of basis states under the site permutations that leave every coupling unchanged.
//!
//! A site permutation `π` with `g_{π(i)π(j)} = g_ij` for all pairs commutes with `H_g`,
//! `V`, `H_B` and the spin flip, and fixes `|D⟩` and `|U⟩`, so everything this module's
//! parent computes lives in the subspace of permutation-invariant states. Its orthonormal
//! basis is one vector per orbit `O` of basis states, `|O⟩ = |O|^{−1/2} Σ_{s∈O} |s⟩`, and an
//! operator `A` that commutes with the permutations has the elements
//! `⟨O'|A|O⟩ = √(|O|/|O'|) Σ_{s'∈O'} A_{s' s₀}` for any `s₀ ∈ O`: walk the column of a
//! representative and weigh each entry by `√(|O|/|O'|)`.
//!
//! The generators are those of [`crate::symmetry::generators`]: the reflection
//! `i → N−1−i`, the translation `i → i+1 mod N` and the adjacent transpositions `(i, i+1)`,
//! each kept when it maps the couplings onto themselves exactly. Open distance-based chains keep the reflection (about half the
//! states per block), rings the dihedral group (about `2N` fewer), all-to-all chains the
//! whole symmetric group (one state per block: the Dicke states).

use crate::basis::dimension;
use crate::model::Chain;

/// The orbits of the `2^N` basis states, grouped by the number `k` of up spins.
#[derive(Debug, Clone)]
pub(crate) struct Orbits {
    /// `reps[k]`: the smallest state of each orbit with `k` up spins, ascending.
    pub reps: Vec<Vec<u32>>,
    /// `sizes[k][a]`: the number of states in orbit `a` of block `k`.
    pub sizes: Vec<Vec<u32>>,
    /// Position, within its block, of the orbit of every basis state.
    pub index: Vec<u32>,
}

impl Orbits {
    /// Orbits under the symmetries of `chain`'s couplings (`O(2^N · generators)`).
    pub fn new(chain: &Chain) -> Self {
        Self::with_generators(chain.n_sites(), &crate::symmetry::generators(chain))
    }

    /// Every state its own orbit (no symmetry used).
    pub fn trivial(n_sites: usize) -> Self {
        Self::with_generators(n_sites, &[])
    }

    /// The flat row of each block's first orbit: orbits are numbered block by block
    /// (`k = 0..N` up spins), then by representative.
    pub fn offsets(&self) -> Vec<usize> {
        self.reps
            .iter()
            .scan(0usize, |acc, r| {
                let o = *acc;
                *acc += r.len();
                Some(o)
            })
            .collect()
    }

    /// The flat row of the orbit of basis state `s` (see [`Orbits::offsets`]).
    pub fn row_of(&self, offsets: &[usize], s: usize) -> usize {
        offsets[s.count_ones() as usize] + self.index[s] as usize
    }

    /// The orbits under the group the site permutations `generators` generate.
    pub fn with_generators(n: usize, generators: &[Vec<usize>]) -> Self {
        let dim = dimension(n);
        let mut reps: Vec<Vec<u32>> = vec![Vec::new(); n + 1];
        let mut sizes: Vec<Vec<u32>> = vec![Vec::new(); n + 1];
        let mut index = vec![u32::MAX; dim];
        let mut stack = Vec::new();
        for s in 0..dim {
            if index[s] != u32::MAX {
                continue;
            }
            let k = s.count_ones() as usize;
            let pos = reps[k].len() as u32;
            reps[k].push(s as u32);
            index[s] = pos;
            let mut size = 1u32;
            stack.push(s);
            while let Some(x) = stack.pop() {
                for perm in generators {
                    let y = permute(x, perm);
                    if index[y] == u32::MAX {
                        index[y] = pos;
                        size += 1;
                        stack.push(y);
                    }
                }
            }
            sizes[k].push(size);
        }
        Orbits { reps, sizes, index }
    }
}

/// `π(s)`: site `i` of `s` moves to site `perm[i]`.
fn permute(s: usize, perm: &[usize]) -> usize {
    perm.iter().enumerate().filter(|&(i, _)| (s >> i) & 1 == 1).fold(0, |acc, (_, &j)| acc | (1 << j))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Boundary, Couplings};

    #[test]
    fn orbits_partition_the_basis() {
        let open = Chain::builder(6).couplings(Couplings::NearestNeighbour).build().unwrap();
        let ring = open.to_builder().boundary(Boundary::Periodic).build().unwrap();
        let all = open.to_builder().couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
        let m = vec![vec![0.0, 1.0, 2.0], vec![1.0, 0.0, 3.0], vec![2.0, 3.0, 0.0]];
        let generic = Chain::builder(3).couplings(Couplings::Matrix { m }).build().unwrap();
        // open: reflection only; ring: dihedral (2N = 12 elements); all-to-all: Dicke
        for (chain, blocks_k3) in [(&open, 10), (&ring, 3), (&all, 1), (&generic, 1)] {
            let o = Orbits::new(chain);
            let n = chain.n_sites();
            let total: u32 = o.sizes.iter().flatten().sum();
            assert_eq!(total as usize, dimension(n));
            if n == 6 {
                // C(6,3) = 20 states with 3 ups: 10 reflection pairs (none is a palindrome), 3 necklaces (dihedral), 1
                assert_eq!(o.reps[3].len(), blocks_k3);
            } else {
                assert!(crate::symmetry::generators(chain).is_empty(), "a generic matrix has no symmetry");
            }
            for s in 0..dimension(n) {
                let k = s.count_ones() as usize;
                assert!((o.index[s] as usize) < o.reps[k].len());
            }
        }
    }
}
