//! Reading an explicit coupling matrix from text.

use crate::error::{Result, SpinbatError};

/// Parses a whitespace- or comma-separated matrix, one row per line; blank lines and
/// text after `#` are ignored. Shape and symmetry are checked later, by the chain builder.
///
/// # Errors
/// [`SpinbatError::InvalidMatrix`] naming the line and the offending token.
pub fn parse_matrix(text: &str) -> Result<Vec<Vec<f64>>> {
    let mut rows = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut row = Vec::new();
        for tok in line.split(|c: char| c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()) {
            let v: f64 = tok.parse().map_err(|_| SpinbatError::InvalidMatrix {
                reason: format!("line {}: '{tok}' is not a number", lineno + 1),
            })?;
            row.push(v);
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(SpinbatError::InvalidMatrix { reason: "the file holds no numbers".into() });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comments_and_commas() {
        let m = parse_matrix("# ring\n0, 1 1\n1 0 1 # x\n\n1,1,0\n").unwrap();
        assert_eq!(m, vec![vec![0.0, 1.0, 1.0], vec![1.0, 0.0, 1.0], vec![1.0, 1.0, 0.0]]);
        assert!(parse_matrix("0 x\n").is_err());
        assert!(parse_matrix("# nothing\n").is_err());
    }
}
