// Dates, durations and words, shown in the user's time zone.

export function formatDateTime(iso, timeZone, { seconds = false } = {}) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    second: seconds ? "2-digit" : undefined,
  }).format(new Date(iso));
}

/** A calendar date, e.g. "Sun 23 May 2027", for dates where the hour does not matter. */
export function formatDate(iso, timeZone) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "long",
    year: "numeric",
  }).format(new Date(iso));
}

export function formatTime(iso, timeZone) {
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(iso));
}

/** "2026-12-01" for the calendar day of an instant in a zone: the queue groups by it. */
export function dayKey(date, timeZone) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

export function formatDay(key) {
  // Noon UTC keeps the label on the same calendar day in every zone.
  const date = new Date(`${key}T12:00:00Z`);
  return new Intl.DateTimeFormat(undefined, {
    timeZone: "UTC",
    weekday: "long",
    day: "numeric",
    month: "long",
  }).format(date);
}

/** The value a datetime-local input shows for an instant, as the wall clock in `timeZone`. */
export function toLocalInput(iso, timeZone) {
  if (!iso) return "";
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const get = (type) => parts.find((p) => p.type === type).value;
  const secs = get("second") === "00" ? "" : `:${get("second")}`;
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}${secs}`;
}

/** The API's local_time: "2026-12-01T07:30:00" from a datetime-local value. */
export function toLocalTime(inputValue) {
  if (!inputValue) return null;
  return inputValue.length === 16 ? `${inputValue}:00` : inputValue;
}

export function formatDuration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60 ? `${s % 60} s` : ""}`.trim();
  const hours = Math.floor(m / 60);
  return `${hours} h ${m % 60 ? `${m % 60} min` : ""}`.trim();
}

/** Lateness in words: a couple of seconds is on time for a scheduler that polls. */
export function formatLateness(ms) {
  if (ms < 5000) return "On time";
  return `${formatDuration(ms)} late`;
}

export function snippet(text, max = 60) {
  const flat = (text || "").replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  // End on a whole word when one is near, so "release cycle fr…" reads "release cycle…".
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:!?-]+$/, "")}…`;
}

export function percent(fraction) {
  return `${Math.round(fraction * 100)}%`;
}

export function capitalise(word) {
  return word ? word[0].toUpperCase() + word.slice(1) : word;
}
