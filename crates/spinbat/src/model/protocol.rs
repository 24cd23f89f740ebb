//! The charging protocol: how the transverse field `ω(t)` of `V(t) = ω(t) Σ_i X_i` varies
//! while charging (physics.md, "Time-dependent charging").
//!
//! * [`Protocol::Constant`]: the paper's constant `ω`;
//! * [`Protocol::Schedule`]: piecewise constant, `ω(t) = ω_k` on `(t_{k−1}, t_k]`,
//!   `t_0 = 0`; the charge ends at the last `t_K` ([`Schedule`]);
//! * [`Protocol::Drive`]: a periodic drive `ω(t) = ω + A cos(νt)` ([`Drive`]).
//!
//! A protocol is cut into *pieces* where `ω(t)` jumps (the schedule's segments; one piece
//! otherwise): within a piece `ω` is constant (schedule) or smooth (drive), so the
//! propagators step piece by piece and never across a jump. The per-site weights `w_i` of
//! `V(t) = ω(t) Σ_i w_i X_i` belong to the chain, not to the protocol: the protocol only
//! says how the common factor `ω(t)` varies.

use crate::error::{invalid, Result};
use serde::Serialize;

/// A piecewise-constant field: `ω(t) = ω_k` for `t ∈ (t_{k−1}, t_k]`, `t_0 = 0`,
/// `0 < t_1 < … < t_K`, every `ω_k` finite and `≥ 0` as read from a file
/// ([`Schedule::parse`]); [`Schedule::new`] takes any finite `ω_k` (the optimiser's bounds
/// are symmetric, `|ω_k| ≤ W`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    /// Segment ends `t_1 < … < t_K` (units `1/B`).
    ends: Vec<f64>,
    /// `ω_k` on segment `k` (units `B`).
    omegas: Vec<f64>,
}

impl Schedule {
    /// The schedule with segment ends `ends` (strictly increasing, finite, `> 0`) and fields
    /// `omegas` (finite, any sign), one per segment.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] (`omega_schedule`) for an empty schedule,
    /// lengths that differ, unsorted, repeated, non-positive or non-finite times, and
    /// non-finite fields.
    pub fn new(ends: Vec<f64>, omegas: Vec<f64>) -> Result<Schedule> {
        if ends.is_empty() {
            return Err(invalid("omega_schedule", "[]", "needs at least one segment"));
        }
        if ends.len() != omegas.len() {
            return Err(invalid(
                "omega_schedule",
                format!("{} ends, {} fields", ends.len(), omegas.len()),
                "needs one field per segment end",
            ));
        }
        let mut before = 0.0;
        for (k, (&t, &w)) in ends.iter().zip(&omegas).enumerate() {
            if !t.is_finite() || t <= before {
                return Err(invalid(
                    "omega_schedule",
                    format!("segment {} ends at {t}", k + 1),
                    format!(
                        "segment ends must be finite and strictly increasing from t = 0 (the previous is {before})"
                    ),
                ));
            }
            if !w.is_finite() {
                return Err(invalid("omega_schedule", format!("segment {} field {w}", k + 1), "must be finite"));
            }
            before = t;
        }
        Ok(Schedule { ends, omegas })
    }

    /// `K` equal segments of `[0, t_end]` with fields `omegas`.
    ///
    /// # Errors
    /// As [`Schedule::new`] (`t_end` must be finite and `> 0`).
    pub fn uniform(t_end: f64, omegas: Vec<f64>) -> Result<Schedule> {
        let k = omegas.len();
        let ends = (1..=k).map(|j| if j == k { t_end } else { t_end * j as f64 / k as f64 }).collect();
        Schedule::new(ends, omegas)
    }

    /// Reads a schedule file: one segment a line, `t_end omega` (whitespace or a comma
    /// between them), `#` starting a comment, blank lines skipped. Times strictly
    /// increasing from `0`, fields finite and `≥ 0`.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] (`omega_schedule`) naming the line: a
    /// line without exactly two numbers, an unsorted or repeated time, a negative or NaN
    /// value, or a file with no segment.
    pub fn parse(text: &str) -> Result<Schedule> {
        let mut ends = Vec::new();
        let mut omegas = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let at = |reason: String| invalid("omega_schedule", format!("line {line_no} `{line}`"), reason);
            let fields: Vec<&str> =
                line.split(|c: char| c.is_whitespace() || c == ',').filter(|s| !s.is_empty()).collect();
            if fields.len() != 2 {
                return Err(at(format!("expected two numbers `t_end omega`, found {}", fields.len())));
            }
            let num = |s: &str, what: &str| -> Result<f64> {
                s.parse::<f64>().map_err(|_| at(format!("{what} `{s}` is not a number")))
            };
            let (t, w) = (num(fields[0], "t_end")?, num(fields[1], "omega")?);
            if !t.is_finite() || t < 0.0 {
                return Err(at(format!("t_end = {t} must be a finite number > 0")));
            }
            if !w.is_finite() || w < 0.0 {
                return Err(at(format!("omega = {w} must be a finite number >= 0")));
            }
            let before = ends.last().copied().unwrap_or(0.0);
            if t <= before {
                return Err(at(format!(
                    "t_end = {t} must be later than the previous segment end {before} (times strictly increasing from 0)"
                )));
            }
            ends.push(t);
            omegas.push(w);
        }
        if ends.is_empty() {
            return Err(invalid("omega_schedule", "an empty file", "needs at least one line `t_end omega`"));
        }
        Schedule::new(ends, omegas)
    }

    /// A schedule from `(t_end, ω)` pairs under the rules of a schedule file
    /// ([`Schedule::parse`]): times strictly increasing from `0`, fields finite and `≥ 0`
    /// (what Python's `omega_schedule=[(t_end, omega), ...]` and a study file's inline
    /// `omega_schedule = [[t_end, omega], ...]` give).
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] (`omega_schedule`) naming the segment
    /// (1-based): a negative or NaN field, an unsorted or repeated time, no segment.
    pub fn from_pairs(pairs: &[(f64, f64)]) -> Result<Schedule> {
        if pairs.is_empty() {
            return Err(invalid("omega_schedule", "[]", "needs at least one segment (t_end, omega)"));
        }
        for (k, &(t, w)) in pairs.iter().enumerate() {
            if !w.is_finite() || w < 0.0 {
                return Err(invalid(
                    "omega_schedule",
                    format!("segment {} ({t}, {w})", k + 1),
                    format!("omega = {w} must be a finite number >= 0"),
                ));
            }
        }
        Schedule::new(pairs.iter().map(|p| p.0).collect(), pairs.iter().map(|p| p.1).collect())
    }

    /// Segment ends `t_1 < … < t_K`.
    pub fn ends(&self) -> &[f64] {
        &self.ends
    }

    /// Fields `ω_1, …, ω_K`.
    pub fn omegas(&self) -> &[f64] {
        &self.omegas
    }

    /// Number of segments `K`.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Always `false`: a schedule has at least one segment.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The end of the charge, `t_K`.
    pub fn end(&self) -> f64 {
        self.ends[self.ends.len() - 1]
    }

    /// Start of segment `k`: `t_{k}` in 1-based terms, `0` for the first.
    pub fn start_of(&self, k: usize) -> f64 {
        if k == 0 {
            0.0
        } else {
            self.ends[k - 1]
        }
    }

    /// The segment holding `t`: `k` with `t ∈ (t_{k−1}, t_k]` (0-based; `t = 0` is in the
    /// first, times past the end in the last).
    pub fn segment_of(&self, t: f64) -> usize {
        self.ends.partition_point(|&e| e < t).min(self.ends.len() - 1)
    }

    /// `max_k |ω_k|`.
    pub fn max_abs_omega(&self) -> f64 {
        self.omegas.iter().fold(0.0f64, |a, w| a.max(w.abs()))
    }
}

/// A periodic drive `ω(t) = ω + A cos(νt)` (units: `ω`, `A` of `B`; `ν` of `B/ħ`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Drive {
    /// Static part `ω`.
    pub omega: f64,
    /// Amplitude `A`.
    pub amplitude: f64,
    /// Angular frequency `ν`.
    pub frequency: f64,
}

impl Drive {
    /// Checks that `ω`, `A` and `ν` are finite and `ν ≥ 0`.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] (`drive`, `drive_frequency`).
    pub fn new(omega: f64, amplitude: f64, frequency: f64) -> Result<Drive> {
        if !amplitude.is_finite() {
            return Err(invalid("drive", amplitude, "must be a finite number"));
        }
        if !(frequency.is_finite() && frequency >= 0.0) {
            return Err(invalid("drive_frequency", frequency, "must be a finite number >= 0"));
        }
        if !omega.is_finite() {
            return Err(invalid("omega", omega, "must be a finite number"));
        }
        Ok(Drive { omega, amplitude, frequency })
    }

    /// `ω(t) = ω + A cos(νt)`.
    pub fn omega_at(&self, t: f64) -> f64 {
        self.omega + self.amplitude * (self.frequency * t).cos()
    }

    /// `max_t |ω(t)| ≤ |ω| + |A|` (equal when `ν > 0`).
    pub fn max_abs_omega(&self) -> f64 {
        self.omega.abs() + self.amplitude.abs()
    }

    /// The total variation of `ω` over `[0, t]`, `∫_0^t |ω'(s)| ds`: `cos` falls or rises
    /// by `2` on every half period `π/ν`, so with `u = νt = nπ + r`, `0 ≤ r < π`,
    /// `TV = |A|(2n + 1 − cos r)`. Bounded by `|A|(1 + 2νt/π)` (`1 − cos r − 2r/π ≤ 0.22`
    /// on `[0, π]`), and by `|A|νt`.
    pub fn total_variation(&self, t: f64) -> f64 {
        let u = self.frequency * t.max(0.0);
        let n = (u / std::f64::consts::PI).floor();
        let r = u - n * std::f64::consts::PI;
        self.amplitude.abs() * (2.0 * n + 1.0 - r.cos())
    }
}

/// A front end's protocol options before they are paired ([`ProtocolSpec::build`]): a
/// study's `omega_schedule` or `[drive] amplitude, frequency`, serialised into its settings
/// hash (absent fields skipped, so a study without them hashes as before they existed).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProtocolSpec {
    /// A piecewise-constant field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omega_schedule: Option<Schedule>,
    /// The drive's amplitude `A` (units `B`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drive: Option<f64>,
    /// The drive's angular frequency `ν` (units `B/ħ`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drive_frequency: Option<f64>,
}

impl ProtocolSpec {
    /// Whether no time-dependent field is given (the constant `ω`).
    pub fn is_empty(&self) -> bool {
        self.omega_schedule.is_none() && self.drive.is_none() && self.drive_frequency.is_none()
    }

    /// The protocol about the chain's field `omega` ([`Protocol::from_options`]).
    ///
    /// # Errors
    /// As [`Protocol::from_options`].
    pub fn build(&self, omega: f64) -> Result<Option<Protocol>> {
        Protocol::from_options(omega, self.omega_schedule.clone(), self.drive, self.drive_frequency)
    }
}

/// How `ω(t)` varies while charging (module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// `ω(t) = ω`, the chain's own field.
    Constant(f64),
    /// Piecewise constant ([`Schedule`]).
    Schedule(Schedule),
    /// `ω(t) = ω + A cos(νt)` ([`Drive`]).
    Drive(Drive),
}

impl Protocol {
    /// `ω(t)`; at a schedule's segment end `t_k` the value of segment `k` (the interval
    /// `(t_{k−1}, t_k]` holds its end).
    pub fn omega_at(&self, t: f64) -> f64 {
        match self {
            Protocol::Constant(w) => *w,
            Protocol::Schedule(s) => s.omegas[s.segment_of(t)],
            Protocol::Drive(d) => d.omega_at(t),
        }
    }

    /// `ω` within piece `piece` at `t` (a schedule: `ω_piece` on the whole closed segment,
    /// its ends included, which is what a step inside the segment needs).
    pub fn omega_in(&self, piece: usize, t: f64) -> f64 {
        match self {
            Protocol::Constant(w) => *w,
            Protocol::Schedule(s) => s.omegas[piece.min(s.len() - 1)],
            Protocol::Drive(d) => d.omega_at(t),
        }
    }

    /// `max_t |ω(t)|` over the charge.
    pub fn max_abs_omega(&self) -> f64 {
        match self {
            Protocol::Constant(w) => w.abs(),
            Protocol::Schedule(s) => s.max_abs_omega(),
            Protocol::Drive(d) => d.max_abs_omega(),
        }
    }

    /// Where the charge ends: the schedule's last `t_K`; `None` (no end) otherwise.
    pub fn end(&self) -> Option<f64> {
        match self {
            Protocol::Schedule(s) => Some(s.end()),
            Protocol::Constant(_) | Protocol::Drive(_) => None,
        }
    }

    /// The times where `ω(t)` may jump, `t_1 < … < t_{K−1}` (a schedule's inner segment
    /// ends; none otherwise).
    pub fn breaks(&self) -> &[f64] {
        match self {
            Protocol::Schedule(s) => &s.ends[..s.ends.len() - 1],
            Protocol::Constant(_) | Protocol::Drive(_) => &[],
        }
    }

    /// The piece holding `t`: `k` with `t ∈ (t_{k−1}, t_k]` of [`Protocol::breaks`]
    /// (`0` for a protocol without breaks).
    pub fn piece_of(&self, t: f64) -> usize {
        self.breaks().partition_point(|&e| e < t)
    }

    /// The protocol of a front end's options: a schedule, or a drive `A` with its frequency
    /// `ν` about the chain's `ω` (`ω(t) = ω + A cos(νt)`), or neither (`None`: the constant
    /// `ω`). The one place that pairs them, for Python's `Chain.charge` and the study files.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`]: a schedule together with a drive
    /// (`omega_schedule`), a drive without its frequency (`drive`) or a frequency without a
    /// drive (`drive_frequency`); [`Drive::new`]'s checks.
    pub fn from_options(
        omega: f64,
        schedule: Option<Schedule>,
        drive: Option<f64>,
        drive_frequency: Option<f64>,
    ) -> Result<Option<Protocol>> {
        match (schedule, drive, drive_frequency) {
            (None, None, None) => Ok(None),
            (Some(_), Some(_), _) | (Some(_), None, Some(_)) => Err(invalid(
                "omega_schedule",
                "given with a drive",
                "a schedule and a drive exclude each other: give one time-dependent field",
            )),
            (Some(s), None, None) => Ok(Some(Protocol::Schedule(s))),
            (None, Some(a), Some(nu)) => Ok(Some(Protocol::Drive(Drive::new(omega, a, nu)?))),
            (None, Some(a), None) => Err(invalid("drive", a, "needs drive_frequency (omega(t) = omega + A cos(nu t))")),
            (None, None, Some(nu)) => Err(invalid("drive_frequency", nu, "needs drive (the amplitude A)")),
        }
    }

    /// Whether `ω(t)` is the same at all times (a constant field, a drive with `A = 0`, a
    /// schedule with one field): then the static propagators apply unchanged,
    /// with [`Protocol::static_omega`].
    pub fn is_static(&self) -> bool {
        match self {
            Protocol::Constant(_) => true,
            Protocol::Schedule(s) => s.omegas.iter().all(|&w| w == s.omegas[0]),
            Protocol::Drive(d) => d.amplitude == 0.0,
        }
    }

    /// The field of a static protocol ([`Protocol::is_static`]); for others `ω(0⁺)`.
    pub fn static_omega(&self) -> f64 {
        match self {
            Protocol::Constant(w) => *w,
            Protocol::Schedule(s) => s.omegas[0],
            Protocol::Drive(d) => d.omega_at(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_follow_the_file_rules_and_options_pair_up() {
        let s = Schedule::from_pairs(&[(0.5, 1.0), (2.0, 0.0)]).unwrap();
        assert_eq!(s, Schedule::parse("0.5 1\n2 0\n").unwrap());
        for bad in [&[][..], &[(1.0, -1.0)], &[(1.0, f64::NAN)], &[(1.0, 1.0), (1.0, 2.0)], &[(0.0, 1.0)]] {
            assert!(matches!(
                Schedule::from_pairs(bad),
                Err(crate::SpinbatError::InvalidParameter { name: "omega_schedule", .. })
            ));
        }
        assert_eq!(Protocol::from_options(4.0, None, None, None).unwrap(), None);
        assert_eq!(
            Protocol::from_options(4.0, None, Some(1.0), Some(2.0)).unwrap(),
            Some(Protocol::Drive(Drive { omega: 4.0, amplitude: 1.0, frequency: 2.0 }))
        );
        assert!(Protocol::from_options(4.0, Some(s.clone()), Some(1.0), Some(2.0)).is_err());
        assert!(Protocol::from_options(4.0, Some(s), None, Some(2.0)).is_err());
        assert!(Protocol::from_options(4.0, None, Some(1.0), None).is_err());
        assert!(Protocol::from_options(4.0, None, None, Some(1.0)).is_err());
        assert!(Protocol::from_options(4.0, None, Some(1.0), Some(-1.0)).is_err());
    }

    #[test]
    fn a_schedule_file_is_read_with_comments_and_blank_lines() {
        let s = Schedule::parse("# t_end omega\n\n0.5 1.0\n1.0, 0  # off\n2 3.5\n").unwrap();
        assert_eq!(s.ends(), [0.5, 1.0, 2.0]);
        assert_eq!(s.omegas(), [1.0, 0.0, 3.5]);
        assert_eq!(s.segment_of(0.0), 0);
        assert_eq!(s.segment_of(0.5), 0, "the interval (t_0, t_1] holds its end");
        assert_eq!(s.segment_of(0.5000001), 1);
        assert_eq!(s.segment_of(9.0), 2);
        let p = Protocol::Schedule(s);
        assert_eq!(p.omega_at(1.0), 0.0);
        assert_eq!(p.omega_at(1.5), 3.5);
        assert_eq!(p.breaks(), [0.5, 1.0]);
        assert_eq!(p.piece_of(1.0), 1);
        assert_eq!(p.max_abs_omega(), 3.5);
        assert_eq!(p.end(), Some(2.0));
    }

    #[test]
    fn bad_schedule_files_are_refused_naming_the_line() {
        for (text, line) in [
            ("1 1\n0.5 1\n", "line 2"),
            ("1 1\n1 2\n", "line 2"),
            ("# c\n1 -1\n", "line 2"),
            ("1 NaN\n", "line 1"),
            ("nan 1\n", "line 1"),
            ("1 2 3\n", "line 1"),
            ("1 x\n", "line 1"),
            ("0 1\n", "line 1"),
        ] {
            let e = Schedule::parse(text).unwrap_err().to_string();
            assert!(e.contains(line), "{text:?}: {e}");
        }
        assert!(Schedule::parse("# nothing\n\n").unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn drives_and_uniform_schedules() {
        let d = Drive::new(2.0, 0.5, 3.0).unwrap();
        assert!((d.omega_at(1.0) - (2.0 + 0.5 * 3.0f64.cos())).abs() < 1e-15);
        assert_eq!(Protocol::Drive(d).max_abs_omega(), 2.5);
        assert!(Protocol::Drive(Drive::new(2.0, 0.0, 3.0).unwrap()).is_static());
        assert!(Drive::new(1.0, 1.0, -1.0).is_err());
        // the total variation against a fine Riemann sum of |ω'| and its linear bound
        for (a, nu, t) in [(0.5, 3.0, 2.0), (-1.5, 7.0, 0.3), (2.0, 0.5, 40.0), (1.0, 2.0, std::f64::consts::PI)] {
            let d = Drive::new(1.0, a, nu).unwrap();
            let m = 200_000;
            let riemann: f64 = (0..m)
                .map(|k| (d.omega_at((k + 1) as f64 * t / m as f64) - d.omega_at(k as f64 * t / m as f64)).abs())
                .sum();
            assert!((d.total_variation(t) - riemann).abs() < 1e-9 * (1.0 + riemann), "{a} {nu} {t}");
            assert!(d.total_variation(t) <= a.abs() * (1.0 + 2.0 * nu * t / std::f64::consts::PI));
        }
        let u = Schedule::uniform(1.0, vec![1.0, -1.0, 2.0]).unwrap();
        assert_eq!(u.ends().len(), 3);
        assert_eq!(u.end(), 1.0);
        assert!((u.ends()[0] - 1.0 / 3.0).abs() < 1e-15);
    }
}
