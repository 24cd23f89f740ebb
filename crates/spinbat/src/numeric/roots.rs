//! Bracketed root finding (Brent's method).

/// Root of `f` in `[a, b]` with `f(a)`, `f(b)` of opposite signs (or zero), to an
/// absolute tolerance `xtol` in `x`. Brent (1973): inverse quadratic interpolation and
/// secant steps safeguarded by bisection; never leaves the bracket.
pub fn brent<E>(
    mut f: impl FnMut(f64) -> Result<f64, E>,
    mut a: f64,
    mut b: f64,
    mut fa: f64,
    mut fb: f64,
    xtol: f64,
    max_iter: usize,
) -> Result<f64, E> {
    if fa == 0.0 {
        return Ok(a);
    }
    if fb == 0.0 {
        return Ok(b);
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    for _ in 0..max_iter {
        if (fb > 0.0) == (fc > 0.0) {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 0.5 * xtol;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return Ok(b);
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qa = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * qa * (qa - r) - (b - a) * (r - 1.0));
                q = (qa - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = f(b)?;
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_roots_to_tolerance() {
        let r = brent(|x: f64| Ok::<_, ()>(x.cos() - x), 0.0, 1.0, 1.0, 1f64.cos() - 1.0, 1e-15, 100).unwrap();
        assert!((r - 0.739_085_133_215_160_6).abs() < 1e-14);
        let r = brent(|x: f64| Ok::<_, ()>((x - 0.3).powi(3)), 0.0, 1.0, -0.027, 0.343, 1e-12, 200).unwrap();
        assert!((r - 0.3).abs() < 1e-4); // triple root: x-accuracy limited by f's flatness
    }
}
