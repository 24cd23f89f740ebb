//! Figures of merit.
