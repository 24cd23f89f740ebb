//! Physics contract tests: a chain of trust from closed forms to dense ED to the fast
//! solvers, and an outside oracle (QuTiP). Modules mirror `src/`.

mod charging;
mod common;
mod correlations;
mod dicke;
mod disorder;
mod distributed;
mod drive;
mod effective;
mod ergotropy;
mod fermion;
mod gibbs;
mod meanfield;
mod mps;
mod observe;
mod open;
mod open_dicke;
mod oracle;
mod oracle_large;
mod propagate;
mod schedule;
mod sectors;
mod storage;
mod study;
mod trajectory;
mod unravelling;
mod xyz_sectors;
