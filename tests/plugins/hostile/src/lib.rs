//! A renderer that misbehaves on request. The mode is the `mode` key of the
//! values JSON; `ok` behaves. Each hostile mode must end in a clear host error.

wit_bindgen::generate!({
    path: "../../../wit",
    world: "renderer",
});

use exports::k0rdent::chart::render::{Guest, Manifest, RenderError, RenderInput, RenderOutput};
use k0rdent::chart::types::PluginInfo;

struct Hostile;

fn fail(message: String) -> Result<RenderOutput, RenderError> {
    Err(RenderError {
        template: None,
        line: None,
        column: None,
        message,
    })
}

fn mode_of(values_json: &str) -> String {
    // Just enough parsing for `{"mode":"<word>"}`: test inputs are ours.
    values_json
        .split("\"mode\"")
        .nth(1)
        .and_then(|rest| rest.split('"').nth(1))
        .unwrap_or("ok")
        .to_string()
}

fn one(content: String) -> Result<RenderOutput, RenderError> {
    Ok(RenderOutput {
        manifests: vec![Manifest {
            source: "hostile/templates/out.yaml".into(),
            content,
        }],
        notes: None,
    })
}

impl Guest for Hostile {
    fn info() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            charts: vec!["*".into()],
        }
    }

    fn render(input: RenderInput) -> Result<RenderOutput, RenderError> {
        match mode_of(&input.values_json).as_str() {
            "ok" => one(format!("release: {}\n", input.release.name)),
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "recurse" => one(format!("{}", recurse(std::hint::black_box(1)))),
            "panic" => panic!("hostile plugin panicked on purpose"),
            "oversize" => one("x".repeat(9 * 1024 * 1024)),
            "read-file" => match std::fs::read_to_string("/etc/hostname") {
                Ok(text) => one(format!("stolen: {text}")),
                Err(e) => fail(format!("read-file failed: {e}")),
            },
            "socket" => match std::net::TcpStream::connect("127.0.0.1:9") {
                Ok(_) => one("connected".into()),
                Err(e) => fail(format!("socket failed: {e}")),
            },
            "env" => {
                let all: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
                if all.is_empty() {
                    fail("env failed: no environment variables are visible".into())
                } else {
                    one(format!("stolen: {}", all.join(",")))
                }
            }
            "clock" => {
                let now = std::time::SystemTime::now();
                one(format!("time: {now:?}"))
            }
            "exit" => std::process::exit(3),
            other => fail(format!("unknown mode {other:?}")),
        }
    }
}

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let mut frame = [depth; 64];
    std::hint::black_box(&mut frame);
    recurse(depth + 1) + frame[0]
}

// Export symbols carry WIT names a native linker rejects; they only exist in the component.
#[cfg(target_family = "wasm")]
export!(Hostile);
