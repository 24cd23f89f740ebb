//! Scans and figures: the paper's claims (physics.md result 7) hold in spinbat's own data,
//! and a scan gives what independent single runs give.

use spinbat::observe;
use spinbat::propagate::{self, Solver};
use spinbat::study::{self, FigureId, FigureSettings, Law, Parameter, ScanOptions, ScanSolver, Sweep};
use spinbat::{Chain, Couplings, Silent};

fn base(n: usize, alpha: f64, couplings: Couplings) -> Chain {
    Chain::builder(n).g(1.0).omega(4.0).alpha(alpha).couplings(couplings).build().unwrap()
}

const LR: Couplings = Couplings::PowerLaw { p: 1.0 };

#[test]
fn fig2_power_grows_as_alpha_decreases_for_four_spins() {
    let sweep: Sweep = "alpha=0:1:0.125".parse().unwrap();
    for couplings in [LR, Couplings::NearestNeighbour] {
        let rows =
            study::scan(&base(4, 0.0, couplings), &sweep, &[ScanSolver::QUANTUM], &ScanOptions::default(), &Silent)
                .unwrap();
        let p: Vec<f64> = rows.iter().map(|r| r.max_power.power).collect();
        assert!(p.windows(2).all(|w| w[1] < w[0]), "{p:?}");
        // alpha = 1 is four independent spins
        assert!((rows[8].power_ratio - 1.0).abs() < 1e-9);
    }
}

#[test]
fn xxx_quantum_equals_mean_field_and_classical_is_at_least_as_fast_for_ising() {
    let sweep = Sweep::new(Parameter::N, (2..=8).map(f64::from).collect()).unwrap();
    let solvers = [ScanSolver::QUANTUM, ScanSolver::MEAN_FIELD];
    let opts = ScanOptions { max_work: false, ..ScanOptions::default() };
    for (alpha, couplings) in [(1.0, LR), (0.0, LR), (0.0, Couplings::NearestNeighbour)] {
        let rows = study::scan(&base(2, alpha, couplings), &sweep, &solvers, &opts, &Silent).unwrap();
        for pair in rows.chunks(2) {
            let (q, c) = (pair[0].max_power.power, pair[1].max_power.power);
            assert_eq!((pair[0].solver.as_str(), pair[1].solver.as_str()), ("quantum", "mean-field"));
            let rel = (c - q) / q;
            if alpha == 1.0 {
                assert!(rel.abs() < 1e-8, "XXX N = {}: {rel:e}", pair[0].n_sites);
            } else {
                assert!(rel > -1e-8, "Ising N = {}: classical slower by {rel:e}", pair[0].n_sites);
            }
        }
    }
}

#[test]
fn scan_rows_equal_independent_single_runs() {
    let sweep: Sweep = "g=0.5,1,2".parse().unwrap();
    let chain = base(5, 0.3, Couplings::NearestNeighbour);
    let solvers = ScanSolver::parse_list("quantum,mean-field").unwrap();
    let rows = study::scan(&chain, &sweep, &solvers, &ScanOptions::default(), &Silent).unwrap();
    assert_eq!(rows.len(), 6);
    for r in &rows {
        let c = chain.to_builder().g(r.value).build().unwrap();
        let solver = if r.solver == "quantum" { Solver::Auto } else { Solver::MeanField };
        let mut prop = propagate::plan(&c, solver, 1e-10).unwrap();
        let one = observe::charge(prop.as_mut(), &c, &[study::default_window(&c)], &Silent).unwrap();
        assert!((one.max_power.power - r.max_power.power).abs() < 1e-12 * one.max_power.power);
        let mw = r.max_work.unwrap();
        assert!((one.max_work.work - mw.work).abs() < 1e-12 * one.max_work.work);
    }
}

/// Eq. 18 can exceed the energy bound N(2B + ω) when (1 − α)G ≫ BN (p = 0, large N); the
/// maximal-power search must use Eq. 18's own bound and find the paper's formula's maximum.
#[test]
fn weak_coupling_maximum_beyond_the_energy_bound() {
    for n in [4usize, 64, 512] {
        let c = base(n, 0.0, Couplings::PowerLaw { p: 0.0 });
        let mut prop = propagate::plan(&c, Solver::WeakCoupling, 1e-10).unwrap();
        let r = observe::charge(prop.as_mut(), &c, &[], &Silent).unwrap();
        // brute force of P(T) = 4ω [BN/2 + G cos²ωT] sin²(ωT)/(ωT) (paper, after Eq. 19)
        let (bn, g, w) = (n as f64, c.total_coupling(), 4.0);
        let p = |t: f64| 4.0 * w * (bn / 2.0 + g * (w * t).cos().powi(2)) * (w * t).sin().powi(2) / (w * t);
        let best = (1..200_000).map(|k| p(k as f64 * 1e-5)).fold(0.0, f64::max);
        assert!((r.max_power.power - best).abs() < 1e-6 * best, "N = {n}: {} vs {best}", r.max_power.power);
    }
}

/// Sec. III C's laws are derived from Eq. 18: the weak-coupling maximal power per spin
/// tends to a constant (NN, p = 2), grows like ln N (p = 1) and like N (p = 0).
#[test]
fn eq18_power_per_spin_follows_the_papers_laws() {
    let sweep = Sweep::new(Parameter::N, (5..=12).map(|k| f64::from(1u32 << k)).collect()).unwrap();
    let opts = ScanOptions { max_work: false, ..ScanOptions::default() };
    for (couplings, law) in [
        (Couplings::NearestNeighbour, Law::Constant),
        (Couplings::PowerLaw { p: 2.0 }, Law::Constant),
        (LR, Law::Log),
        (Couplings::PowerLaw { p: 0.0 }, Law::Linear),
    ] {
        let rows = study::scan(&base(2, 0.0, couplings.clone()), &sweep, &[ScanSolver::WEAK_COUPLING], &opts, &Silent)
            .unwrap();
        let (n, y): (Vec<f64>, Vec<f64>) =
            rows.iter().map(|r| (r.n_sites as f64, r.max_power.power / r.n_sites as f64)).unzip();
        let fit = study::fit_scaling(&n, &y).unwrap();
        assert_eq!(fit.best, law, "{couplings:?}: {fit:?}");
    }
}

/// Every figure runs with small settings, and the claims the paper makes about Figs. 2, 3,
/// 5 and 6 are borne out by the data.
#[test]
fn figures_reproduce_the_papers_claims_with_small_settings() {
    let settings = FigureSettings::quick();
    for id in FigureId::ALL {
        let fig = study::figure(id, &settings, &Silent).unwrap();
        assert!(!fig.panels.is_empty());
        for p in &fig.panels {
            for c in &p.curves {
                assert_eq!(c.x.len(), c.y.len(), "{id} {}", c.label);
                assert!(c.y.iter().all(|v| v.is_finite()), "{id} {}", c.label);
            }
        }
        if matches!(id, FigureId::Fig2 | FigureId::Fig3 | FigureId::Fig5 | FigureId::Fig6) {
            assert!(fig.verdict.holds, "{id}: {}", fig.verdict.evidence);
        }
    }
}

/// A grid study is the scans it contains: every (point, solver) record equals the row a
/// direct `study::scan` gives for the same chain, and survives a JSON round trip.
#[test]
fn grid_records_equal_scans_of_the_same_chains() {
    use spinbat::study::{Grid, GridStudy, PointRecord};
    use std::ops::ControlFlow;
    use std::sync::Mutex;

    let base = base(3, 0.0, LR);
    let grid = Grid::new(vec!["n=2..4".parse().unwrap(), "alpha=0,0.5".parse().unwrap()]).unwrap();
    let solvers = ScanSolver::parse_list("quantum,mean-field").unwrap();
    let opts = ScanOptions { max_work: true, ..ScanOptions::default() };
    let study = GridStudy::new(base.clone(), grid, solvers.clone(), opts).unwrap();
    let jobs = study.jobs();
    assert_eq!(jobs.len(), 12);
    let records = Mutex::new(Vec::new());
    let ran = study.run(
        &jobs,
        &|job, r| {
            records.lock().unwrap().push((job.index, r.unwrap()));
            ControlFlow::Continue(())
        },
        &Silent,
    );
    assert_eq!(ran, 12);
    let mut records = records.into_inner().unwrap();
    records.sort_by_key(|r| r.0);
    let alpha: Sweep = "alpha=0,0.5".parse().unwrap();
    for n in 2..=4usize {
        let chain = base.to_builder().n_sites(n).build().unwrap();
        let rows = study::scan(&chain, &alpha, &solvers, &opts, &Silent).unwrap();
        for (k, row) in rows.iter().enumerate() {
            let (index, rec) = &records[(n - 2) * 4 + k];
            assert_eq!(*index, jobs[*index].index);
            assert_eq!(rec.key, format!("n={n},alpha={}|{}", row.value, row.solver));
            assert_eq!(rec.study, study.hash());
            assert_eq!(rec.row.n_sites, n);
            assert_eq!(rec.row.method, row.method);
            assert!((rec.row.max_power.power - row.max_power.power).abs() <= 1e-12 * row.max_power.power);
            let (a, b) = (rec.row.max_work.unwrap().work, row.max_work.unwrap().work);
            assert!((a - b).abs() <= 1e-12 * b);
            let back: PointRecord = serde_json::from_str(&serde_json::to_string(rec).unwrap()).unwrap();
            assert_eq!(&back, rec);
        }
    }
}

/// Observables of a grid study are those of the trajectory of the same chain, and follow
/// the physics: an XXX chain charges through identical spin coherent states (V commutes
/// with H_g and every aligned state is an eigenstate of each σ_i·σ_j), so it never
/// entangles, every Bloch vector keeps length 1, connected correlations vanish and
/// Var(H0) = B² Σ_i (1 − ⟨Z_i⟩²) = N B² sin²(2ωt), largest (N B²) at odd multiples of
/// π/(4ω); an Ising chain entangles; the mean field's product state has no entropy.
#[test]
fn grid_observables_are_the_trajectory_of_the_chain_and_xxx_stays_a_product_state() {
    use spinbat::observe::trajectory::{trajectory, ObservableSet};
    use spinbat::study::{Grid, GridStudy, ObserveOptions};
    use spinbat::SpinbatError;

    let n = 4;
    let base = base(n, 0.0, Couplings::NearestNeighbour);
    let grid = || Grid::new(vec!["alpha=0,1".parse().unwrap()]).unwrap();
    let solvers = ScanSolver::parse_list("quantum,mean-field").unwrap();
    let opts = ScanOptions { max_work: false, ..ScanOptions::default() };
    let set: ObservableSet = "all".parse().unwrap();
    let plain = GridStudy::new(base.clone(), grid(), solvers.clone(), opts).unwrap();
    let study = plain.clone().with_observables(ObserveOptions::new(set)).unwrap();
    assert_ne!(study.hash(), plain.hash());
    let window = study::default_window(&base);
    let times = observe::uniform_times(window, 201);
    let b2n = base.b() * base.b() * n as f64;
    for job in study.jobs() {
        let rec = study.run_job(&job).unwrap();
        let o = rec.observables.as_ref().expect("observables recorded");
        assert_eq!((o.points, o.window, o.cut), (201, window, n / 2));
        let s = o.peak_entropy.unwrap().value;
        let alpha = job.point.get(Parameter::Alpha).unwrap();
        let chain = job.point.chain(&base).unwrap();
        if job.solver == ScanSolver::MEAN_FIELD {
            assert_eq!(o.solver, "mean-field");
            assert_eq!(s, 0.0);
            assert_eq!(o.max_zz.unwrap().value, 0.0);
            assert!(o.max_variance.is_none(), "the classical model has no Var(H0)");
            continue;
        }
        assert_eq!(o.solver, "dense");
        // the same computation, directly
        let tr = trajectory(&chain, Solver::Auto, &times, &set, 1e-10, &Silent).unwrap();
        assert_eq!(o.peak_entropy, tr.peak_entropy());
        assert_eq!(o.max_variance, tr.max_variance());
        let bound = o.entropy_bound.unwrap();
        // rounding of the SVD's singular values (correlations.rs): ~1e-14 per Schmidt value
        let rounding = 1e-13;
        if alpha == 1.0 {
            assert!(s <= bound + rounding, "XXX entangles: S = {s:e}");
            assert!((o.min_bloch_length.unwrap().value - 1.0).abs() < 1e-12);
            assert!(o.max_zz.unwrap().value < 1e-12);
            let v = o.max_variance.unwrap();
            assert!((v.value - b2n).abs() < 1e-10 * b2n, "max Var(H0) {} vs N B^2 = {b2n}", v.value);
            let phase = (2.0 * chain.omega() * v.time).sin();
            assert!((phase * phase - 1.0).abs() < 1e-12, "at t = {} not an odd multiple of pi/(4 omega)", v.time);
        } else {
            // far beyond the error bounds (~1e-12); measured: S = 0.878 nats of at most
            // 2 ln 2, |S_i| down to 0.148, |C_ij| up to 0.793
            assert!(s > 0.1 && s > 1e6 * bound, "the Ising chain does not entangle: S = {s}");
            assert!(o.min_bloch_length.unwrap().value < 0.9);
            assert!(o.max_zz.unwrap().value > 0.01);
        }
    }
    // weak coupling has no state; a cut must split every point's chain
    let weak = ScanSolver::parse_list("weak-coupling").unwrap();
    let study = GridStudy::new(base.clone(), grid(), weak, opts).unwrap();
    assert!(matches!(study.with_observables(ObserveOptions::new(set)), Err(SpinbatError::Unsupported { .. })));
    let cut_too_far = ObserveOptions::new(set.with_cut(n));
    let e = plain.with_observables(cut_too_far).unwrap_err();
    assert!(matches!(e, SpinbatError::InvalidParameter { name: "cut", .. }), "{e}");
}
