//! Outside oracle: QuTiP reference values.
