//! Propagators against closed forms and each other.
