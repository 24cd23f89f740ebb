"""Type stubs of spinbat.analytic: closed forms (hbar = 1, energies in B, times in 1/B)."""

from typing import Any, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

from . import Chain

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

_FloatArray = npt.NDArray[np.float64]
_ArrayIn = Union[npt.NDArray[Any], list[float], list[int], tuple[float, ...]]

def one_spin_optimal_phase() -> float:
    """x* = omega T* = 1.16556118520721..., the root of tan x = 2x in (0, pi/2)."""

def one_spin_power_factor() -> float:
    """max_x sin^2(x)/x = 0.72461135377..."""

def one_spin_max_power(b: float = 1.0, omega: float = 4.0) -> Tuple[float, float]:
    """(P1, T*) = (2 B omega * 0.72461..., 1.16556.../omega)."""

@overload
def one_spin_work(t: float, b: float = 1.0, omega: float = 4.0) -> float: ...
@overload
def one_spin_work(t: _ArrayIn, b: float = 1.0, omega: float = 4.0) -> _FloatArray: ...
@overload
def independent_work(t: float, n: int, b: float = 1.0, omega: float = 4.0) -> float: ...
@overload
def independent_work(t: _ArrayIn, n: int, b: float = 1.0, omega: float = 4.0) -> _FloatArray: ...
@overload
def weak_coupling_work(chain: Chain, t: float) -> float: ...
@overload
def weak_coupling_work(chain: Chain, t: _ArrayIn) -> _FloatArray: ...
@overload
def weak_coupling_rate(chain: Chain, t: float) -> float: ...
@overload
def weak_coupling_rate(chain: Chain, t: _ArrayIn) -> _FloatArray: ...
def weak_coupling_max_work(chain: Chain) -> Tuple[float, float]:
    """(W_max, T) of Eq. 18 (paper Eq. 19)."""

@overload
def two_spin_strong_coupling(t: float, *, g: float, b: float = 1.0, omega: float = 4.0) -> Tuple[float, float]: ...
@overload
def two_spin_strong_coupling(
    t: _ArrayIn, *, g: float, b: float = 1.0, omega: float = 4.0
) -> Tuple[_FloatArray, _FloatArray]: ...
def two_spin_effective_coupling(g: float, omega: float = 4.0) -> float:
    """omega^2 / g (paper Eq. 15)."""

def three_spin_effective_coupling(g: float, omega: float = 4.0) -> float:
    """3 omega^3 / (8 g^2)."""

@overload
def three_spin_strong_coupling_slow(t: float, *, g: float, b: float = 1.0, omega: float = 4.0) -> float: ...
@overload
def three_spin_strong_coupling_slow(t: _ArrayIn, *, g: float, b: float = 1.0, omega: float = 4.0) -> _FloatArray: ...
