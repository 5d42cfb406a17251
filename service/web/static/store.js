// What several screens share: the networks' rules, the user's accounts and time zone.

import { api } from "./api.js";

const ZONE_KEY = "handpost.timeZone";

let networks = null; // Map network -> NetworkInfo
let accounts = null; // Account[]
let strategy = null; // the user's strategy: goals, networks, review dates, advice

export async function loadNetworks() {
  if (!networks) {
    const { data } = await api("/networks");
    networks = new Map(data.map((n) => [n.network, n]));
  }
  return networks;
}

export function networkInfo(network) {
  return networks?.get(network) ?? { network, display_name: network, visibilities: ["public"] };
}

export function networkName(network) {
  return networkInfo(network).display_name;
}

export async function loadAccounts({ fresh = false } = {}) {
  if (!accounts || fresh) {
    const { data } = await api("/accounts");
    accounts = data;
  }
  return accounts;
}

/** Accounts the user may write for: the active ones (inactive ones keep their history). */
export function activeAccounts(list = accounts ?? []) {
  return list.filter((a) => a.active !== false);
}

export async function loadStrategy({ fresh = false } = {}) {
  if (!strategy || fresh) {
    const { data } = await api("/strategy");
    strategy = data;
  }
  return strategy;
}

/** Keep the answer of a strategy write (PATCH, review), which returns the whole strategy. */
export function setStrategy(value) {
  strategy = value;
  return strategy;
}

export function accountById(id) {
  return accounts?.find((a) => a.id === id) ?? null;
}

export function accountLabel(account) {
  if (!account) return "Removed account";
  const name = account.display_name || account.handle;
  return `${networkName(account.network)} · ${name}`;
}

export function forgetAll() {
  networks = null;
  accounts = null;
  strategy = null;
}

// The browser's zone unless the user picked another one; kept across visits.
export function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function preferredTimeZone() {
  return localStorage.getItem(ZONE_KEY) || browserTimeZone();
}

export function setPreferredTimeZone(zone) {
  localStorage.setItem(ZONE_KEY, zone);
}

const COMMON_ZONES = [
  "UTC",
  "Europe/London",
  "Europe/Dublin",
  "Europe/Lisbon",
  "Europe/Paris",
  "Europe/Berlin",
  "Europe/Madrid",
  "Europe/Rome",
  "Europe/Amsterdam",
  "Europe/Stockholm",
  "Europe/Oslo",
  "Europe/Copenhagen",
  "Europe/Warsaw",
  "Europe/Helsinki",
  "Europe/Tallinn",
  "Europe/Athens",
  "Europe/Kyiv",
  "Europe/Istanbul",
  "Africa/Lagos",
  "Africa/Johannesburg",
  "Africa/Nairobi",
  "Asia/Dubai",
  "Asia/Kolkata",
  "Asia/Singapore",
  "Asia/Shanghai",
  "Asia/Tokyo",
  "Asia/Seoul",
  "Australia/Perth",
  "Australia/Sydney",
  "Pacific/Auckland",
  "America/St_Johns",
  "America/Halifax",
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Phoenix",
  "America/Los_Angeles",
  "America/Anchorage",
  "Pacific/Honolulu",
  "America/Mexico_City",
  "America/Bogota",
  "America/Sao_Paulo",
  "America/Argentina/Buenos_Aires",
];

/** Common zones, plus the browser's and any `extra` (a post's own zone), without repeats. */
export function zoneChoices(...extra) {
  const zones = new Set([browserTimeZone(), ...extra.filter(Boolean), ...COMMON_ZONES]);
  return [...zones];
}
