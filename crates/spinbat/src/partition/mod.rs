//! One state vector across processes: the `2^N` full-space amplitudes split over
//! `R = 2^k` ranks by their highest `k` bits (issue 18).
//!
//! Rank `r` holds the rows `s = r·2^{N−k} + l`, `0 ≤ l < L = 2^{N−k}` ([`Partition`]): bits
//! `0 .. N−k` of `s` are *local* (the index `l`), bits `N−k .. N` *global* (the rank). A
//! term of `H` that flips only local bits (the diagonal, `X_i` and flip-flops of local
//! sites) maps the rank's rows onto themselves; a term that flips the global bits `G` (as a
//! mask on the rank) maps them onto the rows of rank `r ⊕ G`, whose slice is fetched by one
//! [`Communicator::exchange`](Communicator::exchange_f64) per distinct `G`
//! ([`PartitionedOperators::apply`]): the `k` single global bits for `X_i` (and
//! flip-flops between a local and a global site), and pairs of global bits for flip-flops
//! between two global sites. Sums over the basis (norms, `W`, `W'`) are local sums and one
//! [`Communicator::all_reduce_sum`].
//!
//! The library never links MPI: the [`Communicator`] trait is what the propagator
//! ([`crate::propagate::distributed`]) needs, [`ThreadComm`] runs `R` ranks as threads (the
//! tests), and the CLI's `mpi` feature implements it over MPI.

mod communicator;
mod operators;

pub use communicator::{Communicator, SingleProcess, ThreadComm, Wire};
pub use operators::{Partition, PartitionedOperators};

/// What a partitioned run exchanged ([`crate::propagate::Distributed::report`]), for the
/// record and the scaling model (BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PartitionReport {
    /// `R`, the processes.
    pub processes: usize,
    /// Chebyshev terms computed (each one application of `H` to a complex state: two to
    /// real vectors).
    pub chebyshev_terms: u64,
    /// Applications of `H_g` and `V` to a real vector (two per term, two per measured
    /// state), each one exchange per flipped rank mask.
    pub applications: u64,
    /// Bytes each rank sends (and receives) per application:
    /// `exchanges · 2^{N−k} · size_of(R)`.
    pub bytes_per_application: u64,
    /// Bytes each rank sent in all, `applications · bytes_per_application`.
    pub bytes_exchanged: u64,
}
