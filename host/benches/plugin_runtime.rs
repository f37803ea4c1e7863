//! Prices the plugin runtime: compile vs cached load, instantiation, and the
//! cost of a trivial call on a fresh instance vs a reused one.
//!
//! `cargo bench -p k0rdent-mcp --bench plugin_runtime` prints one line per
//! figure. Targets (issue #2): cached load ≤ 1 ms, fresh-instance call ≤ 100 µs.

use std::path::PathBuf;
use std::time::Instant;

use k0rdent_mcp::plugin::manifest::{self, PluginSource, sha256_hex};
use k0rdent_mcp::plugin::{HostOptions, Limits, PluginHost, embedded};
use k0rdent_test_harness::bench::{median, ms, us};

fn main() {
    let mut sources: Vec<PluginSource> = embedded::sources();
    let test_dir = PathBuf::from(env!("K0RDENT_MCP_TEST_PLUGIN_DIR"));
    sources.push(manifest::read_plugin(&test_dir.join("hostile-plugin.plugin.json")).unwrap());

    println!(
        "plugin runtime benchmark (wasmtime {})",
        k0rdent_mcp::plugin::compiled_cache::WASMTIME_VERSION
    );
    for source in &sources {
        bench_plugin(source);
    }
}

fn bench_plugin(source: &PluginSource) {
    let name = &source.manifest.name;
    let kib = source.bytes.len() / 1024;
    let cache = tempfile::tempdir().unwrap();
    let options = HostOptions {
        limits: Limits::default(),
        cache_dir: Some(cache.path().join("plugins")),
    };

    let digest = median(21, || {
        let started = Instant::now();
        std::hint::black_box(sha256_hex(&source.bytes));
        started.elapsed()
    });

    // Cold: compile and write the cache entry.
    let host = PluginHost::new(options.clone()).unwrap();
    let cold = host.load(source).unwrap();
    let compile = cold.compile_time();

    // Warm: a new host (so nothing is in memory) loading from the cache.
    let cached = median(11, || {
        let host = PluginHost::new(options.clone()).unwrap();
        let plugin = host.load(source).unwrap();
        assert_eq!(
            plugin.cache_outcome(),
            k0rdent_mcp::plugin::compiled_cache::CacheOutcome::Hit
        );
        plugin.compile_time()
    });

    let fresh_call = median(2001, || {
        let started = Instant::now();
        cold.call_info().unwrap();
        started.elapsed()
    });

    let reused_calls = 10_000;
    let reused =
        median(5, || cold.time_calls_on_one_instance(reused_calls).unwrap()) / reused_calls;

    println!("{name} ({kib} KiB component):");
    println!(
        "  digest check (sha256)              {:>10.3} ms",
        ms(digest)
    );
    println!(
        "  cold load (compile)                {:>10.3} ms",
        ms(compile)
    );
    println!(
        "  cached load (deserialize)          {:>10.3} ms   target <= 1 ms",
        ms(cached)
    );
    println!(
        "  fresh instance + trivial call      {:>10.1} us   target <= 100 us",
        us(fresh_call)
    );
    println!(
        "  trivial call on a reused instance  {:>10.2} us",
        us(reused)
    );
}
