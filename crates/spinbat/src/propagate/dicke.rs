//! Dicke (permutation-symmetric) propagator. Placeholder.
