//! Float belief propagation (flooding sum-product, tanh rule): the oracle the integer
//! decoder is compared with in tests. Slow and allocating; not for the data path.

use super::LdpcCode;

/// Decodes `llrs` (the [`LdpcCode::tx_len`] transmitted LLRs, positive = bit 0) with at
/// most `max_iterations` flooding iterations; returns the `n` hard bits (one per byte) and
/// whether they satisfy every check, and the iterations run.
pub fn decode_bp(code: &LdpcCode, llrs: &[f32], max_iterations: u32) -> (Vec<u8>, bool, u32) {
    let n = code.n();
    let mut ch = vec![0f64; n];
    for (c, &x) in ch.iter_mut().zip(llrs) {
        *c = if x.is_finite() { f64::from(x) } else { 0.0 };
    }
    let e = code.edges();
    let mut r = vec![0f64; e];
    let mut post = ch.clone();
    let mut hard = vec![0u8; n];
    let mut tanhs = Vec::new();
    for it in 1..=max_iterations {
        // check nodes: R_e = 2 atanh(prod_{e' != e} tanh((post_v - R_e') / 2))
        let mut new_post = ch.clone();
        for row in 0..code.checks() {
            let s = code.row_start[row] as usize;
            let cols = code.row(row);
            tanhs.clear();
            for (j, &v) in cols.iter().enumerate() {
                tanhs.push(((post[v as usize] - r[s + j]) / 2.0).tanh());
            }
            for (j, &v) in cols.iter().enumerate() {
                let mut p = 1.0f64;
                for (i, &t) in tanhs.iter().enumerate() {
                    if i != j {
                        p *= t;
                    }
                }
                let p = p.clamp(-0.999_999_999_999, 0.999_999_999_999);
                r[s + j] = 2.0 * p.atanh();
                new_post[v as usize] += r[s + j];
            }
        }
        post = new_post;
        for (h, &p) in hard.iter_mut().zip(&post) {
            *h = u8::from(p < 0.0);
        }
        if code.syndrome_weight(&hard) == 0 {
            return (hard, true, it);
        }
    }
    (hard, false, max_iterations)
}
