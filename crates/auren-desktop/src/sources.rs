//! The heart sources a live session can read: a strap over Bluetooth or the built-in simulator, and the
//! label each carries wherever its data appears.

use auren_strap::HeartSource;
use auren_strap::ble::{BleConfig, BleStrap};
use auren_strap::simulator::{Scenario, Simulator, SimulatorConfig};
use auren_strap::{Pace, Speed};

use crate::dto::{ScenarioDto, SourceChoiceDto};
use crate::error::DesktopError;

/// Fastest simulator speed offered: an hour of beats in a minute.
pub const MAX_SIMULATOR_SPEED: f64 = 60.0;

/// A heart source for `choice`, and whether it is the simulator.
pub(crate) fn open(
    choice: &SourceChoiceDto,
    seed: u64,
) -> Result<(Box<dyn HeartSource>, bool), DesktopError> {
    match choice {
        SourceChoiceDto::Strap { address, .. } => {
            let strap = BleStrap::new(BleConfig::new(address.clone()))?;
            Ok((Box::new(strap), false))
        }
        SourceChoiceDto::Simulator { scenario, speed } => {
            if !(1.0..=MAX_SIMULATOR_SPEED).contains(speed) {
                return Err(DesktopError::InvalidInput(format!(
                    "simulator speed {speed} is outside 1–{MAX_SIMULATOR_SPEED}"
                )));
            }
            let mut config = SimulatorConfig::new(scenario_of(*scenario), seed);
            config.pace = if *speed == 1.0 {
                Pace::RealTime
            } else {
                Pace::Speed(Speed::new(*speed)?)
            };
            let simulator = Simulator::new(config)?;
            Ok((Box::new(simulator), true))
        }
    }
}

fn scenario_of(s: ScenarioDto) -> Scenario {
    match s {
        ScenarioDto::Rest => Scenario::Rest,
        ScenarioDto::Fatigued => Scenario::Fatigued,
        ScenarioDto::Exercise => Scenario::Exercise,
        ScenarioDto::Breathing => Scenario::Breathing,
    }
}

/// What the session list and the live header show as the source: the simulator is always called
/// "Simulated strap", so its data is never mistaken for a real heart's.
pub(crate) fn label(choice: &SourceChoiceDto) -> String {
    match choice {
        SourceChoiceDto::Strap { address, name } => format!("strap {name} ({address})"),
        SourceChoiceDto::Simulator { scenario, speed } => {
            let scenario = scenario_of(*scenario);
            if *speed == 1.0 {
                format!("Simulated strap — {scenario}")
            } else {
                format!("Simulated strap — {scenario}, {speed}× speed")
            }
        }
    }
}
