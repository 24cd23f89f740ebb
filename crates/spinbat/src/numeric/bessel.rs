//! Bessel functions `J_k(x)` of integer order for the Chebyshev expansion
//! `e^{−i x y} = Σ_k (2 − δ_k0) (−i)^k J_k(x) T_k(y)`, `y ∈ [−1, 1]`.

use num_complex::Complex64;

/// `J_0(x), …, J_K(x)` for `x ≥ 0`, with `K` the smallest order whose tail satisfies
/// `Σ_{k>K} 2|J_k(x)| ≤ eps` (the truncation error of the Chebyshev series, since
/// `|T_k(y)| ≤ 1`). Also returns that tail.
///
/// Miller's backward recurrence `J_{k−1} = (2k/x) J_k − J_{k+1}` started far above the
/// turning point `k ≈ x` (where `J_k` decays super-exponentially), normalised by
/// `J_0 + 2 Σ_k J_{2k} = 1`. Relative accuracy near machine precision for all `x`.
pub fn bessel_sequence(x: f64, eps: f64) -> (Vec<f64>, f64) {
    assert!(x >= 0.0 && x.is_finite(), "bessel_sequence needs a finite x >= 0");
    if x == 0.0 {
        return (vec![1.0], 0.0);
    }
    // beyond k ≈ x + 7 x^{1/3} the terms are below 1e-16; start well above that
    let start = (x + 12.0 * x.cbrt() + 60.0).ceil() as usize;
    let mut j = vec![0.0f64; start + 2];
    j[start] = 1e-280;
    for k in (1..=start).rev() {
        j[k - 1] = (2.0 * k as f64 / x) * j[k] - j[k + 1];
        if j[k - 1].abs() > 1e250 {
            for v in j[k - 1..].iter_mut() {
                *v *= 1e-250;
            }
        }
    }
    let norm = j[0] + 2.0 * j.iter().skip(2).step_by(2).sum::<f64>();
    for v in j.iter_mut() {
        *v /= norm;
    }
    // smallest K with tail Σ_{k>K} 2|J_k| ≤ eps
    let mut tail = 0.0;
    let mut k_max = start;
    for k in (0..=start).rev() {
        let next = tail + 2.0 * j[k].abs();
        if next > eps {
            k_max = k;
            break;
        }
        tail = next;
        k_max = k.saturating_sub(1);
    }
    j.truncate(k_max + 1);
    (j, tail)
}

/// `(−i)^k`.
pub(crate) fn minus_i_pow(k: usize) -> Complex64 {
    match k % 4 {
        0 => Complex64::new(1.0, 0.0),
        1 => Complex64::new(0.0, -1.0),
        2 => Complex64::new(-1.0, 0.0),
        _ => Complex64::new(0.0, 1.0),
    }
}

/// Coefficient of `T_k(H̃)` for each of a batch of steps: `phase_j (−i)^k (2 − δ_k0) J_k(x_j)`,
/// zero where series `j` (as returned by [`bessel_sequence`]) is already cut.
pub(crate) fn step_coefficients(seqs: &[(Vec<f64>, f64)], phases: &[Complex64], k: usize) -> Vec<Complex64> {
    let weight = if k == 0 { 1.0 } else { 2.0 };
    let mi_k = minus_i_pow(k);
    seqs.iter()
        .zip(phases)
        .map(|(q, ph)| q.0.get(k).map_or(Complex64::new(0.0, 0.0), |jk| ph * mi_k * weight * jk))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_known_values() {
        // J_0(1), J_1(1), J_5(10), J_0(100) from standard tables (Abramowitz & Stegun)
        let (j, _) = bessel_sequence(1.0, 1e-17);
        assert!((j[0] - 0.765_197_686_557_966_6).abs() < 1e-15);
        assert!((j[1] - 0.440_050_585_744_933_5).abs() < 1e-15);
        let (j, _) = bessel_sequence(10.0, 1e-17);
        assert!((j[5] - (-0.234_061_528_186_793_6)).abs() < 1e-14);
        let (j, _) = bessel_sequence(100.0, 1e-17);
        assert!((j[0] - 0.019_985_850_304_223_12).abs() < 1e-13);
    }

    #[test]
    fn tail_is_below_eps_and_order_grows_like_x() {
        for &x in &[0.3, 2.0, 40.0, 1000.0] {
            let (j, tail) = bessel_sequence(x, 1e-12);
            assert!(tail <= 1e-12);
            assert!((j.len() as f64) > x && (j.len() as f64) < x + 12.0 * x.cbrt() + 40.0);
            // Neumann identity Σ J_k² (1 + [k>0]) = 1 checks the whole sequence
            let s: f64 = j.iter().enumerate().map(|(k, v)| if k == 0 { v * v } else { 2.0 * v * v }).sum();
            assert!((s - 1.0).abs() < 1e-12, "x = {x}: {s}");
        }
    }
}
