//! Generated grid polygons for the demo's real villages.
//!
//! The statistical division data has no geometry, so the demo draws its own: a town's villages are laid out
//! as a roughly round blob of lattice cells (about [`CELL_SIZE_M`] on a side) around the town seat, the
//! village with the lowest code (usually the seat's community) in the middle. Lattice vertices and the
//! points along each lattice edge are jittered, deterministically from the town code, so borders look
//! organic while neighbouring cells still share their edges exactly (both sides use the very same points).
//! Each village's cell is split into 1–3 basic grids (基础网格), and each town gets two small dedicated
//! grids (专属网格) — its central primary school and an industrial park or market — inside basic grids of
//! the seat village.
//!
//! Codes follow the design: a grid's code is its village's 12-digit code plus three digits, `001`… for
//! basic grids and `801`, `802` for dedicated ones. Shapes are WGS-84 longitude/latitude; every polygon is
//! valid (no self-intersection), closed, counter-clockwise, with 8–40 vertices. Pure computation: the
//! same input always gives the same output.

use std::collections::BTreeSet;

use geo::{
    Area, Centroid, Contains, Coord, InteriorPoint, LineString, MultiPolygon, Polygon, Validation,
    Winding,
};

use crate::index::{GridKind, GridShape};

/// Side of one village's lattice cell, in metres.
pub const CELL_SIZE_M: f64 = 1200.0;

/// A real village (or community) of a demo town, as listed in the statistical division data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoVillage {
    /// 12-digit statistical code.
    pub code: String,
    /// Official name, e.g. `庄里村民委员会`.
    pub name: String,
}

/// One generated grid: a basic grid of a village or a dedicated grid inside one.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoGridPlan {
    /// 15-digit grid code: the village code plus three digits.
    pub code: String,
    /// The 12-digit code of the village the grid belongs to.
    pub village_code: String,
    /// Display name, e.g. `庄里村第1网格` or `太平镇中心小学`.
    pub name: String,
    /// Basic or dedicated.
    pub kind: GridKind,
    /// The grid's area, WGS-84 longitude/latitude, one counter-clockwise polygon without holes.
    pub shape: MultiPolygon<f64>,
}

impl DemoGridPlan {
    /// The grid as the point-to-grid index takes it.
    pub fn to_grid_shape(&self) -> GridShape {
        GridShape {
            code: self.code.clone(),
            kind: self.kind,
            shape: self.shape.clone(),
        }
    }
}

/// Lays out a town's villages around its seat and splits them into grids.
///
/// Dedicated grids are named after the seat village (the one with the lowest code), e.g. `鲍店中心小学`;
/// when the town's name is known, prefer [`layout_town_named`], which names them `{town}中心小学` etc.
pub fn layout_town(
    town_code: &str,
    center_lng: f64,
    center_lat: f64,
    villages: &[DemoVillage],
) -> Vec<DemoGridPlan> {
    layout(town_code, None, center_lng, center_lat, villages)
}

/// Like [`layout_town`], with dedicated grids named after the town: `{town_name}中心小学` and
/// `{town_name}工业园` or `{town_name}集贸市场`.
pub fn layout_town_named(
    town_code: &str,
    town_name: &str,
    center_lng: f64,
    center_lat: f64,
    villages: &[DemoVillage],
) -> Vec<DemoGridPlan> {
    layout(town_code, Some(town_name), center_lng, center_lat, villages)
}

/// The short display form of an official village name: `庄里村民委员会` → `庄里村`, `赵村村委会` → `赵村`,
/// `横流社区居民委员会` → `横流社区`, `东城社区居委会` → `东城社区`. Other names are returned unchanged.
pub fn village_display_name(official: &str) -> String {
    for suffix in ["村民委员会", "村委会"] {
        if let Some(base) = official.strip_suffix(suffix) {
            if base.is_empty() {
                break;
            }
            return if base.ends_with('村') {
                base.to_string()
            } else {
                format!("{base}村")
            };
        }
    }
    for suffix in ["居民委员会", "居委会"] {
        if let Some(base) = official.strip_suffix(suffix) {
            if base.is_empty() {
                break;
            }
            return if base.ends_with("社区") {
                base.to_string()
            } else {
                format!("{base}社区")
            };
        }
    }
    official.to_string()
}

// ---------------------------------------------------------------------------------------------------------
// Deterministic pseudo-randomness: FNV-1a for the seed, SplitMix64 to derive values from (seed, keys…).

fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn hash_keys(seed: u64, keys: &[u64]) -> u64 {
    keys.iter()
        .fold(splitmix(seed), |acc, &k| splitmix(acc ^ k))
}

/// A value in [-1, 1) derived from the seed and keys.
fn signed_unit(seed: u64, keys: &[u64]) -> f64 {
    let bits = hash_keys(seed, keys) >> 11; // 53 bits
    (bits as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
}

// Tags keeping the different uses of the hash apart.
const TAG_CORNER_X: u64 = 1;
const TAG_CORNER_Y: u64 = 2;
const TAG_EDGE_H: u64 = 3;
const TAG_EDGE_V: u64 = 4;
const TAG_CELL_ORDER: u64 = 5;
const TAG_SPLIT: u64 = 6;
const TAG_GRID_COUNT: u64 = 7;
const TAG_DEDICATED: u64 = 8;

fn key(i: i64) -> u64 {
    i as u64
}

// ---------------------------------------------------------------------------------------------------------
// The layout, computed in a local plane (metres east and north of the seat), converted to degrees at the end.

/// Largest displacement of a lattice vertex, as a fraction of the cell size.
const CORNER_JITTER: f64 = 0.15;
/// Largest sideways displacement of the points along a lattice edge, as a fraction of the cell size.
const EDGE_JITTER: f64 = 0.05;
/// Largest displacement of the inner points of the lines splitting a cell, as a fraction of the cell size.
const SPLIT_JITTER: f64 = 0.05;
/// Where along a lattice edge its intermediate points sit; the middle one anchors split lines.
const EDGE_STEPS: [f64; 3] = [0.25, 0.5, 0.75];

struct Lattice {
    seed: u64,
    /// Cells per side (odd, so that one cell is centred on the seat).
    side: i64,
    /// Jitter scale, 1 normally; smaller only if a generated shape came out invalid.
    scale: f64,
}

impl Lattice {
    fn corner(&self, i: i64, j: i64) -> Coord<f64> {
        let mid = (self.side - 1) / 2;
        let base_x = ((i - mid) as f64 - 0.5) * CELL_SIZE_M;
        let base_y = ((j - mid) as f64 - 0.5) * CELL_SIZE_M;
        let amp = CORNER_JITTER * CELL_SIZE_M * self.scale;
        Coord {
            x: base_x + amp * signed_unit(self.seed, &[TAG_CORNER_X, key(i), key(j)]),
            y: base_y + amp * signed_unit(self.seed, &[TAG_CORNER_Y, key(i), key(j)]),
        }
    }

    /// The intermediate points of a lattice edge in its canonical direction (increasing i or j).
    fn edge_points(&self, horizontal: bool, i: i64, j: i64) -> [Coord<f64>; 3] {
        let (a, b, tag) = if horizontal {
            (self.corner(i, j), self.corner(i + 1, j), TAG_EDGE_H)
        } else {
            (self.corner(i, j), self.corner(i, j + 1), TAG_EDGE_V)
        };
        let d = Coord {
            x: b.x - a.x,
            y: b.y - a.y,
        };
        let len = (d.x * d.x + d.y * d.y).sqrt();
        let normal = Coord {
            x: -d.y / len,
            y: d.x / len,
        };
        let amp = EDGE_JITTER * CELL_SIZE_M * self.scale;
        let mut out = [Coord { x: 0.0, y: 0.0 }; 3];
        for (k, t) in EDGE_STEPS.iter().enumerate() {
            let off = amp * signed_unit(self.seed, &[tag, key(i), key(j), k as u64]);
            out[k] = Coord {
                x: a.x + d.x * t + normal.x * off,
                y: a.y + d.y * t + normal.y * off,
            };
        }
        out
    }

    /// The boundary of cell (i, j), counter-clockwise from its south-west corner: 16 points, corners at
    /// indices 0, 4, 8, 12 and edge midpoints at 2 (south), 6 (east), 10 (north), 14 (west).
    fn cell_ring(&self, i: i64, j: i64) -> Vec<Coord<f64>> {
        let mut ring = Vec::with_capacity(16);
        ring.push(self.corner(i, j));
        ring.extend(self.edge_points(true, i, j));
        ring.push(self.corner(i + 1, j));
        ring.extend(self.edge_points(false, i + 1, j));
        ring.push(self.corner(i + 1, j + 1));
        ring.extend(self.edge_points(true, i, j + 1).iter().rev());
        ring.push(self.corner(i, j + 1));
        ring.extend(self.edge_points(false, i, j).iter().rev());
        ring
    }
}

fn lerp(a: Coord<f64>, b: Coord<f64>, t: f64) -> Coord<f64> {
    Coord {
        x: a.x + (b.x - a.x) * t,
        y: a.y + (b.y - a.y) * t,
    }
}

fn jittered(p: Coord<f64>, seed: u64, keys: &[u64], amp: f64) -> Coord<f64> {
    let mut kx = keys.to_vec();
    kx.push(0);
    let mut ky = keys.to_vec();
    ky.push(1);
    Coord {
        x: p.x + amp * signed_unit(seed, &kx),
        y: p.y + amp * signed_unit(seed, &ky),
    }
}

/// Splits a cell ring (see [`Lattice::cell_ring`]) into `pieces` (1–3) rings, each counter-clockwise.
fn split_cell(
    ring: &[Coord<f64>],
    pieces: usize,
    seed: u64,
    cell: (i64, i64),
    scale: f64,
) -> Vec<Vec<Coord<f64>>> {
    if pieces <= 1 {
        return vec![ring.to_vec()];
    }
    let keys = [TAG_SPLIT, key(cell.0), key(cell.1)];
    // Rotate which side the split starts from, so the pattern varies from cell to cell.
    let rotation = (hash_keys(seed, &keys) % 4) as usize * 4;
    let r = |k: usize| ring[(k + rotation) % 16];
    let amp = SPLIT_JITTER * CELL_SIZE_M * scale;
    let corners_mean = Coord {
        x: (r(0).x + r(4).x + r(8).x + r(12).x) / 4.0,
        y: (r(0).y + r(4).y + r(8).y + r(12).y) / 4.0,
    };
    let center = jittered(
        corners_mean,
        seed,
        &[TAG_SPLIT, key(cell.0), key(cell.1), 10],
        amp,
    );
    let (m_south, m_east, m_north) = (r(2), r(6), r(10));
    let q1 = jittered(
        lerp(m_south, center, 0.5),
        seed,
        &[TAG_SPLIT, key(cell.0), key(cell.1), 11],
        amp * 0.8,
    );
    let q2 = jittered(
        lerp(center, m_north, 0.5),
        seed,
        &[TAG_SPLIT, key(cell.0), key(cell.1), 12],
        amp * 0.8,
    );
    let run = |from: usize, to: usize| -> Vec<Coord<f64>> {
        // Ring points from index `from` to `to` inclusive, going counter-clockwise (indices before rotation).
        let mut out = Vec::new();
        let mut k = from;
        loop {
            out.push(r(k % 16));
            if k % 16 == to % 16 {
                break;
            }
            k += 1;
        }
        out
    };
    // West piece: north midpoint → west side → south midpoint, then up the split line.
    let mut west = run(10, 18);
    west.extend([q1, center, q2]);
    if pieces == 2 {
        // East piece: south midpoint → east side → north midpoint, then down the split line.
        let mut east = run(2, 10);
        east.extend([q2, center, q1]);
        return vec![west, east];
    }
    // Three pieces: the east half is split again by a branch from the centre to the east midpoint.
    let p1 = jittered(
        lerp(m_east, center, 0.5),
        seed,
        &[TAG_SPLIT, key(cell.0), key(cell.1), 13],
        amp * 0.8,
    );
    let mut east_south = run(2, 6);
    east_south.extend([p1, center, q1]);
    let mut east_north = run(6, 10);
    east_north.extend([q2, center, p1]);
    vec![west, east_south, east_north]
}

/// A small dedicated-grid outline (a rectangle with cut corners, slightly rotated) around `at`.
fn dedicated_outline(at: Coord<f64>, half_w: f64, half_h: f64, angle: f64) -> Vec<Coord<f64>> {
    let cut = 0.3;
    let local = [
        (-1.0 + cut, -1.0),
        (1.0 - cut, -1.0),
        (1.0, -1.0 + cut),
        (1.0, 1.0 - cut),
        (1.0 - cut, 1.0),
        (-1.0 + cut, 1.0),
        (-1.0, 1.0 - cut),
        (-1.0, -1.0 + cut),
    ];
    let (s, c) = angle.sin_cos();
    local
        .iter()
        .map(|&(u, v)| {
            let (x, y) = (u * half_w, v * half_h);
            Coord {
                x: at.x + x * c - y * s,
                y: at.y + x * s + y * c,
            }
        })
        .collect()
}

fn polygon(ring: Vec<Coord<f64>>) -> Polygon<f64> {
    Polygon::new(LineString::from(ring), vec![])
}

/// Places a dedicated outline of the given half-size well inside `host`, shrinking it if need be.
fn place_inside(host: &Polygon<f64>, half_w: f64, half_h: f64, angle: f64) -> Polygon<f64> {
    let mut anchors = Vec::new();
    if let Some(c) = host.centroid() {
        anchors.push(c.0);
    }
    if let Some(p) = host.interior_point() {
        anchors.push(p.0);
    }
    let mut factor = 1.0;
    for _ in 0..12 {
        for &at in &anchors {
            // Require a margin: the outline enlarged by half must fit too.
            let probe = polygon(dedicated_outline(
                at,
                half_w * factor * 1.5,
                half_h * factor * 1.5,
                angle,
            ));
            if host.contains(&probe) {
                return polygon(dedicated_outline(
                    at,
                    half_w * factor,
                    half_h * factor,
                    angle,
                ));
            }
        }
        factor *= 0.5;
    }
    // Unreachable in practice (the interior point has room around it); keep a tiny outline there.
    let at = anchors.last().copied().unwrap_or(Coord { x: 0.0, y: 0.0 });
    polygon(dedicated_outline(at, 1.0, 1.0, angle))
}

struct PlanInMetres {
    code: String,
    village_code: String,
    name: String,
    kind: GridKind,
    shape: Polygon<f64>,
}

fn layout(
    town_code: &str,
    town_name: Option<&str>,
    center_lng: f64,
    center_lat: f64,
    villages: &[DemoVillage],
) -> Vec<DemoGridPlan> {
    layout_with_scale(town_code, town_name, center_lng, center_lat, villages).0
}

/// The layout and the jitter scale it was drawn with (1 unless a shape came out invalid).
fn layout_with_scale(
    town_code: &str,
    town_name: Option<&str>,
    center_lng: f64,
    center_lat: f64,
    villages: &[DemoVillage],
) -> (Vec<DemoGridPlan>, f64) {
    // Villages in code order, duplicates dropped.
    let mut seen = BTreeSet::new();
    let mut ordered: Vec<&DemoVillage> = villages
        .iter()
        .filter(|v| seen.insert(v.code.as_str()))
        .collect();
    ordered.sort_by(|a, b| a.code.cmp(&b.code));
    if ordered.is_empty() {
        return (Vec::new(), 1.0);
    }
    let seed = fnv1a(town_code);

    // A lattice with room to spare; the villages take the cells nearest the centre. Each cell's rank is its
    // squared distance (in cells) plus a jitter below 0.5, so a cell always ranks after the neighbour one
    // step closer to the centre along each axis: the chosen cells are contiguous and have no holes.
    let n = ordered.len() as i64;
    let mut side = (n as f64).sqrt().ceil() as i64 + 2;
    if side % 2 == 0 {
        side += 1;
    }
    let mid = (side - 1) / 2;
    let mut cells: Vec<(f64, i64, i64)> = Vec::new();
    for j in 0..side {
        for i in 0..side {
            let (di, dj) = ((i - mid) as f64, (j - mid) as f64);
            let jitter = if (i, j) == (mid, mid) {
                -1.0
            } else {
                0.45 * signed_unit(seed, &[TAG_CELL_ORDER, key(i), key(j)])
            };
            cells.push((di * di + dj * dj + jitter, i, j));
        }
    }
    cells.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)).then(a.1.cmp(&b.1)));

    let lng_scale = 1.0 / (111_320.0 * center_lat.to_radians().cos().max(0.01));
    let lat_scale = 1.0 / 110_574.0;
    let to_degrees = |p: &Polygon<f64>| -> Polygon<f64> {
        let ring: Vec<Coord<f64>> = p
            .exterior()
            .coords()
            .map(|c| Coord {
                x: center_lng + c.x * lng_scale,
                y: center_lat + c.y * lat_scale,
            })
            .collect();
        Polygon::new(LineString::from(ring), vec![])
    };

    // Jitter is scaled down only if some shape came out invalid (not seen in practice; a safety net).
    let mut last = Vec::new();
    for scale in [1.0, 0.5, 0.25, 0.0] {
        let plans = plan_town(town_name, &ordered, &cells, seed, side, scale);
        let converted: Vec<DemoGridPlan> = plans
            .into_iter()
            .map(|p| DemoGridPlan {
                code: p.code,
                village_code: p.village_code,
                name: p.name,
                kind: p.kind,
                shape: MultiPolygon::new(vec![to_degrees(&p.shape)]),
            })
            .collect();
        let ok = converted.iter().all(|p| {
            p.shape.0.iter().all(|poly| {
                poly.is_valid() && poly.exterior().is_ccw() && poly.unsigned_area() > 0.0
            })
        });
        if ok {
            return (converted, scale);
        }
        last = converted;
    }
    (last, 0.0)
}

fn plan_town(
    town_name: Option<&str>,
    villages: &[&DemoVillage],
    cells: &[(f64, i64, i64)],
    seed: u64,
    side: i64,
    scale: f64,
) -> Vec<PlanInMetres> {
    let lattice = Lattice { seed, side, scale };
    let mut plans = Vec::new();
    let mut seat_pieces: Vec<(String, Polygon<f64>)> = Vec::new();
    for (index, (village, &(_, i, j))) in villages.iter().zip(cells).enumerate() {
        let is_seat = index == 0;
        let pieces = if is_seat {
            3
        } else {
            1 + (hash_keys(seed, &[TAG_GRID_COUNT, fnv1a(&village.code)]) % 3) as usize
        };
        let ring = lattice.cell_ring(i, j);
        let display = village_display_name(&village.name);
        for (k, piece) in split_cell(&ring, pieces, seed, (i, j), scale)
            .into_iter()
            .enumerate()
        {
            let shape = polygon(piece);
            let code = format!("{}{:03}", village.code, k + 1);
            if is_seat {
                seat_pieces.push((code.clone(), shape.clone()));
            }
            plans.push(PlanInMetres {
                code,
                village_code: village.code.clone(),
                name: format!("{display}第{}网格", k + 1),
                kind: GridKind::Basic,
                shape,
            });
        }
    }

    // Dedicated grids, in the seat village's first two basic grids (the seat village always has three).
    let seat = villages[0];
    let prefix = match town_name {
        Some(name) if !name.trim().is_empty() => name.trim().to_string(),
        _ => {
            let display = village_display_name(&seat.name);
            display
                .strip_suffix("社区")
                .or_else(|| display.strip_suffix('村'))
                .filter(|s| !s.is_empty())
                .unwrap_or(&display)
                .to_string()
        }
    };
    let second = if hash_keys(seed, &[TAG_DEDICATED]).is_multiple_of(2) {
        "工业园"
    } else {
        "集贸市场"
    };
    let specs = [
        ("801", format!("{prefix}中心小学"), 110.0, 75.0),
        ("802", format!("{prefix}{second}"), 150.0, 95.0),
    ];
    for (n, (suffix, name, half_w, half_h)) in specs.into_iter().enumerate() {
        let Some((_, host)) = seat_pieces.get(n).or_else(|| seat_pieces.first()) else {
            continue;
        };
        let angle = 0.35 * signed_unit(seed, &[TAG_DEDICATED, n as u64]);
        plans.push(PlanInMetres {
            code: format!("{}{}", seat.code, suffix),
            village_code: seat.code.clone(),
            name,
            kind: GridKind::Dedicated,
            shape: place_inside(host, half_w, half_h, angle),
        });
    }
    plans.sort_by(|a, b| a.code.cmp(&b.code));
    plans
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{BooleanOps, BoundingRect, Point};

    fn villages(town: &str, n: usize) -> Vec<DemoVillage> {
        (0..n)
            .map(|k| {
                let number = if k < 3 { k + 1 } else { 197 + k };
                let name = if k < 3 {
                    format!("第{k}社区居民委员会")
                } else {
                    format!("样{k}村民委员会")
                };
                DemoVillage {
                    code: format!("{town}{number:03}"),
                    name,
                }
            })
            .collect()
    }

    fn basic(plans: &[DemoGridPlan]) -> Vec<&DemoGridPlan> {
        plans
            .iter()
            .filter(|p| matches!(p.kind, GridKind::Basic))
            .collect()
    }

    fn dedicated(plans: &[DemoGridPlan]) -> Vec<&DemoGridPlan> {
        plans
            .iter()
            .filter(|p| matches!(p.kind, GridKind::Dedicated))
            .collect()
    }

    fn sample() -> Vec<DemoGridPlan> {
        layout_town_named(
            "370883107",
            "太平镇",
            116.82,
            35.42,
            &villages("370883107", 93),
        )
    }

    /// A segment as the bit patterns of its end points, smaller end first.
    type Segment = ((u64, u64), (u64, u64));

    fn segments(shape: &MultiPolygon<f64>) -> Vec<Segment> {
        let mut out = Vec::new();
        for poly in &shape.0 {
            let coords: Vec<_> = poly
                .exterior()
                .coords()
                .map(|c| (c.x.to_bits(), c.y.to_bits()))
                .collect();
            for w in coords.windows(2) {
                let (a, b) = (w[0], w[1]);
                out.push(if a <= b { (a, b) } else { (b, a) });
            }
        }
        out
    }

    #[test]
    fn every_village_gets_one_to_three_basic_grids() {
        let vs = villages("370883107", 93);
        let plans = layout_town("370883107", 116.82, 35.42, &vs);
        for v in &vs {
            let count = basic(&plans)
                .iter()
                .filter(|p| p.village_code == v.code)
                .count();
            assert!(
                (1..=3).contains(&count),
                "{} has {count} basic grids",
                v.code
            );
        }
        assert_eq!(
            basic(&plans)
                .iter()
                .filter(|p| p.village_code == vs[0].code)
                .count(),
            3
        );
    }

    #[test]
    fn small_towns_work_too() {
        for n in [1, 2, 3, 5, 11, 18] {
            let vs = villages("441900123", n);
            let plans = layout_town("441900123", 113.61, 22.92, &vs);
            assert_eq!(dedicated(&plans).len(), 2, "n = {n}");
            for v in &vs {
                assert!(basic(&plans).iter().any(|p| p.village_code == v.code));
            }
        }
        assert!(layout_town("441900123", 113.61, 22.92, &[]).is_empty());
    }

    #[test]
    fn basic_grids_do_not_overlap_and_tile_one_region() {
        let plans = sample();
        let grids = basic(&plans);
        let mut total = 0.0;
        for (a_index, a) in grids.iter().enumerate() {
            total += a.shape.unsigned_area();
            let ra = a.shape.bounding_rect().expect("non-empty");
            for b in &grids[a_index + 1..] {
                let rb = b.shape.bounding_rect().expect("non-empty");
                if ra.max().x < rb.min().x
                    || rb.max().x < ra.min().x
                    || ra.max().y < rb.min().y
                    || rb.max().y < ra.min().y
                {
                    continue;
                }
                let overlap = a.shape.intersection(&b.shape).unsigned_area();
                assert!(
                    overlap < 1e-12,
                    "{} and {} overlap by {overlap}",
                    a.code,
                    b.code
                );
            }
        }
        // Contiguous, without holes: the union is a single polygon whose area is the sum of the parts.
        let union = geo::unary_union(grids.iter().map(|p| &p.shape));
        assert_eq!(
            union.0.len(),
            1,
            "basic grids form {} separate regions",
            union.0.len()
        );
        assert!(union.0[0].interiors().is_empty(), "the town has holes");
        assert!((union.unsigned_area() - total).abs() < 1e-9 * total.max(1.0));
    }

    #[test]
    fn neighbouring_basic_grids_share_edges_exactly() {
        let plans = sample();
        let grids = basic(&plans);
        let mut owners: std::collections::HashMap<Segment, usize> = Default::default();
        for g in &grids {
            for s in segments(&g.shape) {
                *owners.entry(s).or_default() += 1;
            }
        }
        for g in &grids {
            let shared = segments(&g.shape)
                .iter()
                .filter(|s| owners[*s] >= 2)
                .count();
            assert!(shared >= 2, "{} shares only {shared} segments", g.code);
        }
        assert!(
            owners.values().all(|&count| count <= 2),
            "a segment is used by more than two grids"
        );
    }

    #[test]
    fn dedicated_grids_lie_inside_exactly_one_basic_grid_of_their_village() {
        for (code, lng, lat) in [
            ("370883107", 116.82, 35.42),
            ("610304105", 107.43, 34.40),
            ("140929400", 111.575, 38.705),
        ] {
            let plans = layout_town(code, lng, lat, &villages(code, 11));
            let specials = dedicated(&plans);
            assert_eq!(specials.len(), 2);
            for d in specials {
                let hosts: Vec<_> = basic(&plans)
                    .into_iter()
                    .filter(|b| b.shape.contains(&d.shape))
                    .collect();
                assert_eq!(
                    hosts.len(),
                    1,
                    "{} lies in {} basic grids",
                    d.code,
                    hosts.len()
                );
                assert_eq!(hosts[0].village_code, d.village_code);
                let touching = basic(&plans)
                    .into_iter()
                    .filter(|b| b.shape.intersection(&d.shape).unsigned_area() > 0.0)
                    .count();
                assert_eq!(touching, 1, "{} reaches into another basic grid", d.code);
            }
        }
    }

    #[test]
    fn codes_are_unique_and_well_formed() {
        let plans = sample();
        let mut codes = BTreeSet::new();
        for p in &plans {
            assert!(codes.insert(p.code.clone()), "duplicate code {}", p.code);
            assert_eq!(p.code.len(), 15, "{}", p.code);
            assert!(p.code.bytes().all(|b| b.is_ascii_digit()), "{}", p.code);
            assert_eq!(p.village_code.len(), 12);
            assert!(p.code.starts_with(&p.village_code));
            let suffix: u32 = p.code[12..].parse().expect("digits");
            match p.kind {
                GridKind::Basic => assert!((1..=3).contains(&suffix), "{}", p.code),
                GridKind::Dedicated => assert!(suffix == 801 || suffix == 802, "{}", p.code),
            }
        }
        let names: Vec<_> = dedicated(&plans).iter().map(|p| p.name.clone()).collect();
        assert_eq!(names[0], "太平镇中心小学");
        assert!(
            names[1] == "太平镇工业园" || names[1] == "太平镇集贸市场",
            "{}",
            names[1]
        );
        assert!(plans.iter().any(|p| p.name == "第0社区第1网格"));
        assert!(plans.iter().any(|p| p.name == "样3村第1网格"));
    }

    #[test]
    fn polygons_are_valid_closed_ccw_and_reasonably_detailed() {
        // Many towns, to exercise the jitter; none needs the safety net of a smaller jitter.
        for t in 0..60 {
            let code = format!("{:09}", 140_929_100 + t * 7);
            let (plans, scale) =
                layout_with_scale(&code, None, 111.57, 38.70, &villages(&code, 5 + t as usize));
            assert_eq!(scale, 1.0, "town {code} needed a smaller jitter");
            for p in &plans {
                assert_eq!(p.shape.0.len(), 1);
                let poly = &p.shape.0[0];
                assert!(poly.is_valid(), "{} is invalid", p.code);
                assert!(poly.interiors().is_empty());
                let ring = poly.exterior();
                assert!(ring.is_closed());
                assert!(ring.is_ccw(), "{} is clockwise", p.code);
                let vertices = ring.0.len() - 1;
                assert!(
                    (8..=40).contains(&vertices),
                    "{} has {vertices} vertices",
                    p.code
                );
            }
        }
    }

    #[test]
    fn layout_sits_around_the_seat_with_cells_of_about_the_right_size() {
        let (lng, lat) = (116.82, 35.42);
        let plans = sample();
        let seat = &plans[0].village_code;
        let centre = Point::new(lng, lat);
        assert!(
            basic(&plans)
                .iter()
                .any(|p| &p.village_code == seat && p.shape.contains(&centre))
        );
        let rect = geo::unary_union(basic(&plans).iter().map(|p| &p.shape))
            .bounding_rect()
            .expect("non-empty");
        let width_km = (rect.max().x - rect.min().x) * 111.32 * lat.to_radians().cos();
        let height_km = (rect.max().y - rect.min().y) * 110.574;
        // 93 cells of 1.2 km: about 11 cells across.
        assert!((9.0..=17.0).contains(&width_km), "width {width_km} km");
        assert!((9.0..=17.0).contains(&height_km), "height {height_km} km");
    }

    #[test]
    fn output_is_deterministic_and_depends_on_the_town() {
        let a = sample();
        let b = sample();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (&x.code, &x.village_code, &x.name),
                (&y.code, &y.village_code, &y.name)
            );
            assert_eq!(x.shape, y.shape);
        }
        let other = layout_town_named(
            "370883108",
            "太平镇",
            116.82,
            35.42,
            &villages("370883107", 93),
        );
        assert!(a.iter().zip(&other).any(|(x, y)| x.shape != y.shape));
        // Input order does not matter.
        let mut reversed = villages("370883107", 93);
        reversed.reverse();
        let c = layout_town_named("370883107", "太平镇", 116.82, 35.42, &reversed);
        assert!(
            a.iter()
                .zip(&c)
                .all(|(x, y)| x.code == y.code && x.shape == y.shape)
        );
    }

    #[test]
    fn display_names() {
        assert_eq!(village_display_name("庄里村民委员会"), "庄里村");
        assert_eq!(village_display_name("赵村村委会"), "赵村");
        assert_eq!(village_display_name("太平一村村民委员会"), "太平一村");
        assert_eq!(village_display_name("横流社区居民委员会"), "横流社区");
        assert_eq!(village_display_name("东城社区居委会"), "东城社区");
        assert_eq!(village_display_name("某某居委会"), "某某社区");
        assert_eq!(village_display_name("村委会"), "村委会");
        assert_eq!(village_display_name("开发区"), "开发区");
    }

    #[test]
    fn without_a_town_name_dedicated_grids_are_named_after_the_seat_village() {
        let plans = layout_town("370883107", 116.82, 35.42, &villages("370883107", 4));
        let names: Vec<_> = dedicated(&plans).iter().map(|p| p.name.clone()).collect();
        assert_eq!(names[0], "第0中心小学");
    }
}
