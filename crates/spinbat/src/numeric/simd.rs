//! The vector-register state between faer's kernels and ours.
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
