//! What the generators share: the options of `report generate`, the objects they make, a seeded
//! random number generator and Go's JSON encoding. Each format's generator is its module's
//! `generate` submodule; the same options and seed give the same bytes.

use std::io::Write;

use serde_json::Value;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub sessions: usize,
    pub seed: u64,
    /// First day, as days since 1970-01-01.
    pub start_day: i64,
    pub days: i64,
    /// Share of objects stored plain instead of gzipped.
    pub plain_share: f64,
    /// Abacus: the `applicationId` the sessions carry (and their keys' `v1/<id>/`); Batect's
    /// when `None`.
    pub application_id: Option<String>,
    /// Abacus: the session attributes to send, as the user's attribute schema has them
    /// (values of Batect's model where a name matches, others made up by type); Batect's
    /// when `None`.
    pub session_attributes: Option<crate::formats::abacus::tables::AttributeSchema>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sessions: 2400,
            seed: 1,
            // 2023-05-01
            start_day: 19_478,
            days: 120,
            plain_share: 0.1,
            application_id: None,
            session_attributes: None,
        }
    }
}

/// One object: its key and its bytes as the bucket holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub bytes: Vec<u8>,
}

/// SplitMix64: tiny, fast, and the same on every platform and version.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.f64().max(1e-12), self.f64());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    /// Log-normal with the given median and spread (sigma of the log).
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }
    pub fn pick<T: Copy>(&mut self, weighted: &[(T, f64)]) -> T {
        let total: f64 = weighted.iter().map(|(_, w)| w).sum();
        let mut x = self.f64() * total;
        for (item, w) in weighted {
            if x < *w {
                return *item;
            }
            x -= w;
        }
        weighted[weighted.len() - 1].0
    }
    /// A lowercase version 4 UUID.
    pub fn uuid4(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

/// Serialises like Go's `json.Marshal`: compact, `<` `>` `&` escaped.
pub fn go_json(v: &Value) -> String {
    serde_json::to_string(v)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Gzip with mtime 0 and no file name.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    // GzEncoder writes mtime 0 and no file name: the bytes depend on the input only.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}
