//! A renderer built against `k0rdent:chart@0.5.0`, which this host must refuse
//! (it supports 0.4 and still loads 0.3, 0.2 and 0.1).

wit_bindgen::generate!({
    path: "wit",
    world: "renderer",
});

struct Future;

impl exports::k0rdent::chart::render::Guest for Future {
    fn info() -> String {
        "future-contract".into()
    }
}

// Export symbols carry WIT names a native linker rejects; they only exist in the component.
#[cfg(target_family = "wasm")]
export!(Future);
