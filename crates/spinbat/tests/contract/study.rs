//! Scans and figures: the paper's claims (physics.md result 7) hold in spinbat's own data,
//! and a scan gives what independent single runs give.

use spinbat::observe;
use spinbat::propagate::{self, Solver};
use spinbat::study::{self, CurveKind, FigureId, FigureSettings, Law, Parameter, ScanOptions, ScanSolver, Sweep};
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

/// `P_max` of one spin in units of `ωB` (physics.md result 1: `2 max_x sin²x / x`).
const P1: f64 = 1.449_222_707_553;

fn curve<'a>(fig: &'a study::FigureData, panel: usize, label: &str) -> &'a study::Curve {
    let p = &fig.panels[panel];
    p.curves
        .iter()
        .find(|c| c.label == label)
        .unwrap_or_else(|| panic!("{}: panel {panel} has no curve {label:?}", fig.id))
}

fn strictly_decreasing(y: &[f64]) -> bool {
    y.windows(2).all(|w| w[1] < w[0])
}

/// `(quantum, mean-field)` row pairs of a scan over N with both solvers.
fn pairs(rows: &[study::ScanRow]) -> Vec<(&study::ScanRow, &study::ScanRow)> {
    rows.chunks(2)
        .map(|p| {
            assert_eq!((p[0].solver.as_str(), p[1].solver.as_str()), ("quantum", "mean-field"));
            assert_eq!(p[0].n_sites, p[1].n_sites);
            (&p[0], &p[1])
        })
        .collect()
}

/// Every figure runs with small settings (`FigureSettings::quick`), its data are finite,
/// and each verdict is recomputed here from the figure's own data with the claim's
/// criterion written out, so that `verdict.holds` is asserted, not merely reported. Where
/// the physics fixes the outcome (all figures but the full-dynamics half of `scaling`,
/// which depends on how far the exact runs reach), the verdict must hold; independent
/// closed forms (one-spin `P_max`, Eq. 14, Eq. 18) check the data behind it.
#[test]
fn figure_verdicts_follow_from_their_data() {
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
        let v = &fig.verdict;
        let expected = match id {
            FigureId::Fig2 => {
                // claim: P_max grows as alpha decreases 1 -> 0 (LR p = 1 and NN, N = 4,
                // g = B, omega = 4B). Criterion: P_max/P_ind strictly decreasing in alpha.
                let mut ok = true;
                for label in ["LR (p = 1)", "NN"] {
                    let c = curve(&fig, 0, label);
                    assert!(c.x.windows(2).all(|w| w[0] < w[1]) && c.x[0] == 0.0 && *c.x.last().unwrap() == 1.0);
                    ok &= strictly_decreasing(&c.y);
                }
                // alpha = 1 (XXX) is 4 independent spins: P_ind = 4 P1 omega B
                for r in fig.rows.iter().filter(|r| r.value == 1.0) {
                    let want = 4.0 * P1 * 4.0;
                    assert!(
                        (r.max_power.power - want).abs() < 1e-8 * want,
                        "fig2 XXX: {} vs {want}",
                        r.max_power.power
                    );
                }
                ok
            }
            FigureId::Fig3 => {
                // claim: the exact work, averaged over one fast period pi/g, follows the slow
                // part of Eq. 14, 2 omega^2/g + 4B sin^2(omega^2 t/g) (N = 2, g = 20B,
                // omega = 3B, B = 1), to within the order omega/g of the slow amplitude 4B.
                let (g, omega) = (20.0, 3.0);
                let exact = curve(&fig, 0, "exact");
                let t = &exact.x;
                let slow: Vec<f64> =
                    t.iter().map(|&t| 2.0 * omega * omega / g + 4.0 * (omega * omega * t / g).sin().powi(2)).collect();
                let dt = t[1] - t[0];
                let half = ((std::f64::consts::PI / g) / dt / 2.0).round() as usize;
                let dev = (half..t.len() - half)
                    .map(|k| (exact.y[k - half..=k + half].iter().sum::<f64>() / (2 * half + 1) as f64 - slow[k]).abs())
                    .fold(0.0, f64::max);
                dev < omega / g * 4.0
            }
            FigureId::Fig4 => {
                // claim: the maximal work (first slow peak) is about 2BN and is reached at times
                // ~ g^(N-1)/omega^N, so its power falls like B omega (omega/g)^N; the maximal
                // power (fast oscillation) deposits little work. Criteria (g = 100B, omega = 4B,
                // Ising NN and LR): W_max/T_w strictly falling with N, each step by a factor
                // below 10 omega/g = 0.4; W_max within 10% of 2BN; W(T*) < W_max / 2.
                let mut ok = true;
                for label in ["NN", "LR (p = 1)"] {
                    let pw = curve(&fig, 2, label);
                    ok &= strictly_decreasing(&pw.y) && pw.y.windows(2).all(|w| w[1] / w[0] < 10.0 * 4.0 / 100.0);
                    let wmax = curve(&fig, 0, label);
                    let wstar = curve(&fig, 3, label);
                    for (k, &n) in wmax.x.iter().enumerate() {
                        ok &= (wmax.y[k] / (2.0 * n) - 1.0).abs() < 0.1;
                        ok &= wstar.y[k] < 0.5 * wmax.y[k];
                    }
                }
                assert!(ok, "fig4 data: {}", v.evidence);
                // the verdict's own criterion is the falling power at maximal work
                ["NN", "LR (p = 1)"].iter().all(|l| strictly_decreasing(&curve(&fig, 2, l).y))
            }
            FigureId::Fig5 => {
                // claim: Eq. 18 is good at short times (G t < 1), enough for P_max and W_max:
                // criterion, both within 5% (N = 7, omega = 10B, g = B, alpha = 0, p = 1).
                // The Eq. 18 curve itself against the closed form 2BN sin^2(omega t) + G sin^2(2 omega t).
                let n = 7usize;
                let g_total: f64 = (1..n).map(|d| (n - d) as f64 / d as f64).sum();
                let eq18 = curve(&fig, 0, "Eq. 18");
                for (&t, &w) in eq18.x.iter().zip(&eq18.y) {
                    let want = 2.0 * n as f64 * (10.0 * t).sin().powi(2) + g_total * (20.0 * t).sin().powi(2);
                    assert!((w - want).abs() < 1e-12 * (1.0 + want), "fig5 Eq. 18 at t = {t}: {w} vs {want}");
                }
                let max = |c: &study::Curve| c.y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let (pe, pa) = (max(curve(&fig, 1, "exact")), max(curve(&fig, 1, "Eq. 18")));
                let (we, wa) = (max(curve(&fig, 0, "exact")), max(eq18));
                // sampled maxima (101 points) stand in for the refined ones of the verdict
                ((pa - pe) / pe).abs() < 0.05 && ((wa - we) / we).abs() < 0.05
            }
            FigureId::Fig6 => {
                // claim: XXX quantum = classical; LR and NN Ising: classical at least as fast.
                // Criterion: |P_C - P_Q|/P_Q < 1e-8 (XXX), (P_C - P_Q)/P_Q > -1e-8 (Ising),
                // the margin being the mean field's error estimate.
                let n_max = settings.n_max_exact;
                assert_eq!(fig.rows.len(), 3 * 2 * n_max);
                let mut ok = true;
                for (family, rows) in fig.rows.chunks(2 * n_max).enumerate() {
                    for (q, c) in pairs(rows) {
                        let rel = (c.max_power.power - q.max_power.power) / q.max_power.power;
                        if family == 0 {
                            ok &= rel.abs() < 1e-8;
                            // XXX: N independent spins, P = N P1 omega B
                            let want = q.n_sites as f64 * P1 * 4.0;
                            assert!((q.max_power.power - want).abs() < 1e-8 * want, "fig6 XXX N = {}", q.n_sites);
                        } else {
                            ok &= rel > -1e-8;
                        }
                    }
                }
                ok
            }
            FigureId::Scaling => {
                // claim: P_max/N tends to a constant (NN, p = 2), grows like ln N (p = 1) and like
                // N (p = 0), derived from Eq. 18. Criterion: the best law of a fit to the upper
                // half of each curve; the verdict holds when Eq. 18, the exact and the mean-field
                // data all follow the claimed law.
                let laws = [Law::Constant, Law::Constant, Law::Log, Law::Linear];
                let families = ["NN", "p = 2", "p = 1", "p = 0"];
                let (mut weak_ok, mut full_ok) = (true, true);
                for (family, (name, law)) in families.iter().zip(laws).enumerate() {
                    let quantum = curve(&fig, 0, &format!("{name} quantum"));
                    let classical = fig.panels[0]
                        .curves
                        .iter()
                        .find(|c| c.kind == CurveKind::MeanField && c.family == family)
                        .expect("mean-field curve");
                    let weak = curve(&fig, 1, &format!("{name} Eq. 18"));
                    let follows = |c: &study::Curve| {
                        let from = c.x.len() / 2;
                        study::fit_scaling(&c.x[from..], &c.y[from..]).expect("fit").best == law
                    };
                    weak_ok &= follows(weak);
                    full_ok &= follows(quantum) && follows(classical);
                }
                // Eq. 18 directly, per doubling of N: P_max/N changes by less and less, and by
                // < 5% at the end (NN, p = 2: a constant), by a nearly constant step (p = 1:
                // ln N), and nearly doubles (p = 0: N)
                let y = |name: &str| curve(&fig, 1, &format!("{name} Eq. 18")).y.clone();
                for name in ["NN", "p = 2"] {
                    let y = y(name);
                    let rel: Vec<f64> = y.windows(2).map(|w| (w[1] - w[0]).abs() / w[0]).collect();
                    let shrinking = rel[rel.len() / 2..].windows(2).all(|r| r[1] < 0.8 * r[0]);
                    assert!(shrinking && rel[rel.len() - 1] < 0.05, "scaling {name}: Eq. 18 P/N {y:?}");
                }
                let y1 = y("p = 1");
                let steps: Vec<f64> = y1.windows(2).map(|w| w[1] - w[0]).collect();
                let (s1, s2) = (steps[steps.len() - 2], steps[steps.len() - 1]);
                assert!(s1 > 0.0 && (s2 / s1 - 1.0).abs() < 0.1, "scaling p = 1: Eq. 18 steps {steps:?}");
                let y0 = y("p = 0");
                let r = y0[y0.len() - 1] / y0[y0.len() - 2];
                assert!((r - 2.0).abs() < 0.1, "scaling p = 0: Eq. 18 P/N ratio per doubling {r}");
                assert!(weak_ok, "scaling: Eq. 18 must follow the claimed laws: {}", v.evidence);
                weak_ok && full_ok
            }
            FigureId::Correlations => {
                // claim: the classical chain charges at least as fast as the quantum one.
                // Criterion: (P_C - P_Q)/P_Q >= -1e-8 at every (family, N).
                pairs(&fig.rows)
                    .iter()
                    .all(|(q, c)| (c.max_power.power - q.max_power.power) / q.max_power.power >= -1e-8)
            }
            FigureId::Locked => {
                // claim: correlations lock less than LOCKED_SHARE_LIMIT of the field ergotropy
                // at T*, and the mean-field (product) state none. Criterion from panel (a)
                // (shares) and (b) (absolute values): every quantum share below the limit and
                // non-negative, every mean-field value zero to rounding
                let mut ok = true;
                for c in &fig.panels[0].curves {
                    assert!(c.y.iter().all(|&v| v >= -1e-10), "{}: negative locked share {:?}", c.label, c.y);
                    if c.kind == CurveKind::Exact {
                        ok &= c.y.iter().all(|&v| v < study::LOCKED_SHARE_LIMIT);
                    }
                }
                for c in fig.panels[1].curves.iter().filter(|c| c.kind == CurveKind::MeanField) {
                    ok &= c.y.iter().all(|&v| v.abs() <= 1e-9);
                }
                // two spins already entangle: the quantum chain locks a positive amount
                let q = fig.panels[1].curves.iter().find(|c| c.kind == CurveKind::Exact).expect("quantum curve");
                assert!(q.y.iter().all(|&v| v > 0.0), "locked ergotropy of the exact state {:?}", q.y);
                ok
            }
            FigureId::Floquet => {
                // claim (Puri et al.): the drive A = omega/2 beats the static charge at its peak
                // field omega + A at some nu, and for p = 1 that ratio grows with N. Criterion
                // recomputed from the rows: per coupling and N, the best drive row over the
                // "static peak" row; the curves are the rows; the static rows are the static
                // charge and one drive row is recomputed by another method (dense; the
                // figure's drive runs Chebyshev).
                let mut beats = false;
                let mut grows = true;
                for tag in ["nn", "p=1"] {
                    let drive_rows: Vec<_> = fig.rows.iter().filter(|r| r.solver == format!("{tag} drive")).collect();
                    let mut ns: Vec<usize> = drive_rows.iter().map(|r| r.n_sites).collect();
                    ns.dedup();
                    let mut ratios = Vec::new();
                    for &n in &ns {
                        let best =
                            drive_rows.iter().filter(|r| r.n_sites == n).map(|r| r.max_power.power).fold(0.0, f64::max);
                        let row =
                            |label: String| fig.rows.iter().find(|r| r.solver == label && r.n_sites == n).unwrap();
                        let (stat, peak) = (row(format!("{tag} static")), row(format!("{tag} static peak")));
                        let couplings = if tag == "nn" { Couplings::NearestNeighbour } else { LR };
                        let chain = base(n, 0.0, couplings);
                        let mut prop = propagate::plan(&chain, Solver::Auto, 1e-10).unwrap();
                        let direct = observe::charge(prop.as_mut(), &chain, &[], &Silent).unwrap();
                        assert!((direct.max_power.power - stat.max_power.power).abs() < 1e-7 * stat.max_power.power);
                        assert!(peak.max_power.power > stat.max_power.power, "a stronger static field charges faster");
                        let ratio = best / peak.max_power.power;
                        beats |= ratio > 1.0 + 1e-6;
                        ratios.push(ratio);
                        if n == ns[0] {
                            let nu = drive_rows[1].value;
                            let want = drive_rows.iter().find(|r| r.n_sites == n && r.value == nu).unwrap();
                            let d = spinbat::model::Drive::new(4.0, 2.0, nu).unwrap();
                            let plan = propagate::Plan::new(
                                &chain,
                                Solver::Dense,
                                1e-10,
                                propagate::Precision::Double,
                                propagate::Request::Work,
                            )
                            .unwrap();
                            let mut prop =
                                plan.protocol_propagator(&chain, &spinbat::model::Protocol::Drive(d)).unwrap();
                            let again = observe::charge(prop.as_mut(), &chain, &[], &Silent).unwrap();
                            let tol = 1e-6 * want.max_power.power;
                            assert!(
                                (again.max_power.power - want.max_power.power).abs() < tol,
                                "floquet {tag} N = {n} nu = {nu}: {} (dense) vs {} (figure)",
                                again.max_power.power,
                                want.max_power.power
                            );
                        }
                    }
                    let panel = &fig.panels[if tag == "nn" { 0 } else { 1 }];
                    for c in panel.curves.iter().filter(|c| c.kind == CurveKind::Exact) {
                        for (x, y) in c.x.iter().zip(&c.y) {
                            assert!(drive_rows.iter().any(|r| r.value == *x && r.max_power.power == *y), "{}", c.label);
                        }
                    }
                    if tag == "p=1" {
                        grows = ratios.len() > 1
                            && ratios.windows(2).all(|w| w[1] > w[0])
                            && ratios[ratios.len() - 1] > ratios[0] * (1.0 + study::FLOQUET_GROWTH);
                    }
                }
                beats && grows
            }
        };
        assert_eq!(v.holds, expected, "{id}: verdict disagrees with its criterion: {}", v.evidence);
        // the full-dynamics half of `scaling` may fail at small N (strong coupling once G/N
        // exceeds omega; its Eq. 18 half is asserted above); the Floquet claim is an open
        // question (Puri et al.), reported either way; every other claim must hold
        if id != FigureId::Scaling && id != FigureId::Floquet {
            assert!(v.holds, "{id}: the paper's claim must hold: {}", v.evidence);
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
            assert!(o.max_locked_ergotropy.unwrap().value.abs() <= 1e-12, "a product state locks nothing");
            continue;
        }
        assert_eq!(o.solver, "dense");
        // the same computation, directly
        let tr = trajectory(&chain, Solver::Auto, &times, &set, 1e-10, &Silent).unwrap();
        assert_eq!(o.peak_entropy, tr.peak_entropy());
        assert_eq!(o.max_variance, tr.max_variance());
        assert_eq!(o.max_locked_ergotropy, tr.max_locked_ergotropy());
        assert_eq!(o.max_ergotropy, tr.max_ergotropy());
        // all-down is the proved ground state: the H0 ergotropy of the pure state is W, so
        // its peak is the largest W on the grid; XXX charges through product states (no
        // locked ergotropy), Ising entangles (some)
        let w_max = tr.points.iter().map(|p| p.work).fold(f64::NEG_INFINITY, f64::max);
        assert!((o.max_ergotropy.unwrap().value - w_max).abs() <= 1e-9, "ergotropy peak vs W");
        let locked = o.max_locked_ergotropy.unwrap().value;
        assert!(if alpha == 1.0 { locked <= 1e-8 } else { locked > 1e-3 }, "alpha {alpha}: locked {locked:e}");
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

/// An open-battery grid (`GridStudy::new_open`: a base noise, one rate varied): each record
/// is the certified density-matrix charge of its own chain under its own noise, the closed
/// points (all rates zero) run the closed solver, and the settings hash changes with the
/// fixed noise but not with the varied rate's values; a closed study cannot vary a rate.
#[test]
fn open_grid_records_are_the_density_matrix_charges_of_each_points_noise() {
    use spinbat::open::Noise;
    use spinbat::study::{Grid, GridStudy};
    use std::ops::ControlFlow;
    use std::sync::Mutex;

    let base = base(3, 0.4, Couplings::NearestNeighbour);
    let grid = || Grid::new(vec!["dephasing=0,0.3".parse().unwrap(), "n=2..3".parse().unwrap()]).unwrap();
    let solvers = ScanSolver::parse_list("quantum").unwrap();
    let opts = ScanOptions::default();
    let noise = Noise { decay: 0.2, temperature: Some(0.8), ..Noise::default() };
    let study = GridStudy::new_open(base.clone(), noise, grid(), solvers.clone(), opts).unwrap();
    assert!(study.is_noisy());
    let records = Mutex::new(Vec::new());
    study.run(
        &study.jobs(),
        &|job, r| {
            records.lock().unwrap().push((job.clone(), r.unwrap()));
            ControlFlow::Continue(())
        },
        &Silent,
    );
    let records = records.into_inner().unwrap();
    assert_eq!(records.len(), 4);
    for (job, rec) in &records {
        let gamma = job.point.get(Parameter::Dephasing).unwrap();
        let n = job.point.get(Parameter::N).unwrap() as usize;
        let chain = base.to_builder().n_sites(n).build().unwrap();
        let point_noise = Noise { dephasing: gamma, ..noise };
        let mut prop = propagate::plan_noisy(&chain, Solver::DensityMatrix, opts.tol, &point_noise).unwrap();
        let want = observe::charge(prop.as_mut(), &chain, &[study::default_window(&chain)], &Silent).unwrap();
        assert_eq!(rec.row.method, "density-matrix");
        let rel = (rec.row.max_power.power - want.max_power.power).abs() / want.max_power.power;
        assert!(rel < 1e-12, "{}: P_max {} vs {}", rec.key, rec.row.max_power.power, want.max_power.power);
        assert!(rec.settings.as_ref().unwrap()["noise"]["decay"] == 0.2);
        assert!(rec.settings.as_ref().unwrap()["noise"].get("dephasing").is_none(), "the varied rate is not fixed");
    }
    // the closed battery: a rate varied only in an open study; zero noise is the closed study
    assert!(GridStudy::new(base.clone(), grid(), solvers.clone(), opts).is_err());
    let closed_grid = || Grid::new(vec!["n=2..3".parse().unwrap()]).unwrap();
    let closed = GridStudy::new(base.clone(), closed_grid(), solvers.clone(), opts).unwrap();
    let zero = GridStudy::new_open(base.clone(), Noise::default(), closed_grid(), solvers.clone(), opts).unwrap();
    assert_eq!(closed.hash(), zero.hash());
    let other =
        GridStudy::new_open(base.clone(), Noise { decay: 0.3, ..noise }, grid(), solvers.clone(), opts).unwrap();
    assert_ne!(other.hash(), study.hash());
    // the mean field has no open battery; trajectories are statistical, not certified
    for name in ["mean-field", "trajectories"] {
        let s = ScanSolver::parse_list(name).unwrap();
        assert!(GridStudy::new_open(base.clone(), noise, grid(), s, opts).is_err(), "{name}");
    }
}

/// A Floquet scan (`study::scan_drive`): with `A = 0` every row is the static charge (to
/// `10⁻¹²`, whatever `ν`); a point is the charge of its drive run on its own; and a fast
/// drive approaches the static charge at the mean field within the averaging bound
/// `|ΔP| ≤ 2‖H0 − E_0‖ (|A|/ν)(N/t + ‖[H_g, V1]‖ + |A|N²)` at `t = min(T*_drive, T*_static)`
/// (integration by parts of the interaction-picture difference, `‖[H_g, V1]‖ ≤ 2GN`), the
/// deviation falling with `ν` (measured 0.31 at ν = 200, 0.12 at 800, of `P_max` = 34.86).
#[test]
fn a_floquet_scan_is_static_at_zero_amplitude_and_averages_out_at_high_frequency() {
    use spinbat::model::{Drive, Protocol};
    use spinbat::study::DriveParameter;
    let opts = ScanOptions { max_work: false, ..ScanOptions::default() };
    let solvers = [ScanSolver::QUANTUM, ScanSolver::MEAN_FIELD];
    for couplings in [Couplings::NearestNeighbour, LR] {
        let chain = base(5, 0.3, couplings);
        let statics = study::scan(&chain, &"omega=4".parse().unwrap(), &solvers, &opts, &Silent).unwrap();
        let drive = Drive::new(4.0, 0.0, 1.0).unwrap();
        let rows = study::scan_drive(
            &chain,
            drive,
            DriveParameter::DriveFrequency,
            &[1.0, 7.0, 30.0],
            &solvers,
            &opts,
            &Silent,
        )
        .unwrap();
        assert_eq!(rows.len(), 6);
        for r in &rows {
            let s = statics.iter().find(|s| s.solver == r.solver).unwrap();
            assert!((r.max_power.power - s.max_power.power).abs() < 1e-12, "A = 0 at nu = {}: {r:?}", r.value);
            assert!((r.max_power.time - s.max_power.time).abs() < 1e-12);
        }
        // the amplitude varied through 0: the row at 0 is static, the others differ
        let rows = study::scan_drive(
            &chain,
            Drive::new(4.0, 1.0, 6.0).unwrap(),
            DriveParameter::Drive,
            &[0.0, 1.0],
            &[ScanSolver::QUANTUM],
            &opts,
            &Silent,
        )
        .unwrap();
        assert!((rows[0].max_power.power - statics[0].max_power.power).abs() < 1e-12);
        assert!((rows[1].max_power.power - statics[0].max_power.power).abs() > 1e-3);
        // the row against the same drive charged on its own
        let mut prop = propagate::Plan::new(
            &chain,
            Solver::Chebyshev,
            opts.tol,
            propagate::Precision::Double,
            propagate::Request::Work,
        )
        .unwrap()
        .protocol_propagator(&chain, &Protocol::Drive(Drive::new(4.0, 1.0, 6.0).unwrap()))
        .unwrap();
        let one = observe::charge(prop.as_mut(), &chain, &[], &Silent).unwrap();
        assert!((one.max_power.power - rows[1].max_power.power).abs() < 1e-10);
    }
    // high frequency: N = 4 NN, A = 2
    let chain = base(4, 0.0, Couplings::NearestNeighbour);
    let stat = study::scan(&chain, &"omega=4".parse().unwrap(), &[ScanSolver::QUANTUM], &opts, &Silent).unwrap();
    let (p0, t0) = (stat[0].max_power.power, stat[0].max_power.time);
    let (a, n) = (2.0, 4.0);
    let g_sum = chain.total_coupling();
    let h0_norm = 2.0 * (n * chain.b() + g_sum);
    let nus = [200.0, 800.0];
    let rows = study::scan_drive(
        &chain,
        Drive::new(4.0, a, nus[0]).unwrap(),
        DriveParameter::DriveFrequency,
        &nus,
        &[ScanSolver::QUANTUM],
        &opts,
        &Silent,
    )
    .unwrap();
    let mut devs = Vec::new();
    for r in &rows {
        let t = r.max_power.time.min(t0);
        let bound = 2.0 * h0_norm * (a / r.value) * (n / t + 2.0 * g_sum * n + a * n * n);
        let dev = (r.max_power.power - p0).abs();
        assert!(dev <= bound, "nu = {}: |P_max - P_static| = {dev:.3e} > {bound:.3e}", r.value);
        devs.push(dev);
    }
    assert!(devs[1] < devs[0] / 2.0, "the deviation falls with nu: {devs:?}");
    assert!(devs[1] / p0 < 0.01, "at nu = 800 within 1% of the static charge: {devs:?} of {p0}");
}

/// A driven grid (`GridStudy::new_driven`: the drive's frequency fixed, its amplitude
/// varied): independent spins (`g = 0`) charge as `W(t) = 2BN sin²(ωt + (A/ν) sin νt)`, so
/// each record's maximal work over its window is that closed form's maximum; `A = 0` is the
/// static charge. The settings hash holds the fixed frequency, not the varied amplitude's
/// values, and an empty protocol is the closed study's hash.
#[test]
fn driven_grid_records_follow_the_closed_form_of_independent_spins() {
    use spinbat::model::ProtocolSpec;
    use spinbat::open::Noise;
    use spinbat::study::{Grid, GridStudy};
    use std::ops::ControlFlow;
    use std::sync::Mutex;

    let (n, omega, nu, window) = (3usize, 2.0, 5.0, 1.2);
    let free = Chain::builder(n).g(0.0).omega(omega).build().unwrap();
    let grid = |values: &str| Grid::new(vec![format!("drive={values}").parse().unwrap()]).unwrap();
    let solvers = ScanSolver::parse_list("dense,mean-field").unwrap();
    let opts = ScanOptions { window: Some(window), tol: 1e-9, ..ScanOptions::default() };
    let spec = ProtocolSpec { drive_frequency: Some(nu), ..ProtocolSpec::default() };
    let study =
        GridStudy::new_driven(free.clone(), Noise::default(), spec.clone(), grid("0,1.5"), solvers.clone(), opts)
            .unwrap();
    assert!(study.is_driven());
    let records = Mutex::new(Vec::new());
    study.run(
        &study.jobs(),
        &|job, r| {
            records.lock().unwrap().push((job.clone(), r.unwrap()));
            ControlFlow::Continue(())
        },
        &Silent,
    );
    let records = records.into_inner().unwrap();
    assert_eq!(records.len(), 4);
    for (job, rec) in &records {
        let a = job.point.get(Parameter::Drive).unwrap();
        // the closed form's maximum over the window, on a fine grid refined by its peak
        let w = |t: f64| 2.0 * n as f64 * (omega * t + a / nu * (nu * t).sin()).sin().powi(2);
        let best = (0..=200_000).map(|k| w(window * k as f64 / 200_000.0)).fold(0.0, f64::max);
        let got = rec.row.max_work.unwrap().work;
        assert!((got - best).abs() < 1e-6, "{}: W_max {got} vs closed form {best}", rec.key);
        assert_eq!(rec.settings.as_ref().unwrap()["protocol"], serde_json::json!({"drive_frequency": nu}));
    }
    // A = 0: the static charge, the same P_max as the study without a drive
    let plain =
        GridStudy::new(free.clone(), Grid::new(vec!["g=0".parse().unwrap()]).unwrap(), solvers.clone(), opts).unwrap();
    let want = plain.run_job(&plain.jobs()[0]).unwrap().row.max_power.power;
    let a0 = &records.iter().find(|(j, _)| j.key == "drive=0|dense").unwrap().1;
    assert!((a0.row.max_power.power - want).abs() <= 1e-12 * want);
    // hash: varied values do not change it, the fixed frequency does, no protocol is closed
    let more =
        GridStudy::new_driven(free.clone(), Noise::default(), spec, grid("0,1.5,3"), solvers.clone(), opts).unwrap();
    assert_eq!(more.hash(), study.hash());
    let other = ProtocolSpec { drive_frequency: Some(nu + 1.0), ..ProtocolSpec::default() };
    let other =
        GridStudy::new_driven(free.clone(), Noise::default(), other, grid("0,1.5"), solvers.clone(), opts).unwrap();
    assert_ne!(other.hash(), study.hash());
    let g_grid = || Grid::new(vec!["g=0,1".parse().unwrap()]).unwrap();
    let closed = GridStudy::new(free.clone(), g_grid(), solvers.clone(), opts).unwrap();
    let empty =
        GridStudy::new_driven(free.clone(), Noise::default(), ProtocolSpec::default(), g_grid(), solvers.clone(), opts)
            .unwrap();
    assert_eq!(closed.hash(), empty.hash());
    assert!(!empty.is_driven());
    // a drive without its frequency, a drive with noise, weak coupling: refused before running
    assert!(GridStudy::new_driven(
        free.clone(),
        Noise::default(),
        ProtocolSpec::default(),
        grid("1"),
        solvers.clone(),
        opts
    )
    .is_err());
    let full = ProtocolSpec { drive: Some(1.0), drive_frequency: Some(nu), ..ProtocolSpec::default() };
    let noisy = Noise { dephasing: 0.1, ..Noise::default() };
    assert!(GridStudy::new_driven(
        free.clone(),
        noisy,
        full.clone(),
        g_grid(),
        ScanSolver::parse_list("quantum").unwrap(),
        opts
    )
    .is_err());
    assert!(GridStudy::new_driven(
        free,
        Noise::default(),
        full,
        g_grid(),
        ScanSolver::parse_list("weak-coupling").unwrap(),
        opts
    )
    .is_err());
}

/// The scaling study's matrix-product-state series (`n_max_mps`) overlaps the exact runs
/// from `N = 8`: there the two independent solvers give the same `P_max` within the MPS
/// run's own error estimate (`|ΔP| ≈ |ΔW|/T*`), and panel (c) is `P_max/(N P1)` of the same
/// rows as panel (a)'s `P_max/N`.
#[test]
fn scaling_mps_series_agrees_with_the_exact_runs_where_they_overlap() {
    let settings = FigureSettings { n_max_exact: 8, n_max_mps: 8, ..FigureSettings::quick() };
    let fig = study::figure(FigureId::Scaling, &settings, &Silent).unwrap();
    assert_eq!(fig.panels.len(), 3);
    let mut compared = 0;
    for name in ["NN", "p = 2", "p = 1", "p = 0.5"] {
        let mps = curve(&fig, 0, &format!("{name} MPS"));
        let exact = curve(&fig, 0, &format!("{name} quantum"));
        assert_eq!((mps.kind, mps.x.as_slice()), (CurveKind::MatrixProduct, [8.0].as_slice()), "{name}");
        let (pm, pe) = (mps.y[0] * 8.0, exact.y[exact.x.iter().position(|&x| x == 8.0).unwrap()] * 8.0);
        // the MPS rows of this family (N = 8): its error estimate of W, turned into one of P
        let r = fig
            .rows
            .iter()
            .find(|r| r.solver == "mps" && (r.max_power.power - pm).abs() <= 1e-12 * pm)
            .expect("the MPS row behind the curve");
        let tol = r.error_bound.expect("an MPS estimate") / r.max_power.time;
        assert!(tol < 1e-2 * pe, "{name}: estimate {tol:e} small against P_max {pe}");
        assert!((pm - pe).abs() <= tol, "{name}: MPS {pm} vs exact {pe} (estimate {tol:e})");
        // panel (c): P_max/(N P1) of the same rows, N P1 of 8 independent spins
        let ratio = curve(&fig, 2, &format!("{name} MPS"));
        let p1 = single_spin_power(1.0, 4.0);
        assert!((ratio.y[0] - pm / (8.0 * p1)).abs() <= 1e-9 * ratio.y[0], "{name}: ratio {}", ratio.y[0]);
        compared += 1;
    }
    assert_eq!(compared, 4);
    // p = 0 is exact (Dicke) to every size: no MPS series
    assert!(fig.panels[0].curves.iter().all(|c| c.label != "p = 0 MPS"));
}

/// `P1 = max_T W(T)/T` of one spin charged from down by `ω X` alone (`H_B` is off while
/// charging): `W(T) = 2B sin²(ωT)`, so `P1 = 2Bω max_x sin²x/x` (the maximum at
/// `tan x = 2x`, found here by golden section).
fn single_spin_power(b: f64, omega: f64) -> f64 {
    let f = |x: f64| x.sin().powi(2) / x;
    let (mut lo, mut hi) = (0.5f64, 2.0f64);
    let r = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..200 {
        let (x1, x2) = (hi - r * (hi - lo), lo + r * (hi - lo));
        if f(x1) < f(x2) {
            lo = x1;
        } else {
            hi = x2;
        }
    }
    2.0 * b * omega * f(0.5 * (lo + hi))
}
