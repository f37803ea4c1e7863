//! The engine's only clock reads (the record types take times as values).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::release::HelmTime;

pub fn now() -> HelmTime {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    HelmTime::from_unix(d.as_secs() as i64, d.subsec_nanos())
}

pub fn unix_now() -> i64 {
    now().unix_seconds()
}
