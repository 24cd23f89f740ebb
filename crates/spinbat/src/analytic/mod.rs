//! Closed forms of `docs/physics.md`: reference problems for tests, benches and the CLI.
//!
//! * one spin: `W(t) = 2B sin²(ωt)`, maximal power `P⁽¹⁾ = 2Bω·max_x sin²x/x` at
//!   `ωT* = x*`, `tan x* = 2x*` ([`one_spin_max_power`]);
//! * XXX (`α = 1`) or `g = 0`, any couplings: `W(t) = 2BN sin²(ωt)` exactly;
//! * weak coupling (paper Eq. 18): `W(t) ≈ 2BN sin²(ωt) + (1 − α) G sin²(2ωt)`, with
//!   Eq. 19 for its maximal work and the paper's `P_max` formula ([`WeakCoupling`]);
//! * strong coupling, `α = 0`: two spins (Eqs. 13–15) and three all-coupled spins.

mod weak;

pub use weak::WeakCoupling;

/// `x* = 1.16556118520…`, the root of `tan x = 2x` in `(0, π/2)`: `sin²x/x` is largest
/// there. Newton's method on `2x cos x − sin x = 0`; converges to machine precision.
/// (The notes `docs/physics.md` grew from quoted 1.16556117506, off in the 8th digit.)
pub fn one_spin_optimal_phase() -> f64 {
    // maximise sin²x/x: derivative zero ⇔ 2x cos x − sin x = 0
    let mut x: f64 = 1.17;
    for _ in 0..50 {
        let f = 2.0 * x * x.cos() - x.sin();
        let df = 2.0 * x.cos() - 2.0 * x * x.sin() - x.cos();
        let step = f / df;
        x -= step;
        if step.abs() < 1e-16 {
            break;
        }
    }
    x
}

/// `max_x sin²x / x = 0.72461135377…` (at [`one_spin_optimal_phase`]).
pub fn one_spin_power_factor() -> f64 {
    let x = one_spin_optimal_phase();
    x.sin().powi(2) / x
}

/// Work on one spin, `W(t) = 2B sin²(ωt)`.
pub fn one_spin_work(b: f64, omega: f64, t: f64) -> f64 {
    2.0 * b * (omega * t).sin().powi(2)
}

/// Maximal power of one spin and its time: `(2Bω·0.72461…, 1.1655612…/ω)`.
pub fn one_spin_max_power(b: f64, omega: f64) -> (f64, f64) {
    (2.0 * b * omega * one_spin_power_factor(), one_spin_optimal_phase() / omega)
}

/// Work of `N` independent spins (also exact for XXX and for `g = 0`):
/// `W(t) = 2BN sin²(ωt)`.
pub fn independent_work(n_sites: usize, b: f64, omega: f64, t: f64) -> f64 {
    n_sites as f64 * one_spin_work(b, omega, t)
}

/// Two spins, `α = 0`, `g ≫ ω` (paper Eqs. 13–14): fast part `(4ω²/g) sin²(gt)` and slow
/// part `2ω²/g + 4B sin²(ω² t/g)`; returns `(fast, slow)`.
pub fn two_spin_strong_coupling(b: f64, g: f64, omega: f64, t: f64) -> (f64, f64) {
    let fast = 4.0 * omega * omega / g * (g * t).sin().powi(2);
    let slow = 2.0 * omega * omega / g + 4.0 * b * (omega * omega * t / g).sin().powi(2);
    (fast, slow)
}

/// Effective coupling between `|↓↓⟩` and `|↑↑⟩` at strong coupling, Eq. 15: `ω²/g`.
pub fn two_spin_effective_coupling(g: f64, omega: f64) -> f64 {
    omega * omega / g
}

/// Three spins all coupled with `g`, `α = 0`, `g ≫ ω`: slow work
/// `6B sin²(3ω³ t / (8 g²))`.
pub fn three_spin_strong_coupling_slow(b: f64, g: f64, omega: f64, t: f64) -> f64 {
    6.0 * b * (three_spin_effective_coupling(g, omega) * t).sin().powi(2)
}

/// Effective coupling of three all-coupled spins, `3ω³/(8g²)`.
pub fn three_spin_effective_coupling(g: f64, omega: f64) -> f64 {
    3.0 * omega.powi(3) / (8.0 * g * g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spin_constants_match_physics_md() {
        // x* solves tan x = 2x (the notes physics.md grew from had 1.16556117506, off in the 8th digit)
        let x = one_spin_optimal_phase();
        assert!((x.tan() - 2.0 * x).abs() < 1e-13);
        assert!((x - 1.165_561_185_207_211).abs() < 1e-14);
        assert!((one_spin_power_factor() - 0.724_611_353_77).abs() < 1e-11);
        let (p, t) = one_spin_max_power(1.0, 1.0);
        assert!((p - 1.449_222_707_55).abs() < 1e-10);
        assert!((t - x).abs() < 1e-15);
    }
}
