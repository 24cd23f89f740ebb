//! Dense complex tensors for the matrix-product states: `dims` with the first index
//! fastest (column-major, faer's layout), so that grouping the leading indices into rows
//! and the trailing ones into columns is a free reshape and every contraction is one faer
//! matrix product (no physics here).

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use num_complex::Complex64;

/// A dense tensor of complex numbers, first index fastest:
/// `T[i0, i1, …] = data[i0 + d0 (i1 + d1 (i2 + …))]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Extent of each index.
    pub dims: Vec<usize>,
    /// The entries, first index fastest.
    pub data: Vec<Complex64>,
}

/// Products below this many complex multiply-adds run on one thread (faer's threading
/// costs more than it saves on small blocks).
const PARALLEL_MIN_FLOPS: usize = 1 << 21;

impl Tensor {
    /// The zero tensor of the given extents.
    pub fn zeros(dims: &[usize]) -> Tensor {
        Tensor { dims: dims.to_vec(), data: vec![Complex64::new(0.0, 0.0); dims.iter().product()] }
    }

    /// Entries from `data` (first index fastest).
    ///
    /// # Panics
    /// If `data.len()` is not the product of `dims` (a programming error).
    pub fn from_data(dims: &[usize], data: Vec<Complex64>) -> Tensor {
        assert_eq!(dims.iter().product::<usize>(), data.len(), "Tensor::from_data: shape");
        Tensor { dims: dims.to_vec(), data }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no entries.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Flat offset of a multi-index.
    pub fn offset(&self, idx: &[usize]) -> usize {
        let mut off = 0;
        for k in (0..self.dims.len()).rev() {
            off = off * self.dims[k] + idx[k];
        }
        off
    }

    /// `‖T‖₂ = (Σ |T|²)^{1/2}` (Frobenius).
    pub fn norm(&self) -> f64 {
        self.data.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt()
    }

    /// `⟨self|other⟩ = Σ conj(self) other`.
    pub fn dot(&self, other: &Tensor) -> Complex64 {
        self.data.iter().zip(&other.data).map(|(a, b)| a.conj() * b).sum()
    }

    /// The same entries with extents `dims` (same total).
    ///
    /// # Panics
    /// If the totals differ (a programming error).
    pub fn reshape(mut self, dims: &[usize]) -> Tensor {
        assert_eq!(dims.iter().product::<usize>(), self.data.len(), "Tensor::reshape: shape");
        self.dims = dims.to_vec();
        self
    }

    /// `out[i_0, …] = self[i_{perm⁻¹}]`: index `k` of the result is index `perm[k]` of `self`.
    pub fn permute(&self, perm: &[usize]) -> Tensor {
        let r = self.dims.len();
        assert_eq!(perm.len(), r, "Tensor::permute: rank");
        let dims: Vec<usize> = perm.iter().map(|&p| self.dims[p]).collect();
        // stride in `self` of each result index
        let mut src_strides = vec![1usize; r];
        for k in 1..r {
            src_strides[k] = src_strides[k - 1] * self.dims[k - 1];
        }
        let strides: Vec<usize> = perm.iter().map(|&p| src_strides[p]).collect();
        let mut data = Vec::with_capacity(self.data.len());
        if self.data.is_empty() {
            return Tensor { dims, data };
        }
        // odometer over the result's indices, first fastest; the innermost index copied as
        // one slice when it is contiguous in `self` (stride 1: most permutations here keep
        // the first index first)
        let (d0, s0) = (dims[0], strides[0]);
        let mut idx = vec![0usize; r];
        let mut base = 0usize;
        loop {
            if s0 == 1 {
                data.extend_from_slice(&self.data[base..base + d0]);
            } else {
                data.extend(self.data[base..].iter().step_by(s0).take(d0));
            }
            let mut k = 1;
            loop {
                if k == r {
                    return Tensor { dims, data };
                }
                idx[k] += 1;
                base += strides[k];
                if idx[k] < dims[k] {
                    break;
                }
                base -= strides[k] * dims[k];
                idx[k] = 0;
                k += 1;
            }
        }
    }

    /// The tensor as a matrix: the first `rows` indices grouped into rows, the rest into
    /// columns (free: first index fastest).
    pub fn as_mat(&self, rows: usize) -> MatRef<'_, Complex64> {
        let m: usize = self.dims[..rows].iter().product();
        let n: usize = self.dims[rows..].iter().product();
        MatRef::from_column_major_slice(&self.data, m, n)
    }

    /// Complex conjugate of every entry.
    pub fn conj(&self) -> Tensor {
        Tensor { dims: self.dims.clone(), data: self.data.iter().map(|z| z.conj()).collect() }
    }

    /// `self += a · other`.
    pub fn axpy(&mut self, a: Complex64, other: &Tensor) {
        for (x, y) in self.data.iter_mut().zip(&other.data) {
            *x += a * y;
        }
    }

    /// `self *= a`.
    pub fn scale(&mut self, a: Complex64) {
        for x in &mut self.data {
            *x *= a;
        }
    }
}

/// Contraction of the last `k` indices of `a` with the first `k` of `b` (in order):
/// `C[i…, j…] = Σ_m op(a)[i…, m…] op(b)[m…, j…]`, `op` the complex conjugate where asked.
/// One faer product, `O(rows · k-extent · cols)`.
///
/// # Panics
/// If the contracted extents differ (a programming error).
pub fn contract(a: &Tensor, conj_a: bool, k: usize, b: &Tensor, conj_b: bool) -> Tensor {
    let ra = a.dims.len() - k;
    assert_eq!(&a.dims[ra..], &b.dims[..k], "contract: contracted extents");
    let mut dims: Vec<usize> = a.dims[..ra].to_vec();
    dims.extend_from_slice(&b.dims[k..]);
    let am = a.as_mat(ra);
    let bm = b.as_mat(k);
    let (m, kk, n) = (am.nrows(), am.ncols(), bm.ncols());
    // the product is written straight into the result's storage (column-major, no copy)
    let mut data = vec![Complex64::new(0.0, 0.0); m * n];
    let out = MatMut::from_column_major_slice_mut(&mut data, m, n);
    let par = if m * kk * n >= PARALLEL_MIN_FLOPS { Par::rayon(0) } else { Par::Seq };
    let one = Complex64::new(1.0, 0.0);
    match (conj_a, conj_b) {
        (false, false) => matmul(out, Accum::Replace, am, bm, one, par),
        (true, false) => matmul(out, Accum::Replace, am.conjugate(), bm, one, par),
        (false, true) => matmul(out, Accum::Replace, am, bm.conjugate(), one, par),
        (true, true) => matmul(out, Accum::Replace, am.conjugate(), bm.conjugate(), one, par),
    }
    Tensor { dims, data }
}

/// The entries of a matrix, column by column.
pub fn mat_to_vec(m: MatRef<'_, Complex64>) -> Vec<Complex64> {
    let mut v = Vec::with_capacity(m.nrows() * m.ncols());
    for j in 0..m.ncols() {
        let col = m.col(j);
        match col.try_as_col_major() {
            Some(c) => v.extend_from_slice(c.as_slice()),
            None => v.extend((0..m.nrows()).map(|i| col[i])),
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(dims: &[usize]) -> Tensor {
        let n: usize = dims.iter().product();
        Tensor::from_data(dims, (0..n).map(|k| Complex64::new(k as f64, 0.5 * k as f64 - 1.0)).collect())
    }

    #[test]
    fn permute_moves_every_entry_to_its_permuted_index() {
        let t = ramp(&[2, 3, 4, 5]);
        let perm = [2, 0, 3, 1];
        let p = t.permute(&perm);
        assert_eq!(p.dims, vec![4, 2, 5, 3]);
        for i0 in 0..2 {
            for i1 in 0..3 {
                for i2 in 0..4 {
                    for i3 in 0..5 {
                        let src = [i0, i1, i2, i3];
                        let dst = [src[2], src[0], src[3], src[1]];
                        assert_eq!(t.data[t.offset(&src)], p.data[p.offset(&dst)]);
                    }
                }
            }
        }
    }

    #[test]
    fn contract_is_the_sum_over_the_shared_indices() {
        let a = ramp(&[2, 3, 4]);
        let b = ramp(&[3, 4, 2]).conj();
        let c = contract(&a, true, 2, &b, false);
        assert_eq!(c.dims, vec![2, 2]);
        for i in 0..2 {
            for j in 0..2 {
                let mut s = Complex64::new(0.0, 0.0);
                for m in 0..3 {
                    for n in 0..4 {
                        s += a.data[a.offset(&[i, m, n])].conj() * b.data[b.offset(&[m, n, j])];
                    }
                }
                assert!((c.data[c.offset(&[i, j])] - s).norm() < 1e-12);
            }
        }
    }
}
