use spinbat::observe::charge;
use spinbat::propagate::{Chebyshev, Propagator};
use spinbat::{Chain, Silent};
use std::time::Instant;
fn main() {
    let n: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let chain = Chain::builder(n).build().unwrap();
    let t0 = Instant::now();
    let mut p = Chebyshev::new(&chain, 1e-10);
    println!("setup {:.3}s", t0.elapsed().as_secs_f64());
    let t0 = Instant::now();
    let r = charge(&mut p, &chain, &[0.0, 0.05], &Silent).unwrap();
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "charge {:.3}s terms {} evals {} -> {:.2} ms/term",
        dt,
        p.terms(),
        r.evaluations,
        dt * 1e3 / p.terms() as f64
    );
    let t0 = Instant::now();
    p.sample(&[5.0]).unwrap();
    let t1 = t0.elapsed().as_secs_f64();
    println!("{} terms in {:.3}s", p.terms(), t1);
}
