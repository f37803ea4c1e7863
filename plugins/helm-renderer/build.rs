//! Gives the wasm module an 8 MiB stack (Rust's default is 1 MiB): Helm allows
//! 1000 nested `include`s, and each level recurses through the executor. The
//! native engine gets the same headroom from a dedicated render thread.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_FAMILY").as_deref() == Ok("wasm") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=8388608");
    }
}
