//! What the partitioned state needs of its processes ([`Communicator`]), and an in-process
//! implementation over threads ([`ThreadComm`]) that lets `cargo test` check the
//! partitioned algorithm without MPI. The CLI's `mpi` feature implements the same trait on
//! an MPI communicator; the library never links MPI.

use std::sync::mpsc::{channel, Receiver, Sender};

/// The collective operations of `R = 2^k` processes holding one state between them
/// (ranks `0 .. R`). Every rank calls the same operations in the same order (SPMD): an
/// [`Communicator::exchange_f64`] with `partner` is met by that partner's exchange with this
/// rank, a reduction by every rank.
pub trait Communicator: Send {
    /// This process's rank, `0 ≤ rank < size`.
    fn rank(&self) -> usize;

    /// The number of processes `R` (a power of two for a partitioned state).
    fn size(&self) -> usize;

    /// Sends `send` to `partner` and receives `partner`'s buffer of equal length into
    /// `recv` (MPI `Sendrecv`).
    fn exchange_f64(&self, partner: usize, send: &[f64], recv: &mut [f64]);

    /// [`Communicator::exchange_f64`] for single precision.
    fn exchange_f32(&self, partner: usize, send: &[f32], recv: &mut [f32]);

    /// Replaces `values` by their elementwise sum over all ranks; every rank gets the same
    /// bits (summed in one fixed order).
    fn all_reduce_sum(&self, values: &mut [f64]);

    /// Replaces `values` by their elementwise maximum over all ranks.
    fn all_reduce_max(&self, values: &mut [f64]);
}

/// A storage type whose buffers a [`Communicator`] exchanges (`f64`, `f32`).
pub trait Wire: Sized {
    /// `comm.exchange_f64` or `comm.exchange_f32`.
    fn exchange<C: Communicator + ?Sized>(comm: &C, partner: usize, send: &[Self], recv: &mut [Self]);
}

impl Wire for f64 {
    fn exchange<C: Communicator + ?Sized>(comm: &C, partner: usize, send: &[f64], recv: &mut [f64]) {
        comm.exchange_f64(partner, send, recv);
    }
}

impl Wire for f32 {
    fn exchange<C: Communicator + ?Sized>(comm: &C, partner: usize, send: &[f32], recv: &mut [f32]) {
        comm.exchange_f32(partner, send, recv);
    }
}

/// One process alone (`R = 1`): exchanges never happen, reductions are the identity.
#[derive(Debug, Clone, Copy, Default)]
pub struct SingleProcess;

impl Communicator for SingleProcess {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn exchange_f64(&self, partner: usize, _send: &[f64], _recv: &mut [f64]) {
        unreachable!("one process has no partner (asked for rank {partner})")
    }
    fn exchange_f32(&self, partner: usize, _send: &[f32], _recv: &mut [f32]) {
        unreachable!("one process has no partner (asked for rank {partner})")
    }
    fn all_reduce_sum(&self, _values: &mut [f64]) {}
    fn all_reduce_max(&self, _values: &mut [f64]) {}
}

/// A message between two threads of a [`ThreadComm`].
enum Message {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

/// `R` ranks as `R` threads of one process, joined by one channel per ordered pair
/// (`std::sync::mpsc`, unbounded, so a send never blocks and an exchange cannot
/// deadlock). Exchanges copy the buffer; reductions send every rank's values to every
/// other and sum them in rank order on each, so all ranks hold the same bits. For tests
/// and for checking the partitioned algorithm; [`ThreadComm::run`] starts the ranks.
pub struct ThreadComm {
    rank: usize,
    /// `to[q]`: the channel to rank `q` (none to itself)
    to: Vec<Option<Sender<Message>>>,
    /// `from[q]`: the channel from rank `q`
    from: Vec<Option<Receiver<Message>>>,
}

impl ThreadComm {
    /// The `ranks` communicators of one group, rank `r` at index `r`.
    pub fn group(ranks: usize) -> Vec<ThreadComm> {
        let mut to: Vec<Vec<Option<Sender<Message>>>> =
            (0..ranks).map(|_| (0..ranks).map(|_| None).collect()).collect();
        let mut from: Vec<Vec<Option<Receiver<Message>>>> =
            (0..ranks).map(|_| (0..ranks).map(|_| None).collect()).collect();
        for a in 0..ranks {
            for b in 0..ranks {
                if a != b {
                    let (s, r) = channel();
                    to[a][b] = Some(s);
                    from[b][a] = Some(r);
                }
            }
        }
        to.into_iter().zip(from).enumerate().map(|(rank, (to, from))| ThreadComm { rank, to, from }).collect()
    }

    /// Runs `f` on `ranks` threads, each with its rank's communicator, and returns their
    /// results in rank order (SPMD: every rank runs the same `f`).
    ///
    /// # Panics
    /// If a rank panics (its panic is passed on).
    pub fn run<T: Send>(ranks: usize, f: impl Fn(ThreadComm) -> T + Sync) -> Vec<T> {
        let comms = Self::group(ranks);
        std::thread::scope(|scope| {
            let handles: Vec<_> = comms.into_iter().map(|c| scope.spawn(|| f(c))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
        })
    }

    fn send(&self, to: usize, m: Message) {
        self.to[to].as_ref().expect("no channel to this rank").send(m).expect("the partner rank has ended");
    }

    fn receive(&self, from: usize) -> Message {
        self.from[from].as_ref().expect("no channel from this rank").recv().expect("the partner rank has ended")
    }

    /// Every rank's `values`, in rank order (this rank's own included).
    fn all_gather(&self, values: &[f64]) -> Vec<Vec<f64>> {
        for q in 0..self.size() {
            if q != self.rank {
                self.send(q, Message::F64(values.to_vec()));
            }
        }
        (0..self.size())
            .map(|q| {
                if q == self.rank {
                    values.to_vec()
                } else {
                    match self.receive(q) {
                        Message::F64(v) => v,
                        Message::F32(_) => unreachable!("a reduction met a single-precision exchange"),
                    }
                }
            })
            .collect()
    }
}

impl Communicator for ThreadComm {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.to.len()
    }

    fn exchange_f64(&self, partner: usize, send: &[f64], recv: &mut [f64]) {
        self.send(partner, Message::F64(send.to_vec()));
        match self.receive(partner) {
            Message::F64(v) => recv.copy_from_slice(&v),
            Message::F32(_) => unreachable!("ranks disagree on the precision"),
        }
    }

    fn exchange_f32(&self, partner: usize, send: &[f32], recv: &mut [f32]) {
        self.send(partner, Message::F32(send.to_vec()));
        match self.receive(partner) {
            Message::F32(v) => recv.copy_from_slice(&v),
            Message::F64(_) => unreachable!("ranks disagree on the precision"),
        }
    }

    fn all_reduce_sum(&self, values: &mut [f64]) {
        let all = self.all_gather(values);
        for (i, v) in values.iter_mut().enumerate() {
            *v = all.iter().map(|a| a[i]).sum();
        }
    }

    fn all_reduce_max(&self, values: &mut [f64]) {
        let all = self.all_gather(values);
        for (i, v) in values.iter_mut().enumerate() {
            *v = all.iter().map(|a| a[i]).fold(f64::NEG_INFINITY, f64::max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchanges_pair_partners_and_reductions_agree_on_every_rank() {
        let out = ThreadComm::run(4, |c| {
            let me = c.rank() as f64;
            let mut recv = [0.0; 2];
            c.exchange_f64(c.rank() ^ 1, &[me, 10.0 * me], &mut recv);
            let mut s = [me, 1.0];
            c.all_reduce_sum(&mut s);
            let mut m = [me];
            c.all_reduce_max(&mut m);
            (recv, s, m)
        });
        for (r, (recv, s, m)) in out.iter().enumerate() {
            let p = (r ^ 1) as f64;
            assert_eq!(*recv, [p, 10.0 * p]);
            assert_eq!(*s, [6.0, 4.0]);
            assert_eq!(*m, [3.0]);
        }
    }
}
