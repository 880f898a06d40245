//! The hybrid logical clock (Kulkarni et al., 2014) that orders edits of the editable records: wall-clock
//! milliseconds, a counter for edits within one millisecond or behind a faster clock, and the device id as
//! the final tie-break, so any two stamps from different devices are ordered and every device agrees.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// A device's id as the server assigned it (a UUID in its text form). Ordered by its text: the HLC's
/// tie-break.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(pub String);

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One stamp of the hybrid logical clock. Ordered by `(wall_ms, counter, device)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hlc {
    /// The largest wall-clock time (Unix ms) the stamping device had seen.
    pub wall_ms: i64,
    /// Edits at the same `wall_ms`, counted.
    pub counter: u32,
    /// The device that stamped it.
    pub device: DeviceId,
}

impl Ord for Hlc {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.wall_ms, self.counter, &self.device).cmp(&(other.wall_ms, other.counter, &other.device))
    }
}

impl PartialOrd for Hlc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hlc {
    /// The stamp of a local edit at wall time `now_ms` on `device`, after the last stamp `last` this device
    /// issued or received: never behind `last`, so a clock stepped backwards cannot make an edit lose to an
    /// older one.
    pub fn tick(last: Option<&Hlc>, now_ms: i64, device: &DeviceId) -> Hlc {
        match last {
            Some(last) if last.wall_ms >= now_ms => Hlc {
                wall_ms: last.wall_ms,
                counter: last.counter.saturating_add(1),
                device: device.clone(),
            },
            _ => Hlc {
                wall_ms: now_ms,
                counter: 0,
                device: device.clone(),
            },
        }
    }

    /// The clock state after receiving `remote` (a pulled edit) at wall time `now_ms`: the next local
    /// [`Hlc::tick`] is then after both.
    pub fn observe(last: Option<&Hlc>, remote: &Hlc, now_ms: i64, device: &DeviceId) -> Hlc {
        let base = match last {
            Some(last) if last >= remote => last.clone(),
            _ => remote.clone(),
        };
        Hlc::tick(Some(&base), now_ms, device)
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}@{}", self.wall_ms, self.counter, self.device)
    }
}
