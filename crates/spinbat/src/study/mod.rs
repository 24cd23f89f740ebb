//! Studies: many charging runs organised around a question.
//!
//! * [`Sweep`] — one parameter and its values (`n=2..14`, `alpha=-1:1:0.1`, `p=0,1,2`);
//! * [`Grid`] / [`GridStudy`] — several parameters at once (their Cartesian product) ×
//!   solvers, one [`PointRecord`] per (point, solver) with a stable key and a settings hash,
//!   handed over as soon as it exists (resumable, shardable studies: `spinbat run`);
//!   optionally with observables along each job's trajectory ([`ObserveOptions`],
//!   [`ObservableSummary`]: peak entanglement, `Var(H0)`, ...);
//! * [`scan`] — `P_max`, `T*`, `W(T*)`, maximal work and `P_max/(N P⁽¹⁾)` per value and
//!   solver ([`ScanRow`]);
//! * [`scan_drive`] — the same rows along a periodic drive's frequency or amplitude
//!   ([`DriveParameter`]; the Floquet figure `floquet`);
//! * [`fit_scaling`] — which law `P_max/N` follows in `N`: constant, `ln N` or `N`
//!   (paper Sec. III C);
//! * [`figure`] — the paper's Figs. 2–6 and the scaling study as data, each with the
//!   paper's claim and a verdict from the data ([`FigureData`]).

mod figures;
mod fit;
mod floquet;
mod grid;
mod observables;
mod scan;
mod sweep;

pub use figures::{
    figure, Curve, CurveKind, FigureData, FigureId, FigureSettings, PanelData, Verdict, FLOQUET_GROWTH,
    LOCKED_SHARE_LIMIT,
};
pub use fit::{fit_scaling, Fit, Law, ScalingFit};
pub use floquet::{figure_frequencies, scan_drive, DriveParameter, FIGURE_AMPLITUDE_SHARE};
pub use grid::{
    hash_settings, job_key, settings, settings_diff, settings_hash, Grid, GridStudy, Job, Point, PointRecord,
    MAX_GRID_POINTS,
};
pub use observables::{summarise_observables, ObservableSummary, ObserveOptions, DEFAULT_OBSERVE_POINTS};
pub use scan::{default_window, scan, scan_noisy, Cell, ScanOptions, ScanRow, ScanSolver};
pub use sweep::{Parameter, Sweep, MAX_SWEEP_VALUES};
