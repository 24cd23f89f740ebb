//! One varied parameter and its values: `n=2..14`, `alpha=-1:1:0.1`, `p=0,1,2`.

use crate::error::{invalid, Result};
use crate::model::{Chain, ChainBuilder, Couplings};
use crate::open::Noise;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A model parameter a scan can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parameter {
    /// Number of sites `N` (integer values).
    N,
    /// Anisotropy `α`.
    Alpha,
    /// Power-law exponent `p` (power-law couplings only).
    P,
    /// Coupling scale `g`.
    G,
    /// Charging field `ω`.
    Omega,
    /// Storage field `B`.
    B,
    /// Local dephasing rate `γ_φ` of the open battery ([`Noise::dephasing`]).
    Dephasing,
    /// Local decay rate `γ` ([`Noise::decay`]).
    Decay,
    /// Collective decay rate `Γ` ([`Noise::collective_decay`]).
    CollectiveDecay,
    /// Temperature `T` of the local bath ([`Noise::temperature`]; needs a decay rate).
    Temperature,
    /// XYZ anisotropy `γ` of the pair terms `α((1+γ)X_iX_j + (1−γ)Y_iY_j)`
    /// ([`crate::model::ChainBuilder::gamma`]).
    Gamma,
    /// Amplitude `A` of the periodic drive `ω(t) = ω + A cos(νt)` (a study's protocol,
    /// [`crate::model::ProtocolSpec`]; not a parameter of the chain).
    Drive,
    /// Angular frequency `ν` of the drive (units `B/ħ`).
    DriveFrequency,
}

impl Parameter {
    /// Every parameter of the chain, in the order help texts list them.
    pub const ALL: [Parameter; 7] =
        [Parameter::N, Parameter::Alpha, Parameter::P, Parameter::G, Parameter::Omega, Parameter::B, Parameter::Gamma];

    /// The noise of the open battery ([`Noise`]), which `spinbat scan` varies too: every
    /// point an open-battery run ([`crate::study::scan_noisy`]).
    pub const NOISE: [Parameter; 4] =
        [Parameter::Dephasing, Parameter::Decay, Parameter::CollectiveDecay, Parameter::Temperature];

    /// Whether this is a noise setting rather than a parameter of the chain.
    pub fn is_noise(&self) -> bool {
        Parameter::NOISE.contains(self)
    }

    /// The time-dependent field of a study's charge (`ω(t) = ω + A cos(νt)`): varied by a
    /// study file's `[sweep]`, each point's protocol from [`crate::model::ProtocolSpec`]
    /// ([`super::Point::protocol`]).
    pub const FIELD: [Parameter; 2] = [Parameter::Drive, Parameter::DriveFrequency];

    /// Whether this is a setting of the charging protocol rather than of the chain.
    pub fn is_field(&self) -> bool {
        Parameter::FIELD.contains(self)
    }

    /// `noise` with this parameter set to `value` (unchanged for a parameter of the chain).
    /// Checked with the chain's field where the points are planned ([`Noise::check`]).
    pub fn apply_noise(&self, noise: Noise, value: f64) -> Noise {
        match self {
            Parameter::Dephasing => Noise { dephasing: value, ..noise },
            Parameter::Decay => Noise { decay: value, ..noise },
            Parameter::CollectiveDecay => Noise { collective_decay: value, ..noise },
            Parameter::Temperature => Noise { temperature: Some(value), ..noise },
            _ => noise,
        }
    }

    /// The name used on the command line and in records.
    pub fn as_str(&self) -> &'static str {
        match self {
            Parameter::N => "n",
            Parameter::Alpha => "alpha",
            Parameter::P => "p",
            Parameter::G => "g",
            Parameter::Omega => "omega",
            Parameter::B => "b",
            Parameter::Dephasing => "dephasing",
            Parameter::Decay => "decay",
            Parameter::CollectiveDecay => "collective_decay",
            Parameter::Temperature => "temperature",
            Parameter::Gamma => "gamma",
            Parameter::Drive => "drive",
            Parameter::DriveFrequency => "drive_frequency",
        }
    }

    /// `builder` with this parameter set to `value` (unchanged for a noise setting:
    /// [`Parameter::apply_noise`]).
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] when `N` is not a non-negative integer,
    /// `p` is varied on a chain whose couplings are not a power law, or for a setting of
    /// the protocol ([`Parameter::is_field`]: not the chain's; a study's points take it
    /// through [`super::Point::protocol`]).
    pub fn apply(&self, builder: ChainBuilder, couplings: &Couplings, value: f64) -> Result<ChainBuilder> {
        Ok(match self {
            Parameter::N => {
                if !(value.is_finite() && value >= 0.0 && value.fract() == 0.0) {
                    return Err(invalid("n", value, "the number of sites must be a whole number"));
                }
                builder.n_sites(value as usize)
            }
            Parameter::Alpha => builder.alpha(value),
            Parameter::P => match couplings {
                Couplings::PowerLaw { .. } => builder.couplings(Couplings::PowerLaw { p: value }),
                _ => return Err(invalid("p", value, "varying p needs power-law couplings (--coupling power-law)")),
            },
            Parameter::G => builder.g(value),
            Parameter::Omega => builder.omega(value),
            Parameter::B => builder.b(value),
            Parameter::Gamma => builder.gamma(value),
            Parameter::Drive | Parameter::DriveFrequency => {
                return Err(invalid(
                    self.as_str(),
                    value,
                    "the drive is a setting of the charging protocol, not of the chain: vary it in a study \
                     file ([sweep] drive / drive_frequency with spinbat run)",
                ))
            }
            Parameter::Dephasing | Parameter::Decay | Parameter::CollectiveDecay | Parameter::Temperature => builder,
        })
    }
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Parameter {
    type Err = crate::SpinbatError;
    fn from_str(s: &str) -> Result<Self> {
        let key = s.trim().to_ascii_lowercase();
        let key = match key.as_str() {
            "n_sites" | "n-sites" => "n",
            "collective-decay" => "collective_decay",
            "drive-frequency" => "drive_frequency",
            other => other,
        };
        let known = || Parameter::ALL.iter().chain(&Parameter::NOISE).chain(&Parameter::FIELD);
        known().copied().find(|p| p.as_str() == key).ok_or_else(|| {
            invalid(
                "vary",
                s,
                format!(
                    "unknown parameter; choose one of {}",
                    known().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })
    }
}

/// Most values one sweep may hold (a typo such as `0:1:1e-9` is refused, not run).
pub const MAX_SWEEP_VALUES: usize = 100_000;

/// A parameter and the values it takes, parsed from `NAME=SPEC` where `SPEC` is
/// * a list `1,2,4`,
/// * an integer range `2..14` (both ends included, step 1),
/// * a stepped range `start:stop:step`, e.g. `-1:1:0.1` (both ends included; values are
///   `start + k·step`, the last one within `10⁻⁹·step` of `stop` kept).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sweep {
    /// Which parameter varies.
    pub parameter: Parameter,
    /// Its values, in the order given.
    pub values: Vec<f64>,
}

impl Sweep {
    /// A sweep over explicit values.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for no values or a non-finite one.
    pub fn new(parameter: Parameter, values: Vec<f64>) -> Result<Self> {
        if values.is_empty() {
            return Err(invalid(parameter.as_str(), "[]", "a sweep needs at least one value"));
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(invalid(parameter.as_str(), v, "sweep values must be finite numbers"));
        }
        Ok(Sweep { parameter, values })
    }

    /// A sweep of `parameter` over the values of `spec`: a list `1,2,4`, an integer range
    /// `2..14` or `start:stop:step` (as in [`Sweep`]'s `NAME=SPEC` form, without the name).
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for a malformed or empty spec.
    pub fn parse_spec(parameter: Parameter, spec: &str) -> Result<Self> {
        let values = parse_values(spec.trim()).map_err(|reason| invalid(parameter.as_str(), spec, reason))?;
        Sweep::new(parameter, values)
    }

    /// The chains of the sweep: `base` with the parameter set to each value, all validated
    /// before anything runs.
    ///
    /// # Errors
    /// The first invalid chain's error (e.g. `N = 0`, `ω ≤ 0`).
    pub fn chains(&self, base: &Chain) -> Result<Vec<Chain>> {
        self.values.iter().map(|&v| self.parameter.apply(base.to_builder(), base.couplings(), v)?.build()).collect()
    }

    /// The noise of each point: `base` with the parameter set to each value (`base` itself
    /// for a parameter of the chain), each checked for the field `b`.
    ///
    /// # Errors
    /// The first refused setting ([`Noise::check`]: a negative rate, a temperature without
    /// decay).
    pub fn noises(&self, base: &Noise, b: f64) -> Result<Vec<Noise>> {
        self.values
            .iter()
            .map(|&v| {
                let noise = self.parameter.apply_noise(*base, v);
                noise.check(b)?;
                Ok(noise)
            })
            .collect()
    }
}

impl FromStr for Sweep {
    type Err = crate::SpinbatError;

    fn from_str(s: &str) -> Result<Self> {
        let (name, spec) = s
            .split_once('=')
            .ok_or_else(|| invalid("vary", s, "expected NAME=SPEC, e.g. n=2..12, alpha=0:1:0.1 or p=0,1,2"))?;
        let parameter: Parameter = name.parse()?;
        let values = parse_values(spec.trim()).map_err(|reason| invalid("vary", s, reason))?;
        Sweep::new(parameter, values)
    }
}

fn number(text: &str) -> std::result::Result<f64, String> {
    let v: f64 = text.trim().parse().map_err(|_| format!("'{}' is not a number", text.trim()))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("'{}' is not a finite number", text.trim()))
    }
}

/// Digits after the decimal point of a plain decimal number (`None` with an exponent).
fn decimals(text: &str) -> Option<usize> {
    let t = text.trim();
    if t.contains(['e', 'E']) {
        return None;
    }
    Some(t.split_once('.').map_or(0, |(_, f)| f.len()))
}

fn parse_values(spec: &str) -> std::result::Result<Vec<f64>, String> {
    if spec.is_empty() {
        return Err("empty value list".into());
    }
    if let Some((a, b)) = spec.split_once("..") {
        let (a, b) = (number(a)?, number(b.trim_start_matches('='))?);
        if a.fract() != 0.0 || b.fract() != 0.0 {
            return Err("a range a..b needs whole numbers; use start:stop:step for other steps".into());
        }
        if b < a {
            return Err(format!("empty range: {b} < {a}"));
        }
        if b - a >= MAX_SWEEP_VALUES as f64 {
            return Err(format!("more than {MAX_SWEEP_VALUES} values"));
        }
        return Ok((a as i64..=b as i64).map(|v| v as f64).collect());
    }
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.len() {
        1 => spec.split(',').map(number).collect(),
        3 => {
            let (start, stop, step) = (number(parts[0])?, number(parts[1])?, number(parts[2])?);
            if step == 0.0 || (stop - start) * step < 0.0 {
                return Err(format!("step {step} does not lead from {start} to {stop}"));
            }
            let count = ((stop - start) / step + 1e-9).floor();
            if count >= MAX_SWEEP_VALUES as f64 {
                return Err(format!("more than {MAX_SWEEP_VALUES} values"));
            }
            // start + k·step rather than repeated addition (no drift), rounded to the
            // decimals written, so 0:1:0.1 gives 0.3 and not 0.30000000000000004
            let decimals = decimals(parts[0]).zip(decimals(parts[2])).map(|(a, b)| a.max(b));
            Ok((0..=count as usize)
                .map(|k| {
                    let v = start + k as f64 * step;
                    match decimals {
                        Some(d) => format!("{v:.d$}").parse().unwrap_or(v),
                        None => v,
                    }
                })
                .collect())
        }
        _ => Err("expected a list 1,2,4, a range 2..14 or start:stop:step".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let s: Sweep = "n=2..5".parse().unwrap();
        assert_eq!(s.parameter, Parameter::N);
        assert_eq!(s.values, vec![2.0, 3.0, 4.0, 5.0]);
        let s: Sweep = "alpha=-1:1:0.1".parse().unwrap();
        assert_eq!(s.values.len(), 21);
        assert!((s.values[20] - 1.0).abs() < 1e-12 && s.values[0] == -1.0);
        assert_eq!(s.values[13], 0.3);
        assert_eq!(s.values[10], 0.0);
        let s: Sweep = "p=0, 1,2.5".parse().unwrap();
        assert_eq!(s.values, vec![0.0, 1.0, 2.5]);
        let s: Sweep = "omega=4:1:-1".parse().unwrap();
        assert_eq!(s.values, vec![4.0, 3.0, 2.0, 1.0]);
    }

    #[test]
    fn bad_specs_are_refused() {
        for bad in ["n", "q=1,2", "n=", "n=5..2", "alpha=0:1:0", "alpha=0:1:-0.1", "g=1,x", "alpha=0:1e9:1e-9", "g=nan"]
        {
            assert!(bad.parse::<Sweep>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn chains_carry_the_value() {
        let base = Chain::builder(4).build().unwrap();
        let s: Sweep = "n=2..4".parse().unwrap();
        let chains = s.chains(&base).unwrap();
        assert_eq!(chains.iter().map(Chain::n_sites).collect::<Vec<_>>(), vec![2, 3, 4]);
        assert!("n=0,2".parse::<Sweep>().unwrap().chains(&base).is_err());
        assert!("n=2.5".parse::<Sweep>().unwrap().chains(&base).is_err());
        let nn = base.to_builder().couplings(Couplings::NearestNeighbour).build().unwrap();
        assert!("p=1,2".parse::<Sweep>().unwrap().chains(&nn).is_err());
    }

    #[test]
    fn noise_sweeps_set_the_rate_and_keep_the_chain() {
        let base = Chain::builder(4).build().unwrap();
        for (spec, name) in [
            ("dephasing=0,0.1", Parameter::Dephasing),
            ("decay=0:0.2:0.1", Parameter::Decay),
            ("collective-decay=0.5", Parameter::CollectiveDecay),
            ("collective_decay=0.5", Parameter::CollectiveDecay),
            ("temperature=1,2", Parameter::Temperature),
        ] {
            let s: Sweep = spec.parse().unwrap();
            assert_eq!(s.parameter, name);
            assert!(s.parameter.is_noise());
            assert!(s.chains(&base).unwrap().iter().all(|c| c == &base), "{spec}: the chain is the base");
        }
        let s: Sweep = "decay=0,0.3".parse().unwrap();
        let noises = s.noises(&Noise { dephasing: 0.1, ..Noise::default() }, 1.0).unwrap();
        assert_eq!(noises[1], Noise { dephasing: 0.1, decay: 0.3, ..Noise::default() });
        // refused settings: a negative rate, a temperature without decay
        assert!("dephasing=-0.1".parse::<Sweep>().unwrap().noises(&Noise::default(), 1.0).is_err());
        assert!("temperature=1".parse::<Sweep>().unwrap().noises(&Noise::default(), 1.0).is_err());
        let bath = Noise { decay: 0.2, ..Noise::default() };
        assert_eq!("temperature=2".parse::<Sweep>().unwrap().noises(&bath, 1.0).unwrap()[0].temperature, Some(2.0));
    }
}
