//! Runs the point-to-grid benchmark of `bench/src/point_to_grid.rs` (the same file, included), next to the naive
//! baseline of shared/LIMITS.md (an rstar R-tree of bounding boxes plus geo's exact `Intersects`) on the same data.
//!
//! `cargo run --release -p fengqiao-geo --example point_to_grid -- [POLYGONS] [LOOKUPS]`

#[path = "../../../bench/src/point_to_grid.rs"]
mod point_to_grid;

use std::hint::black_box;
use std::time::Instant;

use fengqiao_geo::geo::{BoundingRect, Coord, Intersects};
use fengqiao_geo::index::{GridIndex, PlacementRef};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

/// Lookups per second of the naive index: R-tree of bounding boxes, exact test on each candidate.
fn naive_lookups_per_sec(polygons: usize, lookups: usize) -> (f64, usize) {
    let grids = point_to_grid::generate_grids(polygons);
    let points = point_to_grid::generate_points(polygons, lookups);
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = grids
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let r = g.shape.bounding_rect()?;
            Some(GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                i,
            ))
        })
        .collect();
    let tree = RTree::bulk_load(boxes);
    let started = Instant::now();
    let mut hits = 0usize;
    for p in &points {
        let c = Coord { x: p.lng, y: p.lat };
        if tree
            .locate_all_at_point(&[p.lng, p.lat])
            .any(|cand| grids[cand.data].shape.intersects(&c))
        {
            hits += 1;
        }
    }
    black_box(hits);
    (lookups as f64 / started.elapsed().as_secs_f64(), hits)
}

/// Lookups per second of [`GridIndex::locate_ref`], which skips copying the codes.
fn locate_ref_lookups_per_sec(polygons: usize, lookups: usize) -> (f64, usize) {
    let index = GridIndex::build(point_to_grid::generate_grids(polygons), 2_000.0);
    let points = point_to_grid::generate_points(polygons, lookups);
    let started = Instant::now();
    let mut hits = 0usize;
    for p in &points {
        if let PlacementRef::InGrid { .. } = black_box(index.locate_ref(black_box(*p))) {
            hits += 1;
        }
    }
    (lookups as f64 / started.elapsed().as_secs_f64(), hits)
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let polygons = args.next().and_then(Result::ok).unwrap_or(10_000);
    let lookups = args.next().and_then(Result::ok).unwrap_or(2_000_000);

    let report = point_to_grid::run(polygons, lookups);
    println!(
        "GridIndex: {} polygons, built in {:.1} ms; {} lookups, {} hits: {:.0} lookups/s on one thread",
        report.polygons,
        report.build_ms,
        report.lookups,
        report.hits,
        report.lookups_per_sec_one_thread
    );
    eprintln!(
        "TMP {:?}",
        GridIndex::build(point_to_grid::generate_grids(polygons), 0.0)
    );
    let (borrowing, borrowing_hits) = locate_ref_lookups_per_sec(polygons, lookups);
    println!(
        "GridIndex::locate_ref (borrowed codes): {borrowing_hits} hits: {borrowing:.0} lookups/s on one thread"
    );
    let (naive, naive_hits) = naive_lookups_per_sec(polygons, lookups);
    println!(
        "naive rstar bbox + geo Intersects: {naive_hits} hits: {naive:.0} lookups/s on one thread"
    );
}
