//! Kernel benchmarks: one application of the charging Hamiltonian `H` (the blocked,
//! matrix-free kernel), one fused Chebyshev step, and a STREAM-like triad
//! `a = b + s·c` on the same machine as the memory-bandwidth yardstick.
//!
//! Throughput is reported in bytes: the *minimal* traffic of each operation (`H x`:
//! read `x` and the diagonal, write `y`, 40 bytes per amplitude; Chebyshev step: read `x`
//! and the diagonal, read and write the previous vector and one accumulator, 88 bytes;
//! triad: 24 bytes per element), so the figures compare directly with the triad.
//!
//! `gram_sums`: the products one Chebyshev Gram segment measures of its kept terms (real
//! terms from all-down, the sector of the paper's chain, as many as the default curve's
//! segment keeps); throughput in the bytes of the terms, each read once.
//!
//! `combine_terms`: a tap's group of 16 states combined from 176 real kept terms
//! ([`spinbat::operator::combine_terms`]); throughput in the bytes of the terms.
//!
//! `row_moments`: what `--observe ergotropy` measures of one state of the reflection
//! sector (Bloch vectors, populations, `Var(H0)`,
//! [`spinbat::observe::correlations::row_moments`]); throughput in the bytes of the
//! stored state.
//!
//! `strided_read`: the read pattern of `combine_terms`' copy (176 columns of 2^20 rows, a
//! block of rows of each in turn) against one contiguous read of the same bytes: what the
//! store's column-major layout costs the tap.
//!
//! `cargo bench -p spinbat --bench kernels`; `SPINBAT_BENCH_QUICK=1` runs the small sizes
//! only (seconds).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use num_complex::Complex64;
use rayon::prelude::*;
use spinbat::operator::{chebyshev_step as step, Operators};
use spinbat::symmetry::{ReflectionSector, Space};
use spinbat::{Chain, Couplings};
use std::hint::black_box;

fn quick() -> bool {
    std::env::var_os("SPINBAT_BENCH_QUICK").is_some()
}

fn chains(n: usize) -> Vec<(&'static str, Chain)> {
    let mut out = vec![
        ("nn-ising", Chain::builder(n).couplings(Couplings::NearestNeighbour).build().unwrap()),
        ("p1-ising", Chain::builder(n).build().unwrap()),
    ];
    if n <= 16 {
        out.push(("p1-xxz0.5", Chain::builder(n).alpha(0.5).build().unwrap()));
        out.push(("nn-xxz0.5", Chain::builder(n).alpha(0.5).couplings(Couplings::NearestNeighbour).build().unwrap()));
    }
    out
}

fn state(dim: usize) -> Vec<Complex64> {
    (0..dim).map(|s| Complex64::new((s % 17) as f64 * 0.01, (s % 13) as f64 * -0.02)).collect()
}

fn apply_h(c: &mut Criterion) {
    let sizes: &[usize] = if quick() { &[12, 16] } else { &[16, 20, 22] };
    let mut group = c.benchmark_group("apply_h");
    group.sample_size(10);
    for &n in sizes {
        for (name, chain) in chains(n) {
            let ops = Operators::new(&chain).unwrap();
            let x = state(ops.dim());
            let mut y = vec![Complex64::new(0.0, 0.0); ops.dim()];
            group.throughput(Throughput::Bytes(40 * ops.dim() as u64));
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| ops.apply_h(black_box(&x), &mut y));
            });
        }
    }
    group.finish();
}

fn chebyshev_step(c: &mut Criterion) {
    let sizes: &[usize] = if quick() { &[16] } else { &[20, 22] };
    let mut group = c.benchmark_group("chebyshev_step");
    group.sample_size(10);
    for &n in sizes {
        let chain = Chain::builder(n).build().unwrap();
        let ops = Operators::new(&chain).unwrap();
        let x = state(ops.dim());
        let mut prev = state(ops.dim());
        let mut acc = vec![Complex64::new(0.0, 0.0); ops.dim()];
        let coef = [Complex64::new(0.1, -0.2)];
        group.throughput(Throughput::Bytes(88 * ops.dim() as u64));
        group.bench_with_input(BenchmarkId::new("p1-ising", n), &n, |b, _| {
            b.iter(|| step(&ops, black_box(&x), &mut prev, &mut acc, 0.5, 200.0, false, &[], &coef, 0));
        });
    }
    group.finish();
}

/// The real-path Chebyshev step (`T_{k+1} = 2H̃T_k − T_{k−1}` on real vectors, `m` real
/// accumulators) on the full space and on the reflection-even sector, per stored row.
/// Minimal traffic: read `x` and the diagonal, read and write the previous vector and the
/// `m` accumulators: `32 + 16m` bytes per row.
fn real_step(c: &mut Criterion) {
    let sizes: &[usize] = if quick() { &[16] } else { &[20, 22, 24] };
    let mut group = c.benchmark_group("real_step");
    group.sample_size(10);
    fn run<S: Space>(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        n: usize,
        space: &S,
    ) {
        for m in [1usize, 8] {
            let dim = space.dim();
            let x: Vec<f64> = (0..dim).map(|s| (s % 17) as f64 * 0.01).collect();
            let mut prev: Vec<f64> = (0..dim).map(|s| (s % 13) as f64 * -0.02).collect();
            let mut acc = vec![0.0; dim * m];
            let coef = vec![0.1; m];
            group.throughput(Throughput::Bytes((32 + 16 * m as u64) * dim as u64));
            group.bench_with_input(BenchmarkId::new(format!("{name}-m{m}"), n), &n, |b, _| {
                b.iter(|| step(space, black_box(&x), &mut prev, &mut acc, 0.5, 200.0, false, &[], &coef, 0));
            });
        }
    }
    for &n in sizes {
        let chain = Chain::builder(n).couplings(Couplings::NearestNeighbour).build().unwrap();
        run(&mut group, "nn-full", n, &Operators::new(&chain).unwrap());
        run(&mut group, "nn-sector", n, &ReflectionSector::new(&chain).unwrap());
    }
    group.finish();
}

fn gram_sums(c: &mut Criterion) {
    // (N, terms): the default command's real segment to π/2 at N = 18 and 20 (p = 1)
    let sizes: &[(usize, usize)] = if quick() { &[(14, 120)] } else { &[(18, 229), (20, 205)] };
    let mut group = c.benchmark_group("gram_sums");
    group.sample_size(10);
    for &(n, k) in sizes {
        let chain = Chain::builder(n).build().unwrap();
        let space = ReflectionSector::new(&chain).unwrap();
        let dim = space.dim();
        let cols: Vec<f64> = (0..dim * k).map(|i| ((i * 7919) % 1000) as f64 * 1e-3 - 0.5).collect();
        group.throughput(Throughput::Bytes(8 * (dim * k) as u64));
        group.bench_with_input(BenchmarkId::new(format!("p1-sector-k{k}"), n), &n, |b, _| {
            b.iter(|| black_box(spinbat::operator::gram_sums(&space, black_box(&cols), k, false)));
        });
    }
    group.finish();
}

fn combine_terms(c: &mut Criterion) {
    // a tap's group of states from a real Gram segment's kept terms: m = 16 states whose
    // series need k terms (Chebyshev coefficients: real for even terms, imaginary for odd
    // ones), 2^20 rows (N = 22 in the sector is 2^21); throughput in the bytes of the terms
    let (dim, k, m) = if quick() { (1usize << 16, 60usize, 8usize) } else { (1 << 20, 176, 16) };
    let cols: Vec<f64> = (0..dim * k).map(|i| ((i * 7919) % 1000) as f64 * 1e-3 - 0.5).collect();
    let coef: Vec<Complex64> = (0..m * k)
        .map(|x| {
            let (j, a) = (x / k, x % k);
            let v = ((j + 1) as f64 * 0.37 + a as f64 * 0.11).sin();
            if a.is_multiple_of(2) {
                Complex64::new(v, 0.0)
            } else {
                Complex64::new(0.0, v)
            }
        })
        .collect();
    let mut out = vec![Complex64::new(0.0, 0.0); dim * m];
    let mut group = c.benchmark_group("combine_terms");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(8 * (dim * k) as u64));
    group.bench_function(BenchmarkId::new(format!("real-k{k}-m{m}"), dim), |b| {
        b.iter(|| spinbat::operator::combine_terms(black_box(&cols), dim, k, &coef, m, &mut out));
    });
    group.finish();
}

fn row_moments(c: &mut Criterion) {
    let sizes: &[usize] = if quick() { &[16] } else { &[20, 22] };
    let mut group = c.benchmark_group("row_moments");
    group.sample_size(10);
    for &n in sizes {
        let chain = Chain::builder(n).build().unwrap();
        let sector = ReflectionSector::new(&chain).unwrap();
        let stored = state(sector.dim());
        let rows = sector.rows(&stored).expect("alpha = 0");
        group.throughput(Throughput::Bytes(16 * sector.dim() as u64));
        group.bench_with_input(BenchmarkId::new("p1-ising", n), &n, |b, _| {
            b.iter(|| spinbat::observe::correlations::row_moments(black_box(&rows), 1.0).unwrap());
        });
    }
    group.finish();
}

fn stream_triad(c: &mut Criterion) {
    let len: usize = if quick() { 1 << 20 } else { 1 << 25 };
    let b: Vec<f64> = (0..len).map(|i| i as f64).collect();
    let cc: Vec<f64> = (0..len).map(|i| (len - i) as f64).collect();
    let mut a = vec![0.0f64; len];
    let mut group = c.benchmark_group("stream_triad");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(24 * len as u64));
    group.bench_function(BenchmarkId::new("f64", len), |bench| {
        bench.iter(|| {
            a.par_chunks_mut(1 << 14).zip(b.par_chunks(1 << 14)).zip(cc.par_chunks(1 << 14)).for_each(|((a, b), c)| {
                for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                    *a = b + 3.0 * c;
                }
            });
            black_box(&a);
        });
    });
    group.finish();
}

fn strided_read(c: &mut Criterion) {
    // the read pattern of combine_terms' copy: k columns of a column-major store, a block of
    // rows of each in turn (1024 rows: 8 KiB a column), against blocks of 8192 rows and
    // against one contiguous read of the same bytes; throughput in the bytes read
    let (dim, k) = if quick() { (1usize << 16, 16usize) } else { (1 << 20, 176) };
    let cols: Vec<f64> = (0..dim * k).map(|i| ((i * 7919) % 1000) as f64 * 1e-3 - 0.5).collect();
    // the crate's own lane-wise sum, as its passes over state-sized slices read them
    let sum8 = |x: &[f64]| spinbat::numeric::simd::lane_sums([x], |[v]| [v])[0];
    let mut group = c.benchmark_group("strided_read");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(8 * (dim * k) as u64));
    for rows in [1024usize, 8192] {
        group.bench_function(BenchmarkId::new(format!("k{k}-blocks"), rows), |b| {
            b.iter(|| {
                let s: f64 = (0..dim / rows)
                    .into_par_iter()
                    .map(|blk| {
                        (0..k).map(|a| sum8(&cols[a * dim + blk * rows..a * dim + (blk + 1) * rows])).sum::<f64>()
                    })
                    .sum();
                black_box(s)
            });
        });
    }
    group.bench_function(BenchmarkId::new(format!("k{k}-contiguous"), 0), |b| {
        b.iter(|| black_box(cols.par_chunks(1 << 16).map(sum8).sum::<f64>()));
    });
    group.finish();
}

criterion_group!(
    benches,
    apply_h,
    chebyshev_step,
    real_step,
    gram_sums,
    combine_terms,
    row_moments,
    stream_triad,
    strided_read
);
criterion_main!(benches);
