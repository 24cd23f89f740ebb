//! The CLI's error: a message with its causes and the exit status it deserves.

/// An error with the exit status it deserves: 2 for bad input, 1 otherwise.
#[derive(Debug)]
pub struct CliError {
    status: u8,
    error: anyhow::Error,
}

impl CliError {
    /// Bad input: exit status 2.
    pub fn input(error: impl Into<anyhow::Error>) -> Self {
        CliError { status: 2, error: error.into() }
    }
    /// A failure while running or writing results: exit status 1.
    pub fn runtime(error: impl Into<anyhow::Error>) -> Self {
        CliError { status: 1, error: error.into() }
    }
    /// The exit status: 2 for bad input (and refusals), 1 otherwise.
    pub fn status(&self) -> u8 {
        self.status
    }
    /// One line: the error and its causes, joined by `: `.
    pub fn message(&self) -> String {
        self.error.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ")
    }
}

impl From<spinbat::SpinbatError> for CliError {
    fn from(e: spinbat::SpinbatError) -> Self {
        use spinbat::SpinbatError as E;
        match e {
            E::NotConverged { .. } => CliError::runtime(e),
            _ => CliError::input(e),
        }
    }
}
