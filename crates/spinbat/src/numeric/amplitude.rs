//! The numbers the kernels work on: real or complex amplitudes in single or double
//! precision ([`Amplitude`], [`Real`]), and an unchecked gather for the hot loops.

/// `x[k]` without a bounds check in release builds. Every caller passes `k = s ⊕ m` with
/// `s < 2^N` and `m < 2^N` (a mask of site bits), so `k < 2^N = x.len()`; debug builds
/// check it.
#[inline(always)]
pub(crate) fn gather<T: Copy>(x: &[T], k: usize) -> T {
    debug_assert!(k < x.len());
    // SAFETY: k < x.len() by the argument above (bit masks of sites below N).
    unsafe { *x.get_unchecked(k) }
}

/// A real or complex amplitude in single or double precision: what the kernels need of a
/// number.
pub trait Amplitude:
    Copy
    + Default
    + Send
    + Sync
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::AddAssign
{
    /// `self · s` for a real double-precision factor (a matrix element).
    fn scale(self, s: f64) -> Self;
}

/// A real floating-point type the propagator can store states in: `f64` (default) or `f32`
/// (single precision, half the memory and bandwidth; `ε = 6·10⁻⁸`).
pub trait Real: Amplitude + Widen<Wide = f64> + PartialEq + num_traits::NumAssign + 'static {
    /// Unit roundoff `u` (`2⁻⁵³` or `2⁻²⁴`).
    const UNIT_ROUNDOFF: f64;
    /// `"double"` or `"single"`.
    const PRECISION: &'static str;
    /// Rounds a double to this type.
    fn from_f64(x: f64) -> Self;
    /// Widens to a double.
    fn to_f64(self) -> f64;
}

impl Amplitude for f64 {
    #[inline(always)]
    fn scale(self, s: f64) -> Self {
        self * s
    }
}
impl Amplitude for f32 {
    #[inline(always)]
    fn scale(self, s: f64) -> Self {
        self * s as f32
    }
}
impl<R: Real> Amplitude for num_complex::Complex<R> {
    #[inline(always)]
    fn scale(self, s: f64) -> Self {
        num_complex::Complex::new(self.re.scale(s), self.im.scale(s))
    }
}
impl Real for f64 {
    const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;
    const PRECISION: &'static str = "double";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}
impl Real for f32 {
    const UNIT_ROUNDOFF: f64 = f32::EPSILON as f64 / 2.0;
    const PRECISION: &'static str = "single";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

/// A stored amplitude widened to the double-precision scalar that products of many states
/// (the Gram matrices of [`crate::operator::gram_sums`]) are taken in: real storage
/// (`f64`, `f32`) as `f64`, complex storage as `Complex64`, so a real state costs a real
/// product (a quarter of the complex flops).
pub trait Widen: Amplitude {
    /// `f64` or `Complex64`.
    type Wide: faer::traits::ComplexField + Copy + Default + Send + Sync + std::ops::Mul<f64, Output = Self::Wide>;
    /// The value in double precision.
    fn widen(self) -> Self::Wide;
    /// `Re(ā b)`.
    fn re_dot(a: Self::Wide, b: Self::Wide) -> f64;
    /// As a complex number.
    fn to_c64(w: Self::Wide) -> num_complex::Complex64;
    /// Real parts a stored value has: `1` (real storage) or `2` (complex: `Re`, `Im`).
    const PARTS: usize;
    /// Part `p < PARTS` in double precision (`p = 0` the real part, `1` the imaginary).
    fn part(self, p: usize) -> f64;
}

impl Widen for f64 {
    type Wide = f64;
    #[inline(always)]
    fn widen(self) -> f64 {
        self
    }
    #[inline(always)]
    fn re_dot(a: f64, b: f64) -> f64 {
        a * b
    }
    fn to_c64(w: f64) -> num_complex::Complex64 {
        num_complex::Complex64::new(w, 0.0)
    }
    const PARTS: usize = 1;
    #[inline(always)]
    fn part(self, _p: usize) -> f64 {
        self.widen()
    }
}

impl Widen for f32 {
    type Wide = f64;
    #[inline(always)]
    fn widen(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn re_dot(a: f64, b: f64) -> f64 {
        a * b
    }
    fn to_c64(w: f64) -> num_complex::Complex64 {
        num_complex::Complex64::new(w, 0.0)
    }
    const PARTS: usize = 1;
    #[inline(always)]
    fn part(self, _p: usize) -> f64 {
        self.widen()
    }
}

impl<R: Real> Widen for num_complex::Complex<R> {
    type Wide = num_complex::Complex64;
    #[inline(always)]
    fn widen(self) -> num_complex::Complex64 {
        num_complex::Complex64::new(self.re.to_f64(), self.im.to_f64())
    }
    #[inline(always)]
    fn re_dot(a: num_complex::Complex64, b: num_complex::Complex64) -> f64 {
        a.re * b.re + a.im * b.im
    }
    fn to_c64(w: num_complex::Complex64) -> num_complex::Complex64 {
        w
    }
    const PARTS: usize = 2;
    #[inline(always)]
    fn part(self, p: usize) -> f64 {
        if p == 0 {
            self.re.to_f64()
        } else {
            self.im.to_f64()
        }
    }
}
