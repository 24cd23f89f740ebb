//! One state vector across MPI processes: whether an MPI launcher started this process,
//! and (cargo feature `mpi`) the library's [`spinbat::partition::Communicator`] over MPI.
//! `mpiexec -n R spinbat charge ...` partitions the `2^N` amplitudes over the `R` processes
//! (a power of two); only rank 0 prints and writes files.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once this process is known to be an MPI rank other than 0: it stays silent.
static SECONDARY: AtomicBool = AtomicBool::new(false);

/// Whether this process is an MPI rank other than 0 (its errors and output are left to rank 0).
pub fn secondary_rank() -> bool {
    SECONDARY.load(Ordering::Relaxed)
}

/// The environment variables MPI launchers set to the number of processes: MPICH's hydra
/// (`PMI_SIZE`), Open MPI (`OMPI_COMM_WORLD_SIZE`), and the local count MPICH sets
/// (`MPI_LOCALNRANKS`).
const SIZE_VARIABLES: [&str; 3] = ["PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"];

/// The variables MPI launchers set to this process's rank (as [`SIZE_VARIABLES`]).
const RANK_VARIABLES: [&str; 2] = ["PMI_RANK", "OMPI_COMM_WORLD_RANK"];

/// The number of processes an MPI launcher started, from its environment; `None` when not
/// started by one. Marks a rank other than 0 (from the launcher's rank variable) silent, so
/// that a refusal before MPI starts is printed once.
pub fn launcher_size() -> Option<usize> {
    let size = SIZE_VARIABLES.iter().find_map(|v| std::env::var(v).ok()?.trim().parse().ok())?;
    let rank: Option<usize> = RANK_VARIABLES.iter().find_map(|v| std::env::var(v).ok()?.trim().parse().ok());
    if rank.is_some_and(|r| r != 0) {
        SECONDARY.store(true, Ordering::Relaxed);
    }
    Some(size)
}

/// Whether `charge` runs partitioned: with the `mpi` feature, whenever an MPI launcher
/// started this process (even `mpiexec -n 1`); without it, never.
#[cfg(feature = "mpi")]
pub fn launched() -> bool {
    launcher_size().is_some()
}

/// Without the `mpi` feature: never partitioned (see [`refuse_without_mpi`]).
#[cfg(not(feature = "mpi"))]
pub fn launched() -> bool {
    launcher_size().is_some_and(|r| r > 1)
}

/// The message of a build without the feature started as several MPI processes.
#[cfg(not(feature = "mpi"))]
pub const WITHOUT_MPI: &str = "this spinbat was built without MPI, so each of the processes mpiexec started would run the whole chain alone; build it with `cargo build --release -p spinbat-cli --features mpi` (needs an MPI library: Debian's mpich and libmpich-dev, and libclang-dev), then run `mpiexec -n R target/release/spinbat charge ...` with R a power of two";

#[cfg(feature = "mpi")]
pub use with_mpi::start;

#[cfg(feature = "mpi")]
mod with_mpi {
    use crate::distributed::SECONDARY;
    use mpi::collective::SystemOperation;
    use mpi::topology::{Communicator as _, SimpleCommunicator};
    use mpi::traits::*;
    use spinbat::partition::Communicator;
    use std::sync::atomic::Ordering;

    /// Elements per MPI message (counts are 32-bit).
    const MESSAGE: usize = 1 << 26;

    /// [`Communicator`] over MPI's world: `MPI_Sendrecv` for exchanges, `MPI_Allreduce`
    /// for the sums and maxima (MPICH gives every rank the same bits for the same
    /// operands in the same order: its reduction order depends on the ranks, not on timing).
    pub struct MpiComm {
        world: SimpleCommunicator,
    }

    /// Starts MPI (`MPI_Init`) and returns the universe (finalised when dropped: keep it
    /// until the end of the run) and the world's communicator; marks ranks other than 0
    /// silent.
    pub fn start() -> Result<(mpi::environment::Universe, MpiComm), crate::CliError> {
        let universe = mpi::initialize()
            .ok_or_else(|| crate::CliError::runtime(anyhow::anyhow!("MPI was already initialised")))?;
        let world = universe.world();
        if world.rank() != 0 {
            SECONDARY.store(true, Ordering::Relaxed);
        }
        Ok((universe, MpiComm { world }))
    }

    impl MpiComm {
        fn exchange<T: Equivalence>(&self, partner: usize, send: &[T], recv: &mut [T]) {
            let p = self.world.process_at_rank(partner as i32);
            for (s, r) in send.chunks(MESSAGE).zip(recv.chunks_mut(MESSAGE)) {
                mpi::point_to_point::send_receive_into(s, &p, r, &p);
            }
        }
    }

    impl Communicator for MpiComm {
        fn rank(&self) -> usize {
            self.world.rank() as usize
        }

        fn size(&self) -> usize {
            self.world.size() as usize
        }

        fn exchange_f64(&self, partner: usize, send: &[f64], recv: &mut [f64]) {
            self.exchange(partner, send, recv);
        }

        fn exchange_f32(&self, partner: usize, send: &[f32], recv: &mut [f32]) {
            self.exchange(partner, send, recv);
        }

        fn all_reduce_sum(&self, values: &mut [f64]) {
            let local = values.to_vec();
            self.world.all_reduce_into(&local[..], values, SystemOperation::sum());
        }

        fn all_reduce_max(&self, values: &mut [f64]) {
            let local = values.to_vec();
            self.world.all_reduce_into(&local[..], values, SystemOperation::max());
        }
    }
}
