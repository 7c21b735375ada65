const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
  y: 31557600,
  yr: 31557600,
  yrs: 31557600,
  year: 31557600,
  years: 31557600,
};

/** A length of time: seconds, or a string such as `"30s"`, `"15m"`, `"1 day"`. */
export type Duration = number | string;

/** Whole seconds of a {@link Duration}, or `undefined` when it cannot be read or is negative. */
export function toSeconds(duration: Duration): number | undefined {
  if (typeof duration === 'number') {
    return Number.isFinite(duration) && duration >= 0 ? duration : undefined;
  }
  const match = /^(\d+(?:\.\d+)?) ?([a-z]+)$/i.exec(duration.trim());
  if (match === null) return undefined;
  const unit = UNITS[match[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}
