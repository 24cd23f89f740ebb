//! The vector-register state between faer's kernels and ours, and the lane-wise sums
//! ([`lane_sums`]) our kernels reduce state-sized slices with.
//!
//! faer dispatches to AVX/AVX-512 kernels at run time and can return with the upper halves
//! of the vector registers in use. Code compiled for the baseline x86-64 target (SSE2, as
//! this crate's kernels are) then pays a transition penalty on every instruction: the
//! Chebyshev steps ran 2.3x slower after one Gram product (8.4 against 3.6 ms a complex
//! step at `N = 20` in the sector, BENCHMARKS.md). [`clear_upper_state`] ends that state
//! on every thread that may have run faer.

/// `vzeroupper` on every thread of rayon's pool and on the calling thread, where the CPU
/// has AVX (a no-op elsewhere). Called after each faer computation that this crate's kernels
/// follow: the Gram products of the Chebyshev segments, the Dicke solver's eigen window,
/// the Schmidt SVD and the block ergotropy's eigenvalues along a trajectory, the one-magnon
/// check before a charge.
pub fn clear_upper_state() {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            #[target_feature(enable = "avx")]
            fn zeroupper() {
                std::arch::x86_64::_mm256_zeroupper();
            }
            // SAFETY: AVX is present (detected just above)
            rayon::broadcast(|_| unsafe { zeroupper() });
            // SAFETY: as above
            unsafe { zeroupper() };
        }
    }
}

/// Independent partial sums per result in [`lane_sums`]: a single running sum would be
/// added in order, one addition's latency an element; eight lanes (four SSE2 registers of
/// two `f64`) are enough independent chains to hide it, and the compiler keeps them in
/// registers.
pub const LANES: usize = 8;

/// `Σ_i f(x_0[i], …, x_{S−1}[i])`, `M` sums at once, over `S` equal slices: element `i`
/// goes to lane `i mod` [`LANES`] of each sum, the lanes are added at the end and the
/// elements past the last whole chunk (added in order) after them. The shared kernel of
/// the crate's dot products, norms and moments over state-sized slices (the Gram
/// products' norms, the Gram rows' `W` evaluations, the Bloch sums' weights).
///
/// # Panics
/// If the slices differ in length (a programming error).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // `i` indexes each of the `S` slices
pub fn lane_sums<T: Copy, const S: usize, const M: usize>(xs: [&[T]; S], f: impl Fn([T; S]) -> [f64; M]) -> [f64; M] {
    let n = xs.first().map_or(0, |x| x.len());
    assert!(xs.iter().all(|x| x.len() == n), "lane_sums: slices of different lengths");
    let full = n - n % LANES;
    let mut acc = [[0.0f64; LANES]; M];
    for k in (0..full).step_by(LANES) {
        // SAFETY: every slice is `n ≥ full ≥ k + LANES` long (asserted above), and
        // `[T; LANES]` has the layout of `LANES` consecutive `T` (a bounds check per chunk
        // instead cost the one-input sums 15 %)
        let chunks: [&[T; LANES]; S] = std::array::from_fn(|s| unsafe { &*xs[s].as_ptr().add(k).cast::<[T; LANES]>() });
        for l in 0..LANES {
            let terms = f(std::array::from_fn(|s| chunks[s][l]));
            for (a, t) in acc.iter_mut().zip(terms) {
                a[l] += t;
            }
        }
    }
    let mut rest = [0.0f64; M];
    for i in full..n {
        let terms = f(std::array::from_fn(|s| xs[s][i]));
        for (r, t) in rest.iter_mut().zip(terms) {
            *r += t;
        }
    }
    std::array::from_fn(|m| acc[m].iter().sum::<f64>() + rest[m])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every element counted once whatever the length relative to the lanes (the lanes,
    /// the remainder, both, neither), and several sums at once: against plain sums of
    /// integers (exact in f64).
    #[test]
    fn lane_sums_counts_every_element_once() {
        for n in [0, 1, 7, 8, 9, 16, 23, 64, 101] {
            let a: Vec<f64> = (0..n).map(|i| (i * i % 17) as f64 - 5.0).collect();
            let b: Vec<f64> = (0..n).map(|i| (3 * i % 11) as f64).collect();
            let [dot, sq, ones] = lane_sums([&a[..], &b[..]], |[x, y]| [x * y, x * x, 1.0]);
            assert_eq!(dot, a.iter().zip(&b).map(|(x, y)| x * y).sum::<f64>(), "n = {n}");
            assert_eq!(sq, a.iter().map(|x| x * x).sum::<f64>(), "n = {n}");
            assert_eq!(ones, n as f64, "n = {n}");
        }
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn lane_sums_refuses_unequal_slices() {
        let _ = lane_sums([&[1.0, 2.0][..], &[1.0][..]], |[x, y]| [x * y]);
    }
}
