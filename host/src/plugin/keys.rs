//! The renderer's `keys` import (`k0rdent:chart@0.4`): RSA keys generated
//! natively, where wasm takes seconds per key. The answer depends on the
//! plugin's arguments alone (see `rsa-keygen`), so the plugin stays a pure
//! function of its input; no file, network or clock comes with it.

use std::time::Instant;

use rsa_keygen::KeygenError;
use wasmtime::Trap;

use super::contract::renderer::k0rdent::chart::keys;

/// Keys one call may ask for. Sprig's certificate functions make one key
/// each; a chart needing more than this is far outside what charts do, and
/// each 4096-bit key costs hundreds of milliseconds.
pub const MAX_KEYS_PER_CALL: u32 = 16;

/// One call's key budget: how many keys it has had, and when its CPU budget
/// runs out (key generation runs outside wasm, where epochs do not reach).
pub struct KeyService {
    deadline: Instant,
    generated: u32,
}

impl KeyService {
    pub fn new(deadline: Instant) -> Self {
        KeyService {
            deadline,
            generated: 0,
        }
    }
}

impl keys::Host for KeyService {
    fn generate_rsa_key(
        &mut self,
        bits: u32,
        seed: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, String>> {
        if self.generated >= MAX_KEYS_PER_CALL {
            return Ok(Err(format!(
                "this render already generated {MAX_KEYS_PER_CALL} RSA keys, the most one \
                 render may; fix: generate fewer keys (one CA can sign many certificates)"
            )));
        }
        self.generated += 1;
        let deadline = self.deadline;
        match rsa_keygen::generate_pkcs1_der(bits, &seed, &|| Instant::now() >= deadline) {
            Ok(der) => Ok(Ok(der)),
            // Reported like any other overrun of the plugin's CPU budget.
            Err(KeygenError::Cancelled) => Err(Trap::Interrupt.into()),
            Err(refused) => Ok(Err(refused.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::keys::Host as _;
    use super::*;

    fn service() -> KeyService {
        KeyService::new(Instant::now() + Duration::from_secs(60))
    }

    #[test]
    fn refuses_keys_beyond_the_cap_naming_it() {
        let mut keys = service();
        keys.generated = MAX_KEYS_PER_CALL - 1;
        let last = keys.generate_rsa_key(1024, vec![1; 32]).unwrap();
        assert!(last.is_ok());
        let refused = keys.generate_rsa_key(1024, vec![1; 32]).unwrap();
        let message = refused.unwrap_err();
        assert!(message.contains("16 RSA keys"), "{message}");
    }

    #[test]
    fn bad_arguments_are_answers_not_traps() {
        let mut keys = service();
        let message = keys
            .generate_rsa_key(512, vec![1; 32])
            .unwrap()
            .unwrap_err();
        assert!(message.contains("512 bits"), "{message}");
        let message = keys
            .generate_rsa_key(2048, vec![1; 3])
            .unwrap()
            .unwrap_err();
        assert!(message.contains("got 3"), "{message}");
    }

    #[test]
    fn an_exhausted_cpu_budget_traps_as_an_interrupt() {
        let mut keys = KeyService::new(Instant::now());
        let err = keys.generate_rsa_key(4096, vec![1; 32]).unwrap_err();
        assert!(matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)));
    }
}
