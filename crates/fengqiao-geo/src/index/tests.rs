//! Tests of the point-to-grid index: worked examples, then property tests against geo's own predicates.

use super::*;
use geo::{BoundingRect, Intersects, LineString, Validation};
use proptest::prelude::*;

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    Polygon::new(
        LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]),
        vec![],
    )
}

fn grid(code: &str, kind: GridKind, polygons: Vec<Polygon<f64>>) -> GridShape {
    GridShape {
        code: code.to_owned(),
        kind,
        shape: MultiPolygon::new(polygons),
    }
}

fn in_grid(grid: &str, kind: GridKind, basic_grid: Option<&str>) -> Placement {
    Placement::InGrid {
        grid: grid.to_owned(),
        kind,
        basic_grid: basic_grid.map(str::to_owned),
    }
}

fn at(x: f64, y: f64) -> LngLat {
    LngLat::new(x, y)
}

/// A village near Hangzhou: basic grids A (west) and B (east) sharing an edge, a dedicated school grid S inside A,
/// and a dedicated market grid M straddling the A/B boundary.
fn village() -> GridIndex {
    GridIndex::build(
        vec![
            grid(
                "A",
                GridKind::Basic,
                vec![square(120.00, 30.00, 120.01, 30.01)],
            ),
            grid(
                "B",
                GridKind::Basic,
                vec![square(120.01, 30.00, 120.02, 30.01)],
            ),
            grid(
                "S",
                GridKind::Dedicated,
                vec![square(120.002, 30.002, 120.004, 30.004)],
            ),
            grid(
                "M",
                GridKind::Dedicated,
                vec![square(120.009, 30.008, 120.011, 30.009)],
            ),
        ],
        500.0,
    )
}

#[test]
fn basic_and_dedicated_grids() {
    let index = village();
    assert_eq!(index.len(), 4);
    assert!(!index.is_empty());
    assert_eq!(
        index.locate(at(120.001, 30.001)),
        in_grid("A", GridKind::Basic, None)
    );
    assert_eq!(
        index.locate(at(120.015, 30.005)),
        in_grid("B", GridKind::Basic, None)
    );
    assert_eq!(
        index.locate(at(120.003, 30.003)),
        in_grid("S", GridKind::Dedicated, Some("A"))
    );
    assert_eq!(
        index.locate(at(120.0095, 30.0085)),
        in_grid("M", GridKind::Dedicated, Some("A"))
    );
    assert_eq!(
        index.locate(at(120.0105, 30.0085)),
        in_grid("M", GridKind::Dedicated, Some("B"))
    );
    assert_eq!(index.kind_of("S"), Some(GridKind::Dedicated));
    assert_eq!(index.kind_of("nope"), None);
}

#[test]
fn boundary_points_count_as_inside() {
    let index = village();
    // The outer corner and outer edges of A.
    assert_eq!(
        index.locate(at(120.00, 30.00)),
        in_grid("A", GridKind::Basic, None)
    );
    assert_eq!(
        index.locate(at(120.00, 30.005)),
        in_grid("A", GridKind::Basic, None)
    );
    assert_eq!(
        index.locate(at(120.005, 30.01)),
        in_grid("A", GridKind::Basic, None)
    );
    // The edge S shares with nothing: on S's boundary is in S.
    assert_eq!(
        index.locate(at(120.002, 30.003)),
        in_grid("S", GridKind::Dedicated, Some("A"))
    );
    assert_eq!(
        index.locate(at(120.02, 30.01)),
        in_grid("B", GridKind::Basic, None)
    );
    // A shared edge is in both grids; with exactly equal areas the code decides.
    let twins = GridIndex::build(
        vec![
            grid("east", GridKind::Basic, vec![square(1.0, 0.0, 2.0, 1.0)]),
            grid("west", GridKind::Basic, vec![square(0.0, 0.0, 1.0, 1.0)]),
        ],
        0.0,
    );
    assert_eq!(
        twins.locate(at(1.0, 0.5)),
        in_grid("east", GridKind::Basic, None)
    );
    assert_eq!(
        twins.locate(at(0.999, 0.5)),
        in_grid("west", GridKind::Basic, None)
    );
}

#[test]
fn outside_grids_inside_and_outside_the_area() {
    let index = village();
    // 500 m margin: about 0.0045 degrees of latitude, 0.0052 of longitude at 30°N.
    assert_eq!(index.locate(at(120.01, 30.013)), Placement::OutsideAllGrids);
    assert_eq!(
        index.locate(at(120.024, 30.005)),
        Placement::OutsideAllGrids
    );
    assert_eq!(index.locate(at(120.01, 30.016)), Placement::OutsideArea);
    assert_eq!(index.locate(at(120.027, 30.005)), Placement::OutsideArea);
    assert_eq!(index.locate(at(0.0, 0.0)), Placement::OutsideArea);
    assert_eq!(index.locate(at(f64::NAN, 30.005)), Placement::OutsideArea);
    assert_eq!(
        index.locate(at(120.005, f64::INFINITY)),
        Placement::OutsideArea
    );
}

#[test]
fn extent_and_margin() {
    let index = village();
    let e = index.extent().expect("has an extent");
    assert_eq!(
        (e.min().x, e.min().y, e.max().x, e.max().y),
        (120.0, 30.0, 120.02, 30.01)
    );
    let area = index.deployment_area().expect("has an area");
    let d_lat = area.max().y - e.max().y;
    let d_lng = area.max().x - e.max().x;
    // 500 m is 0.004497 degrees of latitude; at 30.01°N a degree of longitude is 0.8659 of that.
    assert!((d_lat - 500.0 / 111_195.08).abs() < 1e-9, "{d_lat}");
    assert!(
        (d_lng - 500.0 / (111_195.08 * 30.01f64.to_radians().cos())).abs() < 1e-9,
        "{d_lng}"
    );
    // Margin in metres checked against distances: 450 m north of the extent is inside, 550 m is not.
    let north = |m: f64| at(120.005, 30.01 + m / 111_195.08);
    assert_eq!(index.locate(north(450.0)), Placement::OutsideAllGrids);
    assert_eq!(index.locate(north(550.0)), Placement::OutsideArea);

    let no_margin = GridIndex::build(
        vec![grid("A", GridKind::Basic, vec![square(0.0, 0.0, 1.0, 1.0)])],
        -5.0,
    );
    assert_eq!(no_margin.deployment_area(), no_margin.extent());
    let nan_margin = GridIndex::build(
        vec![grid("A", GridKind::Basic, vec![square(0.0, 0.0, 1.0, 1.0)])],
        f64::NAN,
    );
    assert_eq!(nan_margin.deployment_area(), nan_margin.extent());
}

#[test]
fn empty_index_refuses_everything() {
    for index in [GridIndex::empty(), GridIndex::build(Vec::new(), 1000.0)] {
        assert_eq!(index.len(), 0);
        assert!(index.is_empty());
        assert_eq!(index.extent(), None);
        assert_eq!(index.locate(at(120.0, 30.0)), Placement::OutsideArea);
    }
    // Grids without usable polygons count, but place nothing.
    let index = GridIndex::build(
        vec![
            grid("EMPTY", GridKind::Basic, vec![]),
            grid(
                "NAN",
                GridKind::Basic,
                vec![square(f64::NAN, 0.0, 1.0, 1.0)],
            ),
        ],
        1000.0,
    );
    assert_eq!(index.len(), 2);
    assert_eq!(index.extent(), None);
    assert_eq!(index.locate(at(0.5, 0.5)), Placement::OutsideArea);
}

#[test]
fn overlapping_basic_grids_pick_smallest_then_code() {
    let index = GridIndex::build(
        vec![
            grid("BIG", GridKind::Basic, vec![square(0.0, 0.0, 10.0, 10.0)]),
            grid("SMALL", GridKind::Basic, vec![square(4.0, 4.0, 6.0, 6.0)]),
            grid("TWIN-B", GridKind::Basic, vec![square(1.0, 1.0, 2.0, 2.0)]),
            grid("TWIN-A", GridKind::Basic, vec![square(1.0, 1.0, 2.0, 2.0)]),
            grid("D2", GridKind::Dedicated, vec![square(4.5, 4.5, 5.5, 5.5)]),
            grid("D1", GridKind::Dedicated, vec![square(4.8, 4.8, 5.2, 5.2)]),
        ],
        0.0,
    );
    assert_eq!(
        index.locate(at(5.0, 5.0)),
        in_grid("D1", GridKind::Dedicated, Some("SMALL"))
    );
    assert_eq!(
        index.locate(at(4.6, 4.6)),
        in_grid("D2", GridKind::Dedicated, Some("SMALL"))
    );
    assert_eq!(
        index.locate(at(4.2, 4.2)),
        in_grid("SMALL", GridKind::Basic, None)
    );
    assert_eq!(
        index.locate(at(1.5, 1.5)),
        in_grid("TWIN-A", GridKind::Basic, None)
    );
    assert_eq!(
        index.locate(at(8.0, 8.0)),
        in_grid("BIG", GridKind::Basic, None)
    );
    // The order the grids are given in does not matter.
    let reversed = GridIndex::build(
        vec![
            grid("TWIN-A", GridKind::Basic, vec![square(1.0, 1.0, 2.0, 2.0)]),
            grid("TWIN-B", GridKind::Basic, vec![square(1.0, 1.0, 2.0, 2.0)]),
        ],
        0.0,
    );
    assert_eq!(
        reversed.locate(at(1.5, 1.5)),
        in_grid("TWIN-A", GridKind::Basic, None)
    );
}

#[test]
fn dedicated_grid_outside_every_basic_grid() {
    let index = GridIndex::build(
        vec![
            grid("A", GridKind::Basic, vec![square(0.0, 0.0, 1.0, 1.0)]),
            grid(
                "PARK",
                GridKind::Dedicated,
                vec![square(2.0, 0.0, 3.0, 1.0)],
            ),
        ],
        0.0,
    );
    assert_eq!(
        index.locate(at(2.5, 0.5)),
        in_grid("PARK", GridKind::Dedicated, None)
    );
    assert_eq!(index.locate(at(1.5, 0.5)), Placement::OutsideAllGrids);
}

#[test]
fn holes_and_multipolygons() {
    let ring = Polygon::new(
        LineString::from(vec![
            (0.0, 0.0),
            (4.0, 0.0),
            (4.0, 4.0),
            (0.0, 4.0),
            (0.0, 0.0),
        ]),
        vec![LineString::from(vec![
            (1.0, 1.0),
            (3.0, 1.0),
            (3.0, 3.0),
            (1.0, 3.0),
            (1.0, 1.0),
        ])],
    );
    let index = GridIndex::build(
        vec![grid(
            "RING",
            GridKind::Basic,
            vec![ring, square(10.0, 0.0, 11.0, 1.0)],
        )],
        0.0,
    );
    assert_eq!(
        index.locate(at(0.5, 0.5)),
        in_grid("RING", GridKind::Basic, None)
    );
    assert_eq!(index.locate(at(2.0, 2.0)), Placement::OutsideAllGrids);
    assert_eq!(
        index.locate(at(1.0, 2.0)),
        in_grid("RING", GridKind::Basic, None)
    ); // on the hole's edge
    assert_eq!(
        index.locate(at(3.0, 3.0)),
        in_grid("RING", GridKind::Basic, None)
    ); // the hole's corner
    assert_eq!(
        index.locate(at(10.5, 0.5)),
        in_grid("RING", GridKind::Basic, None)
    );
    assert_eq!(index.locate(at(7.0, 0.5)), Placement::OutsideAllGrids);
}

#[test]
fn degenerate_shapes_do_not_panic() {
    let flat = Polygon::new(
        LineString::from(vec![(0.0, 1.0), (2.0, 1.0), (0.0, 1.0)]),
        vec![],
    );
    let point = Polygon::new(LineString::from(vec![(5.0, 5.0)]), vec![]);
    let tall = Polygon::new(
        LineString::from(vec![(3.0, 0.0), (3.0, 9.0), (3.0, 0.0)]),
        vec![],
    );
    let index = GridIndex::build(
        vec![
            grid("FLAT", GridKind::Basic, vec![flat]),
            grid("POINT", GridKind::Basic, vec![point]),
            grid("TALL", GridKind::Basic, vec![tall]),
        ],
        0.0,
    );
    assert_eq!(
        index.locate(at(1.0, 1.0)),
        in_grid("FLAT", GridKind::Basic, None)
    );
    assert_eq!(
        index.locate(at(5.0, 5.0)),
        in_grid("POINT", GridKind::Basic, None)
    );
    assert_eq!(
        index.locate(at(3.0, 4.0)),
        in_grid("TALL", GridKind::Basic, None)
    );
    assert_eq!(index.locate(at(1.0, 1.5)), Placement::OutsideAllGrids);
    // A single degenerate grid: zero-width and zero-height extents.
    for g in [
        Polygon::new(
            LineString::from(vec![(0.0, 1.0), (2.0, 1.0), (0.0, 1.0)]),
            vec![],
        ),
        Polygon::new(
            LineString::from(vec![(3.0, 0.0), (3.0, 9.0), (3.0, 0.0)]),
            vec![],
        ),
        Polygon::new(LineString::from(vec![(5.0, 5.0)]), vec![]),
    ] {
        let one = GridIndex::build(vec![grid("G", GridKind::Basic, vec![g])], 10.0);
        let e = one.extent().expect("extent");
        assert_eq!(
            one.locate(at(e.max().x, e.max().y)),
            in_grid("G", GridKind::Basic, None)
        );
        assert_eq!(
            one.locate(at(e.max().x + 1e-5, e.max().y)),
            Placement::OutsideAllGrids
        );
    }
}

#[test]
fn placement_json_shape() {
    let json = |p: &Placement| serde_json::to_value(p).expect("serializes");
    assert_eq!(
        json(&in_grid(
            "330110001001001",
            GridKind::Dedicated,
            Some("330110001001002")
        )),
        serde_json::json!({
            "placement": "in_grid",
            "grid": "330110001001001",
            "kind": "dedicated",
            "basic_grid": "330110001001002"
        })
    );
    assert_eq!(
        json(&Placement::OutsideAllGrids),
        serde_json::json!({"placement": "outside_all_grids"})
    );
    assert_eq!(
        json(&Placement::OutsideArea),
        serde_json::json!({"placement": "outside_area"})
    );
    assert_eq!(
        serde_json::from_str::<GridKind>("\"basic\"").expect("parses"),
        GridKind::Basic
    );
}

// ---- property tests against geo ----

/// A star-shaped ring around (cx, cy) on a lattice of 1/4: `n` vertices at increasing angles.
fn star_ring(cx: f64, cy: f64, radii: &[f64], angle_jitter: &[f64]) -> LineString<f64> {
    let n = radii.len();
    let quarter = |v: f64| (v * 4.0).round() / 4.0;
    let mut coords: Vec<(f64, f64)> = (0..n)
        .map(|k| {
            let a = (k as f64 + angle_jitter[k] * 0.8) / n as f64 * std::f64::consts::TAU;
            (
                quarter(cx + radii[k] * a.cos()),
                quarter(cy + radii[k] * a.sin()),
            )
        })
        .collect();
    coords.dedup();
    if let Some(first) = coords.first().copied() {
        coords.push(first);
    }
    LineString::from(coords)
}

prop_compose! {
    /// A valid-or-not polygon: a star exterior of 3..14 vertices, maybe with a star hole inside its inner radius.
    fn arb_polygon()(
        cx in -6i32..6, cy in -6i32..6,
        radii in proptest::collection::vec(2.0f64..6.0, 3..14),
        jitter in proptest::collection::vec(0.0f64..1.0, 14),
        hole in proptest::option::of((proptest::collection::vec(0.3f64..1.2, 3..8), proptest::collection::vec(0.0f64..1.0, 8))),
    ) -> Polygon<f64> {
        let exterior = star_ring(f64::from(cx), f64::from(cy), &radii, &jitter);
        let holes = hole
            .map(|(hr, hj)| vec![star_ring(f64::from(cx) + 0.25, f64::from(cy), &hr, &hj)])
            .unwrap_or_default();
        Polygon::new(exterior, holes)
    }
}

/// Points that hit vertices, edges and lattice lines often: multiples of 1/8 in [-13, 13].
fn arb_lattice_point() -> impl Strategy<Value = (f64, f64)> {
    (-104i32..=104, -104i32..=104).prop_map(|(x, y)| (f64::from(x) / 8.0, f64::from(y) / 8.0))
}

/// The vertices and edge midpoints of a shape: boundary points by construction.
fn boundary_samples(shape: &MultiPolygon<f64>) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for p in shape {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for l in ring.lines() {
                out.push((l.start.x, l.start.y));
                out.push(((l.start.x + l.end.x) / 2.0, (l.start.y + l.end.y) / 2.0));
            }
        }
    }
    out
}

/// What `locate` should answer, computed the slow way with geo's `Intersects`.
fn reference_locate(grids: &[GridShape], margin_m: f64, x: f64, y: f64) -> Placement {
    let c = Coord { x, y };
    let best = |kind: GridKind| {
        grids
            .iter()
            .filter(|g| g.kind == kind && g.shape.intersects(&c))
            .min_by(|a, b| {
                a.shape
                    .unsigned_area()
                    .total_cmp(&b.shape.unsigned_area())
                    .then_with(|| a.code.cmp(&b.code))
            })
            .map(|g| g.code.clone())
    };
    match (best(GridKind::Dedicated), best(GridKind::Basic)) {
        (Some(grid), basic_grid) => Placement::InGrid {
            grid,
            kind: GridKind::Dedicated,
            basic_grid,
        },
        (None, Some(grid)) => Placement::InGrid {
            grid,
            kind: GridKind::Basic,
            basic_grid: None,
        },
        (None, None) => {
            let extent = grids
                .iter()
                .filter_map(|g| g.shape.bounding_rect())
                .reduce(|a, b| {
                    Rect::new(
                        (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                        (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
                    )
                });
            match extent.map(|e| widen_by_metres(e, margin_m)) {
                Some(a) if x >= a.min().x && x <= a.max().x && y >= a.min().y && y <= a.max().y => {
                    Placement::OutsideAllGrids
                }
                _ => Placement::OutsideArea,
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The exact test agrees with geo's `Intersects` (inside or on the boundary) on valid polygons with holes,
    /// including at vertices, at edge midpoints and on lattice points; so does `locate` on coarse and fine
    /// lattices, and the test in each ray direction's transformed plane.
    #[test]
    fn polygon_test_agrees_with_geo(
        polygon in arb_polygon().prop_filter("valid", |p| p.is_valid()),
        points in proptest::collection::vec(arb_lattice_point(), 64),
    ) {
        let shape = MultiPolygon::new(vec![polygon.clone()]);
        let part = build_part(&polygon, 0, false).expect("a usable polygon");
        let planes: Vec<(u32, Vec<[f64; 4]>)> = [RAY_EAST, RAY_WEST, RAY_NORTH, RAY_SOUTH]
            .into_iter()
            .map(|ray| {
                let edges = part
                    .edges
                    .iter()
                    .map(|&[ax, ay, bx, by]| {
                        let ((tax, tay), (tbx, tby)) = (ray_plane(ray, ax, ay), ray_plane(ray, bx, by));
                        [tax, tay, tbx, tby]
                    })
                    .collect();
                (ray, edges)
            })
            .collect();
        let indexes: Vec<GridIndex> = [1, CELLS_PER_PART, 400]
            .into_iter()
            .map(|cells| GridIndex::build_with_cells_per_part(vec![grid("P", GridKind::Basic, shape.0.clone())], 0.0, cells))
            .collect();
        let mut samples = boundary_samples(&shape);
        samples.extend(points);
        for (x, y) in samples {
            let want = shape.intersects(&Coord { x, y });
            prop_assert_eq!(edges_contain(&part.edges, x, y), want, "at ({}, {})", x, y);
            for (ray, edges) in &planes {
                let (qx, qy) = ray_plane(*ray, x, y);
                prop_assert_eq!(edges_contain(edges, qx, qy), want, "ray {}, at ({}, {})", ray, x, y);
            }
            for index in &indexes {
                let placed = matches!(index.locate(at(x, y)), Placement::InGrid { .. });
                prop_assert_eq!(placed, want, "locate at ({}, {}) with {:?}", x, y, index);
            }
        }
    }

    /// `locate` agrees with the slow reference on random overlapping basic and dedicated grids (multipolygons,
    /// holes, shared vertices), for coarse, default and fine cell lattices.
    #[test]
    fn locate_agrees_with_reference(
        shapes in proptest::collection::vec(
            (proptest::collection::vec(arb_polygon().prop_filter("valid", |p| p.is_valid()), 1..3), any::<bool>()),
            1..8,
        ),
        points in proptest::collection::vec(arb_lattice_point(), 128),
        margin_m in 0.0f64..200_000.0,
    ) {
        let mut grids: Vec<GridShape> = shapes
            .into_iter()
            .enumerate()
            .map(|(i, (polygons, dedicated))| {
                let kind = if dedicated { GridKind::Dedicated } else { GridKind::Basic };
                grid(&format!("G{i:02}"), kind, polygons)
            })
            .collect();
        // A twin of the first grid under a smaller code: equal areas, so the code must decide.
        let mut twin = grids[0].clone();
        twin.code = "G00-twin".to_owned();
        grids.push(twin);

        let mut samples: Vec<(f64, f64)> = grids.iter().flat_map(|g| boundary_samples(&g.shape)).collect();
        samples.extend(points);
        samples.extend([(-40.0, 0.0), (0.0, 14.0), (13.9, -13.9)]);
        for cells_per_part in [1, CELLS_PER_PART, 400] {
            let index = GridIndex::build_with_cells_per_part(grids.clone(), margin_m, cells_per_part);
            for &(x, y) in &samples {
                let want = reference_locate(&grids, margin_m, x, y);
                prop_assert_eq!(index.locate(at(x, y)), want, "at ({}, {}), {} cells per part", x, y, cells_per_part);
            }
        }
    }
}

#[test]
fn whole_cells_are_used_on_fine_lattices() {
    // A big square on a fine lattice: most cells must be marked whole, or the fast path is never taken.
    let index = GridIndex::build_with_cells_per_part(
        vec![grid("A", GridKind::Basic, vec![square(0.0, 0.0, 1.0, 1.0)])],
        0.0,
        400,
    );
    let stats = index.run_stats();
    assert!(stats.whole > stats.partial * 3, "{stats:?}");
    assert_eq!(
        index.locate(at(0.5, 0.5)),
        in_grid("A", GridKind::Basic, None)
    );
    assert_eq!(
        index.locate(at(1.0, 0.37)),
        in_grid("A", GridKind::Basic, None)
    );
}

#[test]
fn cells_keep_few_edges_and_use_every_ray_direction() {
    // A 400-vertex circle on a lattice of about 14 x 14 cells: a row or column meets ~14-30 edges on each side,
    // and a partial cell should carry only those on its shortest way out.
    let ring: Vec<(f64, f64)> = (0..=400)
        .map(|k| {
            let a = f64::from(k) / 400.0 * std::f64::consts::TAU;
            (a.cos(), a.sin())
        })
        .collect();
    let circle = Polygon::new(LineString::from(ring), vec![]);
    let index = GridIndex::build(vec![grid("C", GridKind::Basic, vec![circle.clone()])], 0.0);
    let mut rays = std::collections::BTreeSet::new();
    let mut pos = 0;
    while let Some(&[_, count, flags, _]) = index.runs.get(pos) {
        if flags as u32 & FLAG_WHOLE == 0 {
            rays.insert(flags as u32 & RAY_MASK);
        }
        pos += 1 + count as usize;
    }
    assert_eq!(rays.len(), 4, "{rays:?}");
    let stats = index.run_stats();
    assert!(stats.edges <= stats.partial * 12, "{stats:?}");
    let shape = MultiPolygon::new(vec![circle]);
    for k in 0..2000 {
        let (x, y) = (
            f64::from(k % 45) / 20.0 - 1.1,
            f64::from(k / 45) / 20.0 - 1.1,
        );
        let want = shape.intersects(&Coord { x, y });
        assert_eq!(
            matches!(index.locate(at(x, y)), Placement::InGrid { .. }),
            want,
            "({x}, {y})"
        );
    }
}

#[test]
fn long_jagged_boundaries_stay_exact_and_compact() {
    // One grid with a 6,000-vertex jagged boundary and a hole, beside a small grid: the lattice follows the edge
    // count, and every answer still matches geo.
    let n = 6000;
    let ring: Vec<(f64, f64)> = (0..=n)
        .map(|k| {
            let a = f64::from(k % n) / f64::from(n) * std::f64::consts::TAU;
            let r = if k % 2 == 0 { 1.0 } else { 0.97 } + 0.1 * (7.0 * a).sin();
            (r * a.cos(), r * a.sin())
        })
        .collect();
    let hole = LineString::from(vec![
        (-0.2, -0.2),
        (0.2, -0.2),
        (0.2, 0.2),
        (-0.2, 0.2),
        (-0.2, -0.2),
    ]);
    let big = Polygon::new(LineString::from(ring), vec![hole]);
    let index = GridIndex::build(
        vec![
            grid("BIG", GridKind::Basic, vec![big.clone()]),
            grid(
                "SMALL",
                GridKind::Dedicated,
                vec![square(0.5, 0.5, 0.6, 0.6)],
            ),
        ],
        100_000.0,
    );
    let stats = index.run_stats();
    assert!(stats.edges < 40 * n as usize, "{stats:?}");
    let shape = MultiPolygon::new(vec![big]);
    for k in 0..4000 {
        let (x, y) = (
            f64::from(k % 80) / 35.0 - 1.15,
            f64::from(k / 80) / 22.0 - 1.15,
        );
        let want = if (0.5..=0.6).contains(&x) && (0.5..=0.6).contains(&y) {
            in_grid(
                "SMALL",
                GridKind::Dedicated,
                shape.intersects(&Coord { x, y }).then_some("BIG"),
            )
        } else if shape.intersects(&Coord { x, y }) {
            in_grid("BIG", GridKind::Basic, None)
        } else {
            Placement::OutsideAllGrids
        };
        assert_eq!(index.locate(at(x, y)), want, "({x}, {y})");
    }
}
