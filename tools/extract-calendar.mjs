#!/usr/bin/env node
// Extracts China's official working calendar (State Council holiday notices, 2004–2026) and the
// festival dates the provisional rule needs from the npm package `chinese-days` into
// crates/fengqiao-domain/data/:
//
//   calendar-cn.csv   `date,kind,name`, one row per published override, sorted by date:
//                     kind `holiday` = a day off (放假) inside an official holiday period that
//                     falls on a Monday–Friday, i.e. a day that would otherwise be a working day;
//                     kind `workday` = a make-up working day (调休上班) on a Saturday or Sunday.
//                     Weekend days inside a holiday period get no row: they are off anyway, and
//                     the package lists them inconsistently (2011-06-05, between the Dragon Boat
//                     days 06-04 and 06-06, is missing, for one). `name` is the holiday's Chinese
//                     name (for a make-up day: the holiday it makes up for).
//   festivals-cn.csv  `year,lunar_new_year,qingming,dragon_boat,mid_autumn`, 2004–2060: the
//                     Gregorian dates of lunar 1/1, the Qingming solar term, lunar 5/5 and lunar
//                     8/15, from the package's lunar-calendar and solar-term tables.
//
// How to regenerate (from the workspace root):
//
//   mkdir -p /tmp/cdays && (cd /tmp/cdays && npm init -y && npm install chinese-days@1.5.7)
//   node tools/extract-calendar.mjs /tmp/cdays/node_modules/chinese-days
//
// The second, independent source for the tests is tools/extract-calendar-check.py.
// Usage: node tools/extract-calendar.mjs <path-to-chinese-days> [output-dir]

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const FIRST_YEAR = 2004;
const LAST_YEAR = 2026;
const FESTIVALS_FIRST_YEAR = 2004;
const FESTIVALS_LAST_YEAR = 2060;

function fail(message) {
  console.error(`extract-calendar: ${message}`);
  process.exit(1);
}

const [packageDir, outArg] = process.argv.slice(2);
if (!packageDir) {
  fail('usage: node tools/extract-calendar.mjs <path-to-chinese-days> [output-dir]');
}
const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = outArg ?? path.join(here, '..', 'crates', 'fengqiao-domain', 'data');

const require = createRequire(import.meta.url);
const pkgDir = path.resolve(packageDir);
const pkgJson = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const data = JSON.parse(fs.readFileSync(path.join(pkgDir, 'dist', 'chinese-days.json'), 'utf8'));
const lib = require(pkgDir);

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function weekday(date) {
  // 0 = Sunday … 6 = Saturday.
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

// The package's values read `English name,中文名,days`; keep the Chinese name.
function chineseName(date, value) {
  const parts = String(value).split(',');
  if (parts.length !== 3 || !parts[1]) {
    fail(`${date}: unexpected value ${JSON.stringify(value)}`);
  }
  const name = parts[1].trim();
  if (/[",\r\n]/.test(name)) {
    fail(`${date}: name ${JSON.stringify(name)} would need CSV quoting`);
  }
  return name;
}

function inRange(date) {
  const m = DATE_RE.exec(date);
  if (!m) {
    fail(`malformed date ${JSON.stringify(date)}`);
  }
  const year = Number(m[1]);
  return year >= FIRST_YEAR && year <= LAST_YEAR;
}

const rows = [];
const seen = new Map();
const yearsSeen = new Set();
for (const [kind, table] of [
  ['holiday', data.holidays],
  ['workday', data.workdays],
]) {
  if (!table || typeof table !== 'object') {
    fail(`chinese-days.json has no "${kind}s" table`);
  }
  for (const [date, value] of Object.entries(table)) {
    if (!inRange(date)) {
      continue;
    }
    if (seen.has(date)) {
      fail(`${date} is both ${seen.get(date)} and ${kind}`);
    }
    const dow = weekday(date);
    const weekend = dow === 0 || dow === 6;
    if (kind === 'workday' && !weekend) {
      fail(`${date}: a make-up working day that is not on a weekend`);
    }
    if (kind === 'holiday' && weekend) {
      // Off anyway; see the header comment.
      continue;
    }
    seen.set(date, kind);
    yearsSeen.add(Number(date.slice(0, 4)));
    rows.push({ date, kind, name: chineseName(date, value) });
  }
}
for (let y = FIRST_YEAR; y <= LAST_YEAR; y++) {
  if (!yearsSeen.has(y)) {
    fail(`no holiday data for ${y}`);
  }
}
rows.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));

const calendarLines = ['date,kind,name', ...rows.map((r) => `${r.date},${r.kind},${r.name}`)];

// Festival dates by the package's lunar and solar-term tables.
function solarFromLunar(year, month, day) {
  const lunar = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  const { date } = lib.getSolarDateFromLunar(lunar);
  if (!DATE_RE.test(date ?? '')) {
    fail(`lunar ${lunar} has no Gregorian date`);
  }
  // Cross-check the conversion the other way.
  const back = lib.getLunarDate(date);
  if (back.lunarYear !== year || back.lunarMon !== month || back.lunarDay !== day || back.isLeap) {
    fail(`lunar ${lunar} -> ${date} does not convert back`);
  }
  return date;
}

function qingming(year) {
  const terms = lib
    .getSolarTerms(`${year}-04-01`, `${year}-04-10`)
    .filter((t) => t.term === 'pure_brightness');
  if (terms.length !== 1) {
    fail(`${year}: expected one Qingming term in early April, found ${terms.length}`);
  }
  return terms[0].date;
}

const festivalLines = [
  `# Gregorian dates of lunar New Year (1/1), the Qingming solar term, Dragon Boat (lunar 5/5) and`,
  `# Mid-Autumn (lunar 8/15), ${FESTIVALS_FIRST_YEAR}–${FESTIVALS_LAST_YEAR}, China Standard Time (UTC+08:00).`,
  `# Facts from the lunar-calendar and solar-term tables of npm chinese-days ${pkgJson.version};`,
  `# written by tools/extract-calendar.mjs, cross-checked by tools/extract-calendar-check.py.`,
  'year,lunar_new_year,qingming,dragon_boat,mid_autumn',
];
for (let y = FESTIVALS_FIRST_YEAR; y <= FESTIVALS_LAST_YEAR; y++) {
  festivalLines.push(
    [y, solarFromLunar(y, 1, 1), qingming(y), solarFromLunar(y, 5, 5), solarFromLunar(y, 8, 15)].join(','),
  );
}

fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'calendar-cn.csv'), `${calendarLines.join('\n')}\n`);
fs.writeFileSync(path.join(outDir, 'festivals-cn.csv'), `${festivalLines.join('\n')}\n`);
console.error(
  `extract-calendar: chinese-days ${pkgJson.version}: ${rows.length} calendar rows ` +
    `(${rows.filter((r) => r.kind === 'holiday').length} holiday, ` +
    `${rows.filter((r) => r.kind === 'workday').length} workday), ` +
    `${festivalLines.length - 5} festival years -> ${outDir}`,
);
