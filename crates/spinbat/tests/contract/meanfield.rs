//! Mean-field contract tests.
