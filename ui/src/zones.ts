// Heart-rate zones from max HR and the four upper bounds (% of max HR) in Settings.

export interface Zone {
  zone: number;
  loPct: number;
  hiPct: number;
  loBpm: number;
  hiBpm: number;
}

/** Zone 1 is drawn from this share of max HR: below it is not training. */
export const ZONE1_FLOOR_PCT = 50;

export function bpmAt(maxHr: number, pct: number): number {
  return Math.round((maxHr * pct) / 100);
}

/** Five zones: 1–4 end at `zonesPct`, zone 5 ends at max HR. */
export function zonesFromMaxHr(maxHr: number, zonesPct: readonly number[]): Zone[] {
  const bounds = [ZONE1_FLOOR_PCT, ...zonesPct.slice(0, 4), 100];
  const zones: Zone[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    zones.push({
      zone: i + 1,
      loPct: bounds[i],
      hiPct: bounds[i + 1],
      loBpm: bpmAt(maxHr, bounds[i]),
      hiBpm: bpmAt(maxHr, bounds[i + 1]),
    });
  }
  return zones;
}

/** The zone (1–5) a heart rate falls in, 0 below zone 1; a bound belongs to the zone it ends. */
export function zoneOf(hr: number, maxHr: number, zonesPct: readonly number[]): number {
  const zones = zonesFromMaxHr(maxHr, zonesPct);
  const pct = (100 * hr) / maxHr;
  if (pct < ZONE1_FLOOR_PCT) return 0;
  for (const z of zones) if (pct <= z.hiPct) return z.zone;
  return 5;
}
