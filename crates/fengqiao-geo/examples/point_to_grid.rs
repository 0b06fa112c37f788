//! Runs the point-to-grid benchmark of `bench/src/point_to_grid.rs` (the same file, included), next to the naive
//! baseline of shared/LIMITS.md (an rstar R-tree of bounding boxes plus geo's exact `Intersects`) on the same data.
//! Every figure is the fastest of five passes, as in the benchmark.
//!
//! `cargo run --release -p fengqiao-geo --example point_to_grid -- [POLYGONS] [LOOKUPS]`

#[path = "../../../bench/src/point_to_grid.rs"]
mod point_to_grid;

use std::hint::black_box;
use std::time::Instant;

use fengqiao_geo::coords::LngLat;
use fengqiao_geo::geo::{BoundingRect, Coord, Intersects};
use fengqiao_geo::index::{GridIndex, PlacementRef};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

/// Lookups per second (fastest of five passes over `points`) and hits per pass of a point-in-grid function.
fn best_rate(points: &[LngLat], hit: impl Fn(LngLat) -> bool) -> (f64, usize) {
    let mut best = f64::INFINITY;
    let mut hits = 0;
    for _ in 0..5 {
        let started = Instant::now();
        hits = points.iter().filter(|p| hit(black_box(**p))).count();
        best = best.min(started.elapsed().as_secs_f64());
    }
    (points.len() as f64 / best, hits)
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let polygons = args.next().and_then(Result::ok).unwrap_or(10_000);
    let lookups = args.next().and_then(Result::ok).unwrap_or(2_000_000);

    let report = point_to_grid::run(polygons, lookups);
    println!(
        "GridIndex::locate: {} polygons, built in {:.1} ms; {} lookups, {} hits: {:.0} lookups/s on one thread",
        report.polygons,
        report.build_ms,
        report.lookups,
        report.hits,
        report.lookups_per_sec_one_thread
    );

    let grids = point_to_grid::generate_grids(polygons);
    let points = point_to_grid::generate_points(polygons, lookups);

    let index = GridIndex::build(grids.clone(), 2_000.0);
    println!("{index:?}");
    let (rate, hits) = best_rate(&points, |p| {
        matches!(black_box(index.locate_ref(p)), PlacementRef::InGrid { .. })
    });
    println!(
        "GridIndex::locate_ref (borrowed codes): {hits} hits: {rate:.0} lookups/s on one thread"
    );

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
    let (rate, hits) = best_rate(&points, |p| {
        let c = Coord { x: p.lng, y: p.lat };
        tree.locate_all_at_point(&[p.lng, p.lat])
            .any(|cand| grids[cand.data].shape.intersects(&c))
    });
    println!("naive rstar bbox + geo Intersects: {hits} hits: {rate:.0} lookups/s on one thread");
}
