//! The ergotropy family against an independent oracle (`scripts/reference/
//! make_ergotropy_reference.py`: dense density matrices and the general definitions, with a
//! QuTiP cross-check; nothing of spinbat), and the physics any implementation must show:
//! ergotropy = W when all-down is the ground state, locked = B Σ(1 − |r_i|) for pure states,
//! the capacity constant along the charge, the Robertson bound never violated and saturated
//! by independent spins, no locked ergotropy in the mean field's product state.

use serde_json::Value;
use spinbat::observe::trajectory::{trajectory, ObservableSet, Trajectory};
use spinbat::{Boundary, Chain, Couplings, Silent, Solver};

const TOL: f64 = 1e-12;

fn set() -> ObservableSet {
    "ergotropy,bloch,variance".parse().unwrap()
}

fn run(chain: &Chain, solver: Solver, times: &[f64]) -> Trajectory {
    trajectory(chain, solver, times, &set(), TOL, &Silent).unwrap()
}

#[test]
fn ergotropy_family_matches_the_density_matrix_oracle() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ergotropy_reference.json"))
        .expect("the ergotropy oracle");
    let data: Value = serde_json::from_str(&text).unwrap();
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 8, "the oracle covers N = 1..8");
    let mut compared = 0;
    for case in cases {
        let f = |k: &str| case[k].as_f64().unwrap();
        let n = case["n"].as_u64().unwrap() as usize;
        let couplings = match case["coupling"].as_str().unwrap() {
            "nearest-neighbour" => Couplings::NearestNeighbour,
            _ => Couplings::PowerLaw { p: f("p") },
        };
        let boundary = if case["boundary"] == "periodic" { Boundary::Periodic } else { Boundary::Open };
        let chain = Chain::builder(n)
            .b(f("b"))
            .g(f("g"))
            .alpha(f("alpha"))
            .omega(f("omega"))
            .couplings(couplings)
            .boundary(boundary)
            .build()
            .unwrap();
        let points = case["points"].as_array().unwrap();
        let times: Vec<f64> = points.iter().map(|p| p["t"].as_f64().unwrap()).collect();
        // the exact solvers: dense, and Chebyshev (a sector where the chain allows one)
        for solver in [Solver::Dense, Solver::Chebyshev] {
            let tr = run(&chain, solver, &times);
            let err = tr.work_error + tr.state_error.unwrap();
            for (p, q) in tr.points.iter().zip(points) {
                let e = p.ergotropy.expect("ergotropy selected");
                let want = |k: &str| q[k].as_f64().unwrap();
                let acc = |k: &str| case["accuracy"][k].as_f64().unwrap();
                let scale = 1.0 + want("capacity").abs();
                let close = |got: f64, k: &str, factor: f64| {
                    let tol = acc(k) + factor * err * scale + 1e-11 * scale;
                    assert!(
                        (got - want(k)).abs() <= tol,
                        "{} {solver} t = {}: {k} = {got} vs oracle {} (tolerance {tol:e})",
                        case["name"],
                        q["t"],
                        want(k)
                    );
                };
                close(e.ergotropy.expect("E_min known for N <= 8"), "ergotropy", 4.0);
                close(e.ergotropy_hb, "ergotropy_hb", 4.0);
                close(e.local_ergotropy, "local_ergotropy", 8.0);
                close(e.locked_ergotropy, "locked_ergotropy", 12.0);
                close(e.incoherent_ergotropy, "incoherent_ergotropy", 8.0);
                close(e.coherent_ergotropy, "coherent_ergotropy", 12.0);
                close(e.capacity.expect("range known for N <= 8"), "capacity", 0.0);
                close(e.variance_hb, "variance_hb", 8.0 * scale);
                close(e.power_bound.expect("quantum"), "power_bound", 8.0 * scale);
                compared += 1;
            }
        }
    }
    assert!(compared >= 100, "{compared} points compared");
}

#[test]
fn pure_state_identities_and_the_robertson_bound() {
    // all-down is the ground state (B > 0, g >= 0, |alpha| <= 1): ergotropy = W; the
    // locked part of a pure state is |B| Σ(1 − |r_i|); the capacity does not change
    let chain =
        Chain::builder(9).alpha(0.4).g(1.1).omega(2.5).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap();
    let times: Vec<f64> = (0..25).map(|k| 0.03 * k as f64).collect();
    let tr = run(&chain, Solver::Auto, &times);
    let c0 = tr.points[0].ergotropy.unwrap().capacity.unwrap();
    let mut locked_seen = 0.0f64;
    for p in &tr.points {
        let e = p.ergotropy.unwrap();
        assert!((e.ergotropy.unwrap() - p.work).abs() < 1e-10 * (1.0 + p.work), "t = {}: ergotropy = W", p.t);
        let bloch = p.bloch.as_ref().unwrap();
        let locked: f64 = bloch.iter().map(|r| 1.0 - (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt()).sum::<f64>();
        assert!((e.locked_ergotropy - chain.b() * locked).abs() < 1e-9, "t = {}: locked = B Σ(1 − |r_i|)", p.t);
        assert!(e.locked_ergotropy >= -1e-12 && e.incoherent_ergotropy >= -1e-12 && e.coherent_ergotropy >= -1e-12);
        assert!(e.local_ergotropy <= e.ergotropy_hb + 1e-12);
        assert_eq!(e.capacity.unwrap(), c0, "the capacity of a pure state is the spectral range");
        locked_seen = locked_seen.max(e.locked_ergotropy);
    }
    assert!(locked_seen > 1e-3, "correlations lock some ergotropy in the interacting chain ({locked_seen})");
    // the Robertson bound |dW/dt| <= 2 ΔH ΔH0 along the curve (rates from the work propagator)
    let mut prop = spinbat::propagate::plan(&chain, Solver::Auto, TOL).unwrap();
    let rates = prop.sample(&times).unwrap();
    for (p, s) in tr.points.iter().zip(&rates) {
        let bound = p.ergotropy.unwrap().power_bound.unwrap();
        assert!(s.rate.abs() <= bound * (1.0 + 1e-9) + 1e-9, "t = {}: |W'| = {} above 2ΔHΔH0 = {bound}", p.t, s.rate);
    }
    // independent spins (g = 0) saturate it and lock nothing
    let free = Chain::builder(6).g(0.0).omega(3.0).build().unwrap();
    let tr = run(&free, Solver::Auto, &times);
    let mut prop = spinbat::propagate::plan(&free, Solver::Auto, TOL).unwrap();
    for (p, s) in tr.points.iter().zip(prop.sample(&times).unwrap()) {
        let e = p.ergotropy.unwrap();
        assert!((s.rate.abs() - e.power_bound.unwrap()).abs() < 1e-9 * (1.0 + s.rate.abs()), "t = {}: saturated", p.t);
        assert!(e.locked_ergotropy.abs() < 1e-10, "t = {}: a product state locks nothing", p.t);
    }
}

#[test]
fn the_mean_field_product_state_locks_nothing_and_the_sector_agrees_with_the_full_space() {
    let chain = Chain::builder(14).alpha(0.3).couplings(Couplings::NearestNeighbour).build().unwrap();
    let times: Vec<f64> = (0..6).map(|k| 0.05 * k as f64).collect();
    let mf = run(&chain, Solver::MeanField, &times);
    for p in &mf.points {
        let e = p.ergotropy.unwrap();
        assert!(e.locked_ergotropy.abs() < 1e-9, "mean field, t = {}: locked {}", p.t, e.locked_ergotropy);
        assert!(e.power_bound.is_none(), "no Robertson bound for the classical model");
    }
    // N = 14, mirror symmetric: the planner propagates in the reflection sector; against the
    // full-space Chebyshev states measured directly
    let sector = run(&chain, Solver::Chebyshev, &times);
    let mut full = spinbat::propagate::Chebyshev::new(&chain, TOL).unwrap();
    let ctx = spinbat::observe::ergotropy::ErgotropyContext::new(&chain).unwrap();
    let mut k = 0;
    use spinbat::propagate::StatePropagator;
    full.for_each_state(&times, &mut |s, state| {
        let (psi, ops) = state.pure().expect("a pure state");
        let want = ctx.measure_pure(ops, psi, s.work)?;
        let got = sector.points[k].ergotropy.unwrap();
        for (a, b, name) in [
            (got.ergotropy_hb, want.ergotropy_hb, "ergotropy_hb"),
            (got.locked_ergotropy, want.locked_ergotropy, "locked"),
            (got.incoherent_ergotropy, want.incoherent_ergotropy, "incoherent"),
            (got.variance_hb, want.variance_hb, "variance_hb"),
            (got.power_bound.unwrap(), want.power_bound.unwrap(), "power_bound"),
        ] {
            assert!((a - b).abs() < 1e-8 * (1.0 + b.abs()), "t = {}: {name} sector {a} vs full {b}", s.t);
        }
        k += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(k, times.len());
}

#[test]
fn block_ergotropy_runs_from_local_to_global() {
    use spinbat::observe::ergotropy::block_ergotropy;
    use spinbat::propagate::StatePropagator;
    // K = 1 is the local ergotropy, K = N the global one for H_B; in between it lies between
    // them (blocks see the correlations inside them) on this interacting chain
    let chain = Chain::builder(8).alpha(0.5).g(1.3).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap();
    let times = [0.1, 0.25, 0.4];
    let set: ObservableSet = "ergotropy".parse::<ObservableSet>().unwrap().with_block(3);
    let tr = trajectory(&chain, Solver::Dense, &times, &set, TOL, &Silent).unwrap();
    let mut dense = spinbat::propagate::Dense::new(&chain).unwrap();
    let mut k = 0;
    dense
        .for_each_state(&times, &mut |_, state| {
            let (psi, _) = state.pure().expect("a pure state");
            let e = tr.points[k].ergotropy.unwrap();
            let one = block_ergotropy(psi, 8, 1, chain.b())?;
            let all = block_ergotropy(psi, 8, 8, chain.b())?;
            assert!((one - e.local_ergotropy).abs() < 1e-10, "K = 1 is local: {one} vs {}", e.local_ergotropy);
            assert!((all - e.ergotropy_hb).abs() < 1e-10, "K = N is global: {all} vs {}", e.ergotropy_hb);
            let three = e.block_ergotropy.expect("block asked");
            assert!((three - block_ergotropy(psi, 8, 3, chain.b())?).abs() < 1e-12);
            assert!(one - 1e-10 <= three && three <= all + 1e-10, "local {one} <= K = 3 {three} <= global {all}");
            k += 1;
            Ok(())
        })
        .unwrap();
    // the mean field's product state: every block is pure, its block ergotropy the local one
    let mf = trajectory(&chain, Solver::MeanField, &times, &set, TOL, &Silent).unwrap();
    for p in &mf.points {
        let e = p.ergotropy.unwrap();
        assert_eq!(e.block_ergotropy, Some(e.local_ergotropy));
    }
    assert!("ergotropy".parse::<ObservableSet>().unwrap().with_block(9).check_block(8).is_err());
    assert!("bloch".parse::<ObservableSet>().unwrap().with_block(2).check_block(8).is_err());
}

/// `|ψ⟩⟨ψ|` as a column-major density matrix.
fn projector(psi: &[num_complex::Complex64]) -> Vec<num_complex::Complex64> {
    let d = psi.len();
    (0..d * d).map(|k| psi[k % d] * psi[k / d].conj()).collect()
}

#[test]
fn density_matrix_ergotropy_of_one_qubit_has_its_closed_forms() {
    use num_complex::Complex64 as C;
    use spinbat::observe::ergotropy::{ErgotropyContext, H0Spectrum};
    // ρ = (1 + r·σ)/2 in the basis (down = 0, up = 1), Z|up> = +|up>, energies ∓B
    let b = 0.7;
    let chain = Chain::builder(1).b(b).omega(1.3).build().unwrap();
    let ctx = ErgotropyContext::new(&chain).unwrap();
    let spectrum = H0Spectrum::new(&chain).unwrap();
    for r in [[0.3, -0.2, 0.5], [0.1, 0.4, -0.6], [0.0, 0.0, 0.9], [0.5, 0.5, 0.0], [0.2, 0.1, -0.1]] {
        let (x, y, z) = (r[0], r[1], r[2]);
        // ρ_ud = ⟨u|ρ|d⟩ = (x + i y)/2 ... with ⟨X⟩ = 2 Re ρ_du, ⟨Y⟩ = 2 Im ρ_du
        let rho = vec![
            C::new((1.0 - z) / 2.0, 0.0),
            C::new(x / 2.0, -y / 2.0),
            C::new(x / 2.0, y / 2.0),
            C::new((1.0 + z) / 2.0, 0.0),
        ];
        let work = b * z + b; // Tr ρ H0 − E_0, E_0 = −B
        let e = ctx.measure_density(&rho, &spectrum, work).unwrap();
        let len = (x * x + y * y + z * z).sqrt();
        let close =
            |got: f64, want: f64, key: &str| assert!((got - want).abs() < 1e-14, "r = {r:?}: {key} {got} vs {want}");
        close(e.ergotropy_hb, b * (z + len), "ergotropy_hb");
        close(e.ergotropy.unwrap(), b * (z + len), "ergotropy (H0 = H_B)");
        close(e.incoherent_ergotropy, 2.0 * b * z.max(0.0), "incoherent");
        close(e.coherent_ergotropy, b * (len - z.abs()), "coherent");
        close(e.local_ergotropy, b * (z + len), "local");
        close(e.locked_ergotropy, 0.0, "locked");
        close(e.capacity.unwrap(), 2.0 * b * len, "capacity");
        close(e.variance_hb, b * b * (1.0 - z * z), "Var(H_B)");
        assert!(e.power_bound.is_none());
    }
}

#[test]
fn density_matrix_ergotropy_of_a_pure_state_equals_the_pure_state_measurement() {
    use spinbat::observe::ergotropy::{ErgotropyContext, H0Spectrum};
    use spinbat::operator::Operators;
    use spinbat::propagate::{Dense, StatePropagator};
    // a charged state of an XXZ chain with flip-flops (α ≠ 0: H0 is not diagonal), and of
    // an Ising one (α = 0)
    for alpha in [0.6, 0.0] {
        let chain = Chain::builder(6).alpha(alpha).g(0.9).couplings(Couplings::PowerLaw { p: 1.1 }).build().unwrap();
        let ctx = ErgotropyContext::new(&chain).unwrap().with_block(Some(2));
        let spectrum = H0Spectrum::new(&chain).unwrap();
        let mut dense = Dense::new(&chain).unwrap();
        dense
            .for_each_state(&[0.13, 0.41], &mut |s, state| {
                let (psi, ops): (_, &Operators) = state.pure().expect("a pure state");
                let pure = ctx.measure_pure(ops, psi, s.work)?;
                let mixed = ctx.measure_density(&projector(psi), &spectrum, s.work)?;
                let close = |a: f64, b: f64, key: &str| assert!((a - b).abs() < 1e-10, "α = {alpha}: {key} {a} vs {b}");
                close(mixed.ergotropy.unwrap(), pure.ergotropy.unwrap(), "ergotropy");
                close(mixed.capacity.unwrap(), pure.capacity.unwrap(), "capacity");
                close(mixed.ergotropy_hb, pure.ergotropy_hb, "ergotropy_hb");
                close(mixed.local_ergotropy, pure.local_ergotropy, "local");
                close(mixed.incoherent_ergotropy, pure.incoherent_ergotropy, "incoherent");
                close(mixed.variance_hb, pure.variance_hb, "variance_hb");
                close(mixed.block_ergotropy.unwrap(), pure.block_ergotropy.unwrap(), "block");
                assert!(pure.locked_ergotropy > 1e-3, "the charged state is correlated");
                Ok(())
            })
            .unwrap();
    }
}

#[test]
fn the_maximally_mixed_state_holds_nothing_extractable_and_mixing_lowers_the_ergotropy() {
    use num_complex::Complex64 as C;
    use spinbat::observe::ergotropy::{ErgotropyContext, H0Spectrum};
    let chain = Chain::builder(4).alpha(0.5).g(1.1).build().unwrap();
    let ctx = ErgotropyContext::new(&chain).unwrap().with_block(Some(2));
    let spectrum = H0Spectrum::new(&chain).unwrap();
    let d = 16;
    let identity: Vec<C> =
        (0..d * d).map(|k| if k % d == k / d { C::new(1.0 / d as f64, 0.0) } else { C::new(0.0, 0.0) }).collect();
    // Tr(H0)/d − E_0 for the maximally mixed state
    let ops = spinbat::operator::Operators::new(&chain).unwrap();
    let mean_h0: f64 = (0..d).map(|s| ops.field_energy(s) + ops.diag_g()[s]).sum::<f64>() / d as f64;
    let e = ctx.measure_density(&identity, &spectrum, mean_h0 - ops.all_down_energy()).unwrap();
    for (key, v) in [
        ("ergotropy", e.ergotropy.unwrap()),
        ("ergotropy_hb", e.ergotropy_hb),
        ("local", e.local_ergotropy),
        ("capacity", e.capacity.unwrap()),
        ("block", e.block_ergotropy.unwrap()),
        ("coherent", e.coherent_ergotropy),
    ] {
        assert!(v.abs() < 1e-12, "{key} = {v}");
    }
    // (1 − p)|ψ⟩⟨ψ| + p 1/d: every extractable quantity falls as p grows (ergotropy is convex
    // along this line and vanishes at p = 1), and each part stays non-negative
    let psi: Vec<C> = (0..d).map(|s| C::new(((s * 7 + 3) % 11) as f64 - 5.0, ((s * 5 + 1) % 7) as f64 - 3.0)).collect();
    let norm = psi.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
    let psi: Vec<C> = psi.iter().map(|a| a / norm).collect();
    let pure = projector(&psi);
    let mut last = f64::INFINITY;
    for p in [0.0, 0.2, 0.5, 0.8, 1.0] {
        let rho: Vec<C> = pure.iter().zip(&identity).map(|(a, b)| a * (1.0 - p) + b * p).collect();
        let tr_h0: f64 = (0..d).map(|s| rho[s + d * s].re * (ops.field_energy(s) + ops.diag_g()[s])).sum::<f64>()
            + (0..d)
                .flat_map(|s| {
                    let mut v = Vec::new();
                    ops.column_h0(s, |r, x| {
                        if r != s {
                            v.push(rho[s + d * r].re * x)
                        }
                    });
                    v
                })
                .sum::<f64>();
        let e = ctx.measure_density(&rho, &spectrum, tr_h0 - ops.all_down_energy()).unwrap();
        let erg = e.ergotropy.unwrap();
        assert!(erg <= last + 1e-12 && erg >= -1e-12, "p = {p}: ergotropy {erg} after {last}");
        assert!(
            e.incoherent_ergotropy >= -1e-12 && e.coherent_ergotropy >= -1e-12 && e.capacity.unwrap() >= erg - 1e-12
        );
        last = erg;
    }
    assert!(last.abs() < 1e-12);
}

#[test]
fn the_mandelstam_tamm_time_never_exceeds_t_and_is_reached_by_one_spin() {
    let times: Vec<f64> = (0..40).map(|k| 0.02 * k as f64).collect();
    // interacting chains: no state is reached sooner than arccos|<psi0|psi_t>| / ΔH, on the
    // sector's blocks (alpha = 0), the dense states (alpha != 0) and the full-space Chebyshev
    for (chain, solver) in [
        (Chain::builder(13).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap(), Solver::Chebyshev),
        (Chain::builder(8).alpha(0.6).g(1.4).omega(2.0).build().unwrap(), Solver::Dense),
        (Chain::builder(7).alpha(-0.3).g(0.7).omega(3.0).boundary(Boundary::Periodic).build().unwrap(), Solver::Auto),
    ] {
        let tr = run(&chain, solver, &times);
        let dh = chain.omega().abs() * (chain.n_sites() as f64).sqrt();
        // the return amplitude read off the full-space state itself, not the populations
        let mut full = spinbat::propagate::Chebyshev::new(&chain, TOL).unwrap();
        let mut k = 0;
        use spinbat::propagate::StatePropagator;
        full.for_each_state(&times, &mut |s, state| {
            let (psi, _) = state.pure().expect("a pure state");
            let norm: f64 = psi.iter().map(|v| v.norm_sqr()).sum();
            let want = (psi[0].norm() / norm.sqrt()).min(1.0).acos() / dh;
            let got = tr.points[k].ergotropy.unwrap().qsl_time.expect("a pure state of the closed charge");
            assert!((got - want).abs() < 1e-7 * (1.0 + want), "N = {}, t = {}: {got} vs {want}", chain.n_sites(), s.t);
            assert!(got <= s.t * (1.0 + 1e-9) + 1e-9, "t = {}: T_QSL = {got} exceeds t", s.t);
            k += 1;
            Ok(())
        })
        .unwrap();
        assert!(tr.points.iter().any(|p| p.ergotropy.unwrap().qsl_time.unwrap() < 0.9 * p.t), "the bound is not tight");
    }
    // independent spins: |<psi0|psi_t>| = |cos ωt|^N; one spin saturates it until ωt = π/2
    for n in [1usize, 5] {
        let free = Chain::builder(n).g(0.0).omega(3.0).build().unwrap();
        let tr = run(&free, Solver::Auto, &times);
        for p in &tr.points {
            let got = p.ergotropy.unwrap().qsl_time.unwrap();
            let want = (3.0 * p.t).cos().abs().powi(n as i32).acos() / (3.0 * (n as f64).sqrt());
            assert!((got - want).abs() < 1e-7, "N = {n}, t = {}: {got} vs {want}", p.t);
            if n == 1 && 3.0 * p.t <= std::f64::consts::FRAC_PI_2 {
                assert!((got - p.t).abs() < 1e-7, "one spin saturates it at t = {}", p.t);
            }
        }
    }
    // no speed limit for the classical model's product state
    let chain = Chain::builder(6).build().unwrap();
    assert!(run(&chain, Solver::MeanField, &times).points.iter().all(|p| p.ergotropy.unwrap().qsl_time.is_none()));
}
