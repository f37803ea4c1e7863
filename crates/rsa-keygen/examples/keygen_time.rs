//! `cargo run --release -p rsa-keygen --example keygen_time [BITS] [KEYS]`: wall time of each
//! key, for the figures in docs/template-engine.md.

fn main() {
    let mut args = std::env::args().skip(1);
    let bits: u32 = args.next().map_or(2048, |a| a.parse().expect("BITS"));
    let keys: u8 = args.next().map_or(20, |a| a.parse().expect("KEYS"));
    let mut times = Vec::new();
    for i in 0..keys {
        let started = std::time::Instant::now();
        rsa_keygen::generate_pkcs1_der(bits, &[i; 32], &|| false).expect("generates");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "{bits}-bit keys: {keys}, median {:.1} ms, mean {mean:.1} ms, min {:.1} ms, max {:.1} ms",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
}
