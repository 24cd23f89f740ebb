//! Dicke propagator against the full space.
