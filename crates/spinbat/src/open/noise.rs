//! The noise of an open battery as data: which Lindblad channels act, at which rates
//! (units of `B`, like every energy; times in `1/B`), checked before anything runs.
//!
//! Channels (physics.md, "Open battery"), each on every site `i` unless collective:
//! * dephasing `γ_φ`: `L_i = √γ_φ Z_i`; a lone spin's coherence decays as `e^{−2γ_φ t}`;
//! * decay `γ`: `L_i = √γ σ_i⁻`, `σ⁻ = |↓⟩⟨↑|` (towards the ground state of `H_B`, `B > 0`);
//! * a thermal bath (`temperature` `T` with `decay` `γ`): `L_i⁻ = √(γ(n̄ + 1)) σ_i⁻`,
//!   `L_i⁺ = √(γ n̄) σ_i⁺`, `n̄ = 1/(e^{2B/T} − 1)` the Bose occupation of the spin's
//!   splitting `2B`; `T = 0` is plain decay;
//! * collective decay `Γ`: one operator `L = √Γ J⁻`, `J⁻ = Σ_i σ_i⁻` (superradiant).

use crate::error::{invalid, Result, SpinbatError};
use serde::{Deserialize, Serialize};

/// The Lindblad channels of an open battery (module docs). `Noise::default()` is the
/// closed battery: every rate zero, no temperature.
///
/// ```
/// use spinbat::open::Noise;
/// let noise = Noise { dephasing: 0.1, ..Noise::default() };
/// noise.check(1.0)?;
/// assert!(!noise.is_closed());
/// assert!(Noise { temperature: Some(1.0), ..Noise::default() }.check(1.0).is_err()); // no decay
/// # Ok::<(), spinbat::SpinbatError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Noise {
    /// Local dephasing rate `γ_φ ≥ 0` (units of `B`): `L_i = √γ_φ Z_i`.
    pub dephasing: f64,
    /// Local decay rate `γ ≥ 0` (units of `B`): `L_i = √γ σ_i⁻`, or with a temperature the
    /// thermal pair `√(γ(n̄+1)) σ_i⁻`, `√(γn̄) σ_i⁺`.
    pub decay: f64,
    /// Temperature `T ≥ 0` of the local bath (units of `B`, `k_B = 1`); needs `decay > 0`
    /// and `B > 0`. `None` (or `0`): zero temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Collective decay rate `Γ ≥ 0` (units of `B`): `L = √Γ Σ_i σ_i⁻`.
    pub collective_decay: f64,
}

/// The rates of the channels once the temperature is resolved (units of `B`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rates {
    /// `γ_φ` of `L_i = √γ_φ Z_i`.
    pub dephasing: f64,
    /// `γ↓ = γ(n̄ + 1)` of `L_i = √γ↓ σ_i⁻`.
    pub down: f64,
    /// `γ↑ = γ n̄` of `L_i = √γ↑ σ_i⁺`.
    pub up: f64,
    /// `Γ` of `L = √Γ Σ_i σ_i⁻`.
    pub collective: f64,
}

impl Noise {
    /// Whether no channel acts (every rate zero): the closed battery.
    pub fn is_closed(&self) -> bool {
        self.dephasing == 0.0 && self.decay == 0.0 && self.collective_decay == 0.0
    }

    /// Every problem with these settings for a field `b`, each a typed error naming the
    /// setting: a rate that is negative or not a number, a temperature that is negative or
    /// not a number, a temperature with no decay to carry it, or with `B ≤ 0` (the
    /// occupation `n̄ = 1/(e^{2B/T} − 1)` needs `B > 0`).
    pub fn problems(&self, b: f64) -> Vec<SpinbatError> {
        let mut out = Vec::new();
        for (name, rate) in
            [("dephasing", self.dephasing), ("decay", self.decay), ("collective_decay", self.collective_decay)]
        {
            if !(rate.is_finite() && rate >= 0.0) {
                out.push(invalid(name, rate, "a rate must be a finite number >= 0 (units of B)"));
            }
        }
        if let Some(t) = self.temperature {
            if !(t.is_finite() && t >= 0.0) {
                out.push(invalid("temperature", t, "must be a finite number >= 0 (units of B)"));
            } else if self.decay == 0.0 {
                out.push(invalid(
                    "temperature",
                    t,
                    "a temperature needs a decay rate (--decay gamma): the bath acts through sigma^- and sigma^+",
                ));
            } else if t > 0.0 && (b.is_nan() || b <= 0.0) {
                out.push(invalid(
                    "temperature",
                    t,
                    format!("the thermal occupation 1/(exp(2B/T) - 1) needs a field B > 0, got B = {b}"),
                ));
            }
        }
        out
    }

    /// Checks the settings for a field `b` ([`Noise::problems`]).
    ///
    /// # Errors
    /// The first of [`Noise::problems`], a [`SpinbatError::InvalidParameter`].
    pub fn check(&self, b: f64) -> Result<()> {
        match self.problems(b).into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Checks the settings for `chain` ([`Noise::check`] with its field `B`), and refuses a
    /// thermal bath on per-site fields `B_i` (each site would have its own occupation
    /// `n̄_i`; not implemented).
    ///
    /// # Errors
    /// As [`Noise::check`]; [`SpinbatError::InvalidParameter`] naming `temperature` for a
    /// bath at `T > 0` on a chain with per-site fields.
    pub fn check_for(&self, chain: &crate::model::Chain) -> Result<()> {
        self.check(chain.b())?;
        if let Some(t) = self.temperature.filter(|&t| t > 0.0 && self.decay > 0.0 && chain.has_site_fields()) {
            return Err(invalid(
                "temperature",
                t,
                "a thermal bath on per-site fields B_i (field disorder) is not implemented: each site would have its \
                 own occupation; use decay at T = 0 or dephasing",
            ));
        }
        Ok(())
    }

    /// Bose occupation `n̄ = 1/(e^{2B/T} − 1)` of the splitting `2B` at the bath's
    /// temperature; `0` at zero temperature (or none).
    pub fn thermal_occupation(&self, b: f64) -> f64 {
        match self.temperature {
            Some(t) if t > 0.0 => 1.0 / (2.0 * b / t).exp_m1(),
            _ => 0.0,
        }
    }

    /// The channels' rates for a field `b`: `γ↓ = γ(n̄ + 1)`, `γ↑ = γn̄`.
    pub fn rates(&self, b: f64) -> Rates {
        let n = self.thermal_occupation(b);
        Rates {
            dephasing: self.dephasing,
            down: self.decay * (n + 1.0),
            up: self.decay * n,
            collective: self.collective_decay,
        }
    }

    /// A short description for summaries: `dephasing 0.1, decay 0.05 at T = 2`, or `none`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.dephasing > 0.0 {
            parts.push(format!("dephasing {}", self.dephasing));
        }
        if self.decay > 0.0 {
            match self.temperature.filter(|&t| t > 0.0) {
                Some(t) => parts.push(format!("decay {} at T = {t}", self.decay)),
                None => parts.push(format!("decay {}", self.decay)),
            }
        }
        if self.collective_decay > 0.0 {
            parts.push(format!("collective decay {}", self.collective_decay));
        }
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    }
}

impl Rates {
    /// The fastest single-site dissipative rate: `2γ_φ` (coherences), `γ↓ + γ↑`
    /// (populations) and the superradiant `NΓ` of the collective channel, summed: no
    /// coherence or population of the dynamics changes faster than `e^{−κt}` through the
    /// noise.
    pub fn fastest(&self, n_sites: usize) -> f64 {
        2.0 * self.dephasing + self.down + self.up + n_sites as f64 * self.collective
    }

    /// Upper bound on `Σ_k 2‖L_k‖²`, the dissipator's part of the bound on the
    /// Liouvillian's norm (trace norm, or Hilbert–Schmidt norm): `‖√γ_φ Z_i‖² = γ_φ`,
    /// `‖√γ↓ σ_i⁻‖² = γ↓`, `‖√γ↑ σ_i⁺‖² = γ↑` on each of the `N` sites, and
    /// `‖J⁻‖² = max_m (j + m)(j − m + 1) ≤ (N + 1)²/4` for the collective channel.
    pub fn dissipator_norm_bound(&self, n_sites: usize) -> f64 {
        let n = n_sites as f64;
        2.0 * n * (self.dephasing + self.down + self.up) + 2.0 * self.collective * (n + 1.0).powi(2) / 4.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_refused_by_name() {
        let names = |n: Noise, b: f64| n.problems(b).into_iter().map(|e| e.to_string()).collect::<Vec<_>>();
        assert!(names(Noise::default(), 1.0).is_empty());
        for (noise, name) in [
            (Noise { dephasing: -0.1, ..Noise::default() }, "dephasing"),
            (Noise { decay: f64::NAN, ..Noise::default() }, "decay"),
            (Noise { collective_decay: f64::INFINITY, ..Noise::default() }, "collective_decay"),
            (Noise { temperature: Some(1.0), ..Noise::default() }, "temperature"),
            (Noise { decay: 1.0, temperature: Some(-1.0), ..Noise::default() }, "temperature"),
        ] {
            let found = names(noise, 1.0);
            assert_eq!(found.len(), 1, "{noise:?}: {found:?}");
            assert!(found[0].contains(name), "{found:?}");
        }
        // a bath at T > 0 needs B > 0; zero temperature is plain decay, with any field
        assert!(Noise { decay: 1.0, temperature: Some(1.0), ..Noise::default() }.check(-1.0).is_err());
        assert!(Noise { decay: 1.0, temperature: Some(0.0), ..Noise::default() }.check(-1.0).is_ok());
    }

    #[test]
    fn detailed_balance_of_the_thermal_rates() {
        // γ↑/γ↓ = n̄/(n̄+1) = e^{−2B/T}: the Boltzmann ratio of up to down
        for (b, t) in [(1.0, 0.5), (1.0, 3.0), (0.7, 10.0)] {
            let noise = Noise { decay: 0.3, temperature: Some(t), ..Noise::default() };
            let r = noise.rates(b);
            assert!((r.up / r.down - (-2.0 * b / t).exp()).abs() < 1e-14);
            assert!((r.down - r.up - 0.3).abs() < 1e-14, "γ↓ − γ↑ = γ");
        }
        assert_eq!(Noise { decay: 0.3, ..Noise::default() }.rates(1.0).up, 0.0);
    }

    #[test]
    fn round_trips_through_json_and_refuses_unknown_keys() {
        let noise = Noise { dephasing: 0.1, decay: 0.2, temperature: Some(2.0), collective_decay: 0.0 };
        let text = serde_json::to_string(&noise).unwrap();
        assert_eq!(serde_json::from_str::<Noise>(&text).unwrap(), noise);
        assert_eq!(serde_json::from_str::<Noise>("{\"dephasing\": 0.5}").unwrap().dephasing, 0.5);
        assert!(serde_json::from_str::<Noise>("{\"dephase\": 0.5}").is_err());
    }
}
