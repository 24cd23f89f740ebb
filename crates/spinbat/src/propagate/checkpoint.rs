//! The one place a propagator keeps states for later: the base it restarts from and the
//! anchor it resumes at. Shared by the Chebyshev propagator (on every [`crate::symmetry::Space`],
//! the Dicke states included) and the mean field.
//!
//! A propagator moves forward in time from its current state. A request before the current
//! time resumes from the latest saved state at or before it: the anchor
//! ([`super::Propagator::anchor`], set by the maximum search at the bracket it refines), else
//! the base. The base is the start of the dynamics: the initial all-down state at `t = 0`,
//! which each propagator builds itself (no copy is kept), or a state handed over at
//! `t₀ > 0` (the Dicke solver's eigen window passes its state to Chebyshev). Every saved
//! state carries the error bound (or estimate) it had, so resumed paths keep their error
//! accounting.

/// A state saved at time `t` with the bound (or estimate) `err` on its error.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved<X> {
    /// Time (units `1/B`).
    pub t: f64,
    /// Error bound (or estimate) of `state`, in the propagator's own measure.
    pub err: f64,
    /// The state.
    pub state: X,
}

/// Where a request resumes ([`Checkpoint::resume_for`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resume<'a, X> {
    /// The initial state at `t = 0` (the propagator builds it).
    Initial,
    /// A saved state: the anchor or a handed-over base.
    Saved(&'a Saved<X>),
}

/// The base and the anchor of a propagator (module docs).
#[derive(Debug, Clone, Default)]
pub struct Checkpoint<X> {
    base: Option<Saved<X>>,
    anchor: Option<Saved<X>>,
}

impl<X> Checkpoint<X> {
    /// Starts from the initial state at `t = 0`.
    pub fn initial() -> Self {
        Checkpoint { base: None, anchor: None }
    }

    /// Starts from `base` (a state handed over at `base.t`).
    pub fn from_base(base: Saved<X>) -> Self {
        Checkpoint { base: Some(base), anchor: None }
    }

    /// Whether the dynamics starts from the initial state at `t = 0`.
    pub fn starts_initial(&self) -> bool {
        self.base.is_none()
    }

    /// The earliest time served: `0`, or the handed-over base's time.
    pub fn base_time(&self) -> f64 {
        self.base.as_ref().map_or(0.0, |b| b.t)
    }

    /// The handed-over base, if any.
    pub fn base(&self) -> Option<&Saved<X>> {
        self.base.as_ref()
    }

    /// The anchor, if one is kept.
    pub fn anchor(&self) -> Option<&Saved<X>> {
        self.anchor.as_ref()
    }

    /// The latest saved state at or before `t`: the anchor if it is not later than `t`,
    /// else the base.
    pub fn resume_for(&self, t: f64) -> Resume<'_, X> {
        match (&self.anchor, &self.base) {
            (Some(a), _) if a.t <= t => Resume::Saved(a),
            (_, Some(b)) => Resume::Saved(b),
            _ => Resume::Initial,
        }
    }

    /// Drops the anchor.
    pub fn clear_anchor(&mut self) {
        self.anchor = None;
    }

    /// Keeps `state` at `t` with error `err` as the anchor.
    pub fn set_anchor(&mut self, t: f64, err: f64, state: X) {
        self.anchor = Some(Saved { t, err, state });
    }
}

impl<E: Clone> Checkpoint<Vec<E>> {
    /// Keeps a copy of `state` at `t` as the anchor, reusing the old anchor's buffer.
    pub fn keep_anchor(&mut self, t: f64, err: f64, state: &[E]) {
        match &mut self.anchor {
            Some(a) if a.state.len() == state.len() => {
                a.state.clone_from_slice(state);
                a.t = t;
                a.err = err;
            }
            _ => self.anchor = Some(Saved { t, err, state: state.to_vec() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_resume_from_the_latest_saved_state_not_after_them() {
        let mut c: Checkpoint<Vec<f64>> = Checkpoint::initial();
        assert_eq!(c.resume_for(3.0), Resume::Initial);
        c.keep_anchor(2.0, 1e-9, &[1.0, 2.0]);
        assert!(matches!(c.resume_for(3.0), Resume::Saved(s) if s.t == 2.0 && s.state == [1.0, 2.0]));
        assert_eq!(c.resume_for(1.0), Resume::Initial, "an anchor later than the request is no use");
        c.keep_anchor(2.5, 2e-9, &[3.0, 4.0]);
        assert!(matches!(c.resume_for(2.7), Resume::Saved(s) if s.t == 2.5 && s.err == 2e-9 && s.state == [3.0, 4.0]));

        let mut h = Checkpoint::from_base(Saved { t: 1.0, err: 1e-12, state: vec![0.5] });
        assert_eq!(h.base_time(), 1.0);
        assert!(!h.starts_initial());
        h.keep_anchor(4.0, 0.0, &[0.25]);
        assert!(matches!(h.resume_for(2.0), Resume::Saved(s) if s.t == 1.0), "before the anchor: the base");
        h.clear_anchor();
        assert!(matches!(h.resume_for(9.0), Resume::Saved(s) if s.t == 1.0));
    }
}
