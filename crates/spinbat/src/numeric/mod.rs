//! Numerical building blocks with no physics in them, at the ground of the library:
//!
//! * `bessel`: Bessel-function coefficients of the Chebyshev expansion of `e^{−ixt}`
//!   and their tail bounds (used by `propagate`'s Chebyshev and Dicke methods);
//! * [`dop853`]: the Dormand–Prince 8(5,3) integrator with step-size control (the mean field);
//! * [`toeplitz`]: FFT products with Toeplitz matrices, `O(N log N)` sums `Σ_j g_{|i−j|} x_j`
//!   (the mean field with distance couplings);
//! * [`brent`]: Brent's bracketing root finder (the certified maximum search);
//! * [`amplitude`]: the real and complex number types the kernels store states in
//!   ([`Amplitude`], [`Real`]: `f64` or `f32`);
//! * [`simd`]: clearing the vector-register state faer's kernels leave behind, and the
//!   lane-wise sums ([`simd::lane_sums`]) of the dot products over state-sized slices.

pub mod amplitude;
pub(crate) mod bessel;
pub mod dop853;
mod roots;
pub mod simd;
pub mod toeplitz;

pub use amplitude::{Amplitude, Real, Widen};
pub use roots::brent;
