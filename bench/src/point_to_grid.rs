//! Point-to-grid lookups: builds a `GridIndex` over jittered grid polygons and times single-threaded lookups.
//!
//! The workload matches the baseline in shared/LIMITS.md ("Geometry"): a square lattice of cells (100 × 100 for
//! 10,000 polygons) about 550 m across near Hangzhou, each holding one star-shaped polygon of 32 jittered
//! vertices (33 coordinates with the closing one), and pseudo-random points spread over the whole lattice, so
//! some fall between polygons. Everything is seeded, so runs are comparable.

use std::hint::black_box;
use std::time::Instant;

use fengqiao_geo::coords::LngLat;
use fengqiao_geo::geo::{LineString, MultiPolygon, Polygon};
use fengqiao_geo::index::{GridIndex, GridKind, GridShape, Placement};

/// South-west corner of the generated lattice (WGS-84 degrees).
const ORIGIN: (f64, f64) = (120.0, 30.0);
/// Lattice cell size in degrees (about 480 m east-west, 555 m north-south at 30°N).
const CELL_DEG: f64 = 0.005;
/// Vertices per polygon, not counting the closing coordinate.
const VERTICES: usize = 32;
/// Margin around the grids' extent, in metres.
const MARGIN_M: f64 = 2_000.0;
/// Timed passes over the points; the fastest counts.
const TIMED_PASSES: usize = 5;

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct PointToGridReport {
    /// Polygons (grids) indexed.
    pub polygons: usize,
    /// Lookups timed.
    pub lookups: usize,
    /// Time to build the index, in milliseconds.
    pub build_ms: f64,
    /// Lookups per second on one thread (`GridIndex::locate`, which returns owned codes), in the fastest of a
    /// few passes over the points.
    pub lookups_per_sec_one_thread: f64,
    /// Lookups (in one pass) that landed in a grid.
    pub hits: usize,
}

/// A xorshift64* generator: deterministic, dependency-free, good enough for spreading points.
struct XorShift(u64);

impl XorShift {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Cells per side of the square lattice that holds `polygons` polygons.
fn lattice_side(polygons: usize) -> usize {
    let mut side = (polygons as f64).sqrt().ceil() as usize;
    while side * side < polygons {
        side += 1;
    }
    side.max(1)
}

/// `polygons` jittered star-shaped basic grids, one per lattice cell, row by row.
pub fn generate_grids(polygons: usize) -> Vec<GridShape> {
    let side = lattice_side(polygons);
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    (0..polygons)
        .map(|k| {
            let (i, j) = (k % side, k / side);
            let cx = ORIGIN.0 + (i as f64 + 0.5) * CELL_DEG;
            let cy = ORIGIN.1 + (j as f64 + 0.5) * CELL_DEG;
            let mut ring: Vec<(f64, f64)> = (0..VERTICES)
                .map(|v| {
                    let angle =
                        (v as f64 + 0.8 * rng.next_f64()) / VERTICES as f64 * std::f64::consts::TAU;
                    let radius = CELL_DEG * (0.35 + 0.15 * rng.next_f64());
                    (cx + radius * angle.cos(), cy + radius * angle.sin())
                })
                .collect();
            ring.push(ring[0]);
            GridShape {
                code: format!("330110001001{k:05}"),
                kind: GridKind::Basic,
                shape: MultiPolygon::new(vec![Polygon::new(LineString::from(ring), vec![])]),
            }
        })
        .collect()
}

/// `n` pseudo-random points spread uniformly over the lattice that holds `polygons` polygons.
pub fn generate_points(polygons: usize, n: usize) -> Vec<LngLat> {
    let span = lattice_side(polygons) as f64 * CELL_DEG;
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    (0..n)
        .map(|_| {
            LngLat::new(
                ORIGIN.0 + span * rng.next_f64(),
                ORIGIN.1 + span * rng.next_f64(),
            )
        })
        .collect()
}

/// Builds the index over `polygons` generated grids and times `lookups` single-threaded lookups (in each of
/// [`TIMED_PASSES`] passes; the fastest pass counts).
pub fn run(polygons: usize, lookups: usize) -> PointToGridReport {
    let grids = generate_grids(polygons);
    let points = generate_points(polygons, lookups);

    let started = Instant::now();
    let index = GridIndex::build(grids, MARGIN_M);
    let build_ms = started.elapsed().as_secs_f64() * 1e3;

    // One untimed pass warms the caches and the branch predictors; then the best of a few timed passes is
    // reported, as the figure least disturbed by other work on the machine.
    for p in points.iter().take(100_000) {
        black_box(index.locate(*p));
    }
    let mut best_secs = f64::INFINITY;
    let mut hits = 0usize;
    for _ in 0..TIMED_PASSES {
        let started = Instant::now();
        hits = 0;
        for p in &points {
            if let Placement::InGrid { .. } = black_box(index.locate(black_box(*p))) {
                hits += 1;
            }
        }
        best_secs = best_secs.min(started.elapsed().as_secs_f64());
    }

    PointToGridReport {
        polygons,
        lookups,
        build_ms,
        lookups_per_sec_one_thread: if best_secs > 0.0 && best_secs.is_finite() {
            lookups as f64 / best_secs
        } else {
            0.0
        },
        hits,
    }
}
