"""Closed forms of the spin-chain battery (physics.md), computed by the Rust library.

Units: hbar = 1, energies in B, times in 1/B. Functions taking `t` accept a float (and
return a float) or an array (and return a float64 array of its shape).

* one spin: W(t) = 2B sin^2(omega t); P1 = 2 B omega * 0.72461135377... at
  omega T* = 1.16556118520721... (`one_spin_max_power`)
* XXX (alpha = 1) or g = 0, any couplings: W(t) = 2BN sin^2(omega t) (`independent_work`)
* weak coupling, paper Eq. 18: W(t) = 2BN sin^2(omega t) + (1 - alpha) G sin^2(2 omega t),
  G = sum_{i<j} g_ij, and Eq. 19 for its maximal work (`weak_coupling_*`)
* strong coupling, alpha = 0: two spins (Eqs. 13-15, effective coupling omega^2/g) and
  three all-coupled spins (effective coupling 3 omega^3 / (8 g^2))
"""

from ._spinbat import analytic as _native

one_spin_optimal_phase = _native.one_spin_optimal_phase
one_spin_power_factor = _native.one_spin_power_factor
one_spin_max_power = _native.one_spin_max_power
one_spin_work = _native.one_spin_work
independent_work = _native.independent_work
weak_coupling_work = _native.weak_coupling_work
weak_coupling_rate = _native.weak_coupling_rate
weak_coupling_max_work = _native.weak_coupling_max_work
two_spin_strong_coupling = _native.two_spin_strong_coupling
two_spin_effective_coupling = _native.two_spin_effective_coupling
three_spin_effective_coupling = _native.three_spin_effective_coupling
three_spin_strong_coupling_slow = _native.three_spin_strong_coupling_slow

__all__ = [
    "one_spin_optimal_phase",
    "one_spin_power_factor",
    "one_spin_max_power",
    "one_spin_work",
    "independent_work",
    "weak_coupling_work",
    "weak_coupling_rate",
    "weak_coupling_max_work",
    "two_spin_strong_coupling",
    "two_spin_effective_coupling",
    "three_spin_effective_coupling",
    "three_spin_strong_coupling_slow",
]
