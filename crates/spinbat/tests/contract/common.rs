//! Helpers shared by the contract tests.
#![allow(dead_code)]

use serde_json::Value;
use spinbat::model::parse_matrix;
use spinbat::{Boundary, Chain, Couplings, WorkSample};

/// `n + 1` equally spaced times on `[0, t_max]`.
pub fn grid(t_max: f64, n: usize) -> Vec<f64> {
    (0..=n).map(|k| t_max * k as f64 / n as f64).collect()
}

/// The largest `|ΔW|` and relative `|ΔW'|/(1 + |W'_b|)` between two runs on the same times.
pub fn max_diffs(a: &[WorkSample], b: &[WorkSample]) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold((0.0f64, 0.0f64), |(dw, dr), (x, y)| {
        assert_eq!(x.t, y.t);
        (dw.max((x.work - y.work).abs()), dr.max((x.rate - y.rate).abs() / (1.0 + y.rate.abs())))
    })
}

/// A tiny deterministic generator (SplitMix64) so random chains are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A random chain with `N` sites: random α, B, g, ω, coupling kind, p and boundary.
pub fn random_chain(rng: &mut Rng, n: usize) -> Chain {
    let couplings =
        if rng.below(2) == 0 { Couplings::NearestNeighbour } else { Couplings::PowerLaw { p: rng.uniform(0.0, 3.0) } };
    let boundary = if rng.below(2) == 0 { Boundary::Open } else { Boundary::Periodic };
    Chain::builder(n)
        .alpha(rng.uniform(-1.0, 1.5))
        .b(rng.uniform(0.5, 2.0))
        .g(rng.uniform(0.0, 2.0))
        .omega(rng.uniform(0.5, 5.0))
        .couplings(couplings)
        .boundary(boundary)
        .build()
        .expect("valid random chain")
}

/// An outside oracle's JSON file (`tests/data/*_reference.json`, written by
/// `scripts/reference`): its text, and where it differs from the other oracle's file.
pub struct OracleFile {
    /// File name, for messages.
    pub name: &'static str,
    pub text: &'static str,
    /// Keys of the oracle's stated accuracy on `W` and on `W'` in each case.
    pub diff_keys: (&'static str, &'static str),
    /// The coupling-matrix files its cases may name (`"matrix_file"`), with their text.
    pub matrices: &'static [(&'static str, &'static str)],
}

/// One case of an oracle: the chain and the reference values at its times.
pub struct OracleCase {
    pub label: String,
    /// The code that computed it (`qutip`, `quspin`) where the file says.
    pub primary: Option<String>,
    pub chain: Chain,
    pub times: Vec<f64>,
    /// `W(t)` and `W'(t)` at `times`.
    pub work: Vec<f64>,
    pub rate: Vec<f64>,
    /// `<psi0|H0|psi0>`.
    pub e0: f64,
    /// The oracle's stated accuracy: the largest disagreement of its two computations on
    /// `W` and on `W'`.
    pub diff_work: f64,
    pub diff_rate: f64,
    pub max_power: Option<OracleMaxPower>,
}

/// The oracle's certified maximal power.
pub struct OracleMaxPower {
    pub power: f64,
    pub time: f64,
    pub work: f64,
    /// `W''(T*)` where the file gives it (`second_derivative_work`).
    pub w2: Option<f64>,
}

impl OracleFile {
    /// The whole file as JSON (for its header: versions, date).
    pub fn document(&self) -> Value {
        serde_json::from_str(self.text).unwrap_or_else(|e| panic!("tests/data/{} is not valid JSON: {e}", self.name))
    }

    /// Every case, read strictly: a missing or mistyped field panics with the file, the
    /// case and the field.
    pub fn cases(&self) -> Vec<OracleCase> {
        let doc = self.document();
        doc["cases"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no `cases` array", self.name))
            .iter()
            .map(|c| self.case(c))
            .collect()
    }

    fn case(&self, c: &Value) -> OracleCase {
        let label = c["label"].as_str().unwrap_or("?").to_string();
        let num = |v: &Value, key: &str| -> f64 {
            v[key]
                .as_f64()
                .unwrap_or_else(|| panic!("{}, case {label:?}: field {key:?} missing or not a number", self.name))
        };
        let nums = |key: &str| -> Vec<f64> {
            c[key]
                .as_array()
                .unwrap_or_else(|| panic!("{}, case {label:?}: field {key:?} missing or not an array", self.name))
                .iter()
                .map(|x| x.as_f64().expect("number"))
                .collect()
        };
        let n = c["n_sites"].as_u64().expect("n_sites") as usize;
        let couplings = match c["coupling"].as_str() {
            Some("nearest-neighbour") => Couplings::NearestNeighbour,
            Some("power-law") => Couplings::PowerLaw { p: num(c, "p") },
            Some("matrix") => {
                let name = c["matrix_file"].as_str().expect("matrix_file");
                let text = self
                    .matrices
                    .iter()
                    .find(|(file, _)| *file == name)
                    .unwrap_or_else(|| panic!("{} names an unknown matrix file {name:?}", self.name))
                    .1;
                Couplings::Matrix { m: parse_matrix(text).expect("matrix file parses") }
            }
            other => panic!("case {label:?}: unknown coupling {other:?}"),
        };
        let boundary = match c["boundary"].as_str() {
            Some("open") => Boundary::Open,
            Some("periodic") => Boundary::Periodic,
            other => panic!("case {label:?}: unknown boundary {other:?}"),
        };
        let chain = Chain::builder(n)
            .b(num(c, "b"))
            .g(num(c, "g"))
            .alpha(num(c, "alpha"))
            .omega(num(c, "omega"))
            .couplings(couplings)
            .boundary(boundary)
            .build()
            .unwrap_or_else(|e| panic!("case {label:?}: chain does not build: {e}"));
        let max_power = c.get("max_power").filter(|m| !m.is_null()).map(|m| OracleMaxPower {
            power: num(m, "power"),
            time: num(m, "time"),
            work: num(m, "work"),
            w2: m.get("second_derivative_work").map(|_| num(m, "second_derivative_work")),
        });
        OracleCase {
            primary: c.get("primary").map(|p| p.as_str().unwrap_or("?").to_string()),
            chain,
            times: nums("times"),
            work: nums("work"),
            rate: nums("rate"),
            e0: num(c, "e0"),
            diff_work: num(c, self.diff_keys.0),
            diff_rate: num(c, self.diff_keys.1),
            max_power,
            label,
        }
    }
}

/// The chain of a case of `tests/data/noise_reference.json` (`n_sites`, `coupling` `nn` or
/// `power-law` with `p`, `alpha`, `g`, `omega`, `b`), its `E_0` checked against the file's.
pub fn noise_case_chain(case: &Value) -> Chain {
    let couplings = match case["coupling"].as_str().unwrap() {
        "nn" => Couplings::NearestNeighbour,
        // one spin: no couplings, the kind does not matter
        _ => case["p"].as_f64().map_or(Couplings::NearestNeighbour, |p| Couplings::PowerLaw { p }),
    };
    let chain = Chain::builder(case["n_sites"].as_u64().unwrap() as usize)
        .couplings(couplings)
        .alpha(case["alpha"].as_f64().unwrap())
        .g(case["g"].as_f64().unwrap())
        .omega(case["omega"].as_f64().unwrap())
        .b(case["b"].as_f64().unwrap())
        .build()
        .unwrap();
    assert!((chain.initial_energy() - case["e0"].as_f64().unwrap()).abs() < 1e-12, "{}", case["name"]);
    chain
}

/// The noise of a case of `tests/data/noise_reference.json`.
pub fn noise_case_noise(v: &Value) -> spinbat::open::Noise {
    spinbat::open::Noise {
        dephasing: v["dephasing"].as_f64().unwrap(),
        decay: v["decay"].as_f64().unwrap(),
        temperature: v["temperature"].as_f64(),
        collective_decay: v["collective_decay"].as_f64().unwrap(),
    }
}
