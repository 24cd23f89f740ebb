//! One module a subcommand: its arguments (clap) and its run, over the library's calls and
//! the shared argument groups ([`crate::model_args`]), outputs ([`crate::output`]) and plots
//! ([`crate::plot`]).

pub mod charge;
pub mod charge_mpi;
pub mod effective;
pub mod figure;
pub mod merge;
pub mod optimize;
pub mod run;
pub mod scan;
pub mod scan_drive;
pub mod slurm;
pub mod store;
