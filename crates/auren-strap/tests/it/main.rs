//! Integration tests of auren-strap (one binary for the crate): simulator physiology and determinism,
//! replay and record round trips, and BLE against a fake BlueZ on a private D-Bus bus.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod ble;
mod fake_bluez;
mod hrv;
mod properties;
mod replay;
mod simulator;
