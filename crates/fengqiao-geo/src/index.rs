//! The in-memory point-to-grid index.
//!
//! [`GridIndex::locate`] answers "which grid is this point in?" following DESIGN.md ("Codes and scopes"): a point
//! inside a dedicated grid belongs to it and the basic grid around it is recorded too; a point in no grid but
//! inside the deployment's area (the grids' extent plus a margin) is left for the dispatcher; a point far outside
//! is refused. Points on a boundary count as inside. Where grids of one kind overlap, the smallest (by area in
//! square degrees) wins, then the smallest code.
//!
//! # How a lookup works
//!
//! The grids' extent is cut into a uniform lattice of cells (about 16 per polygon, or one per two edges when
//! boundaries are long). Each cell keeps one contiguous *run* listing, in priority order (dedicated grids first,
//! then smaller area, then code), the polygons that may contain a point of the cell. A polygon is either *whole*
//! in the cell (no edge reaches the cell and the cell lies inside: no test needed) or *partial*. A partial
//! polygon comes with a copy of just those of its edges that a ray from a point of the cell can meet, for the
//! one of the four directions (east, west, north, south) that meets the fewest: for a ray east, the edges
//! crossing the cell's row whose east end is not west of the cell. The edges are stored reflected or rotated so
//! that the test always casts its ray east. A lookup reads one cell bound and one run (contiguous memory, so
//! cache misses stay few) and runs a crossing-number test over a handful of edges (3.6 on average in the
//! benchmark's layout). The orientation predicate is the robust one geo uses, so answers agree with
//! `geo::Intersects`, points on a boundary included.
//!
//! Which edges a cell keeps is decided with the lattice's own `floor` arithmetic, which is monotone, so no edge
//! that matters to a point can be left out by rounding; whether an edge reaches a cell is decided on the cell
//! widened by a rounding margin, so a doubtful cell is merely treated as partial.
//!
//! Polygons are expected to be valid (holes inside their exterior, not overlapping each other); for an invalid
//! polygon the even-odd rule applies within it. The parts of a multipolygon are tested separately, so overlapping
//! parts are fine. Memory grows with the number of cells a boundary crosses times the edges a ray from those cells
//! meets on its shortest way out: about 2.3 KB per grid of 33 vertices in the benchmark's layout.

use geo::kernels::{Orientation, RobustKernel};
use geo::{Area, Coord, Kernel, MultiPolygon, Polygon, Rect};

use crate::coords::LngLat;

/// Metres per degree of latitude on a sphere of the mean Earth radius (6,371,008.8 m).
const METRES_PER_DEGREE: f64 = 111_195.08;
/// Target number of lattice cells per indexed polygon.
const CELLS_PER_PART: usize = 16;
/// Target number of lattice cells per two polygon edges, so that polygons with long boundaries get finer cells.
const EDGES_PER_CELL: usize = 2;
/// Upper bound on the number of lattice cells, whatever the input.
const MAX_CELLS: usize = 1 << 22;
/// Run header flag: the cell lies wholly inside the polygon.
const FLAG_WHOLE: u32 = 1;
/// Run header flag: the polygon belongs to a dedicated grid.
const FLAG_DEDICATED: u32 = 2;
/// Run header bits: which way the ray goes. The edges are stored transformed so that the ray, cast east in the
/// transformed plane, goes this way in the real one (a reflection or a rotation: parity and touching survive).
const RAY_MASK: u32 = 12;
/// The ray goes east: `(x, y)` as it is.
const RAY_EAST: u32 = 0;
/// The ray goes west: `(x, y) -> (-x, y)`.
const RAY_WEST: u32 = 4;
/// The ray goes north: `(x, y) -> (y, x)`.
const RAY_NORTH: u32 = 8;
/// The ray goes south: `(x, y) -> (-y, x)`.
const RAY_SOUTH: u32 = 12;

/// `(x, y)` in the plane where a ray cast east goes the way `ray` says.
#[inline]
fn ray_plane(ray: u32, x: f64, y: f64) -> (f64, f64) {
    match ray {
        RAY_WEST => (-x, y),
        RAY_NORTH => (y, x),
        RAY_SOUTH => (-y, x),
        _ => (x, y),
    }
}

/// What a grid is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridKind {
    /// A basic grid (基础网格): the territorial grids that together cover a village.
    Basic,
    /// A dedicated grid (专属网格): a school, hospital, market or industrial park carved out of basic grids.
    Dedicated,
}

/// One grid's shape, for building a [`GridIndex`].
#[derive(Debug, Clone, PartialEq)]
pub struct GridShape {
    /// The grid's code (its village's code plus a 3-digit number).
    pub code: String,
    /// Basic or dedicated.
    pub kind: GridKind,
    /// The grid's area as longitude/latitude in WGS-84 degrees.
    pub shape: MultiPolygon<f64>,
}

/// Where a point falls.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "placement", rename_all = "snake_case")]
pub enum Placement {
    /// The point lies in `grid`; when that is a dedicated grid, `basic_grid` is the basic grid around it (if any).
    InGrid {
        /// The grid's code.
        grid: String,
        /// The grid's kind.
        kind: GridKind,
        /// For a dedicated grid, the basic grid that also contains the point.
        basic_grid: Option<String>,
    },
    /// Inside the deployment's area (grids' extent plus the margin) but in no grid: the dispatcher places it.
    OutsideAllGrids,
    /// Far outside the deployment's area: refused.
    OutsideArea,
}

/// [`Placement`] borrowing the codes from the index, for callers that look up many points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementRef<'a> {
    /// See [`Placement::InGrid`].
    InGrid {
        /// The grid's code.
        grid: &'a str,
        /// The grid's kind.
        kind: GridKind,
        /// For a dedicated grid, the basic grid that also contains the point.
        basic_grid: Option<&'a str>,
    },
    /// See [`Placement::OutsideAllGrids`].
    OutsideAllGrids,
    /// See [`Placement::OutsideArea`].
    OutsideArea,
}

impl PlacementRef<'_> {
    /// The owned [`Placement`].
    pub fn to_placement(self) -> Placement {
        match self {
            Self::InGrid {
                grid,
                kind,
                basic_grid,
            } => Placement::InGrid {
                grid: grid.to_owned(),
                kind,
                basic_grid: basic_grid.map(str::to_owned),
            },
            Self::OutsideAllGrids => Placement::OutsideAllGrids,
            Self::OutsideArea => Placement::OutsideArea,
        }
    }
}

/// A grid as the index keeps it: its code is `GridIndex::codes[code]`.
#[derive(Debug, Clone)]
struct GridMeta {
    code: std::ops::Range<usize>,
    kind: GridKind,
}

/// One polygon of a grid, while the index is being built.
struct BuildPart {
    /// Index into `GridIndex::grids`.
    grid: u32,
    dedicated: bool,
    /// `[min_x, min_y, max_x, max_y]`.
    bbox: [f64; 4],
    /// Every edge `[ax, ay, bx, by]` of every ring.
    edges: Vec<[f64; 4]>,
}

/// A uniform lattice of cells over the grids' extent.
#[derive(Debug, Clone, Copy, Default)]
struct Lattice {
    origin_x: f64,
    origin_y: f64,
    /// Cells per degree; zero when the extent has no width (or height).
    scale_x: f64,
    scale_y: f64,
    cell_w: f64,
    cell_h: f64,
    nx: usize,
    ny: usize,
}

impl Lattice {
    /// A lattice of about `target` square-ish cells over `extent`.
    fn over(extent: Rect<f64>, target: usize) -> Self {
        let (w, h) = (extent.width(), extent.height());
        let target = target.clamp(1, MAX_CELLS);
        let (nx, ny) = if w > 0.0 && h > 0.0 {
            let side = (w * h / target as f64).sqrt();
            let nx = ((w / side).ceil() as usize).clamp(1, target);
            let ny = ((h / side).ceil() as usize).clamp(1, (target / nx).max(1));
            (nx, ny)
        } else if w > 0.0 {
            (target, 1)
        } else if h > 0.0 {
            (1, target)
        } else {
            (1, 1)
        };
        Self {
            origin_x: extent.min().x,
            origin_y: extent.min().y,
            scale_x: if w > 0.0 { nx as f64 / w } else { 0.0 },
            scale_y: if h > 0.0 { ny as f64 / h } else { 0.0 },
            cell_w: w / nx as f64,
            cell_h: h / ny as f64,
            nx,
            ny,
        }
    }

    /// The column of `x`; monotone in `x`, so a point between two others is never outside their columns.
    #[inline]
    fn col(&self, x: f64) -> usize {
        lattice_index((x - self.origin_x) * self.scale_x, self.nx)
    }

    /// The row of `y`; monotone like [`Lattice::col`].
    #[inline]
    fn row(&self, y: f64) -> usize {
        lattice_index((y - self.origin_y) * self.scale_y, self.ny)
    }
}

/// `floor(t)` clamped to `0..n` (NaN gives 0); monotone in `t`.
#[inline]
fn lattice_index(t: f64, n: usize) -> usize {
    // `as` saturates: negative and NaN give 0, huge values usize::MAX.
    (t as usize).min(n.saturating_sub(1))
}

/// The point-to-grid index: built once from the grids' shapes, then read by any number of threads.
#[derive(Clone, Default)]
pub struct GridIndex {
    /// Grids in priority order: dedicated before basic, then smaller area first, then by code.
    grids: Vec<GridMeta>,
    /// All grids' codes, one after another (one short allocation instead of one per grid).
    codes: String,
    /// How many polygons were indexed.
    polygons: usize,
    lattice: Lattice,
    /// Cell `c`'s run is `runs[starts[c]..starts[c + 1]]`.
    starts: Vec<usize>,
    /// The cells' runs, one after another. In a run, each candidate polygon has a header slot
    /// `[grid index, edge count, flags, 0]` (small integers held exactly as `f64`) followed by its edges
    /// `[ax, ay, bx, by]` for this cell, transformed for the ray's direction (see [`ray_plane`]).
    runs: Vec<[f64; 4]>,
    extent: Option<Rect<f64>>,
    deployment_area: Option<Rect<f64>>,
}

impl std::fmt::Debug for GridIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GridIndex")
            .field("grids", &self.grids.len())
            .field("polygons", &self.polygons)
            .field("cells", &(self.lattice.nx, self.lattice.ny))
            .field("run_stats", &self.run_stats())
            .field("extent", &self.extent)
            .field("deployment_area", &self.deployment_area)
            .finish()
    }
}

/// Orders grids for the "pick deterministically" rule: dedicated first, then smaller area, then code.
fn priority_order(area_a: f64, a: &GridShape, area_b: f64, b: &GridShape) -> std::cmp::Ordering {
    let rank = |kind: GridKind| match kind {
        GridKind::Dedicated => 0u8,
        GridKind::Basic => 1u8,
    };
    rank(a.kind)
        .cmp(&rank(b.kind))
        .then(area_a.total_cmp(&area_b))
        .then_with(|| a.code.cmp(&b.code))
}

/// Counts over an index's runs (see [`GridIndex::run_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RunStats {
    whole: usize,
    partial: usize,
    edges: usize,
}

/// One candidate polygon of one cell, before the runs are laid out.
struct Piece {
    cell: usize,
    part: usize,
    flags: u32,
    /// Range in the scratch edge list.
    edges: std::ops::Range<usize>,
}

impl GridIndex {
    /// An index with no grids: every point is [`Placement::OutsideArea`].
    pub fn empty() -> Self {
        Self::default()
    }

    /// Builds the index. `margin_m` (metres, negative or non-finite taken as 0) widens the grids' extent into the
    /// deployment's area; it is converted to degrees at the extent's latitude farthest from the equator, so the
    /// margin is at least `margin_m` all round.
    ///
    /// Polygons with a non-finite coordinate or an empty exterior are left out (the grid still counts in
    /// [`GridIndex::len`]); validate shapes before building if that should be an error.
    pub fn build(grids: Vec<GridShape>, margin_m: f64) -> Self {
        Self::build_with_cells_per_part(grids, margin_m, CELLS_PER_PART)
    }

    /// [`GridIndex::build`] with a chosen lattice density (tests use it to exercise coarse and fine lattices).
    fn build_with_cells_per_part(
        grids: Vec<GridShape>,
        margin_m: f64,
        cells_per_part: usize,
    ) -> Self {
        let mut keyed: Vec<(f64, GridShape)> = grids
            .into_iter()
            .map(|g| (g.shape.unsigned_area(), g))
            .collect();
        keyed.sort_by(|(area_a, a), (area_b, b)| priority_order(*area_a, a, *area_b, b));

        let mut index = Self::default();
        let mut parts: Vec<BuildPart> = Vec::new();
        for (grid_no, (_, grid)) in keyed.into_iter().enumerate() {
            let Ok(grid_id) = u32::try_from(grid_no) else {
                break;
            };
            let dedicated = grid.kind == GridKind::Dedicated;
            parts.extend(
                grid.shape
                    .iter()
                    .filter_map(|polygon| build_part(polygon, grid_id, dedicated)),
            );
            let start = index.codes.len();
            index.codes.push_str(&grid.code);
            index.grids.push(GridMeta {
                code: start..index.codes.len(),
                kind: grid.kind,
            });
        }
        index.polygons = parts.len();
        index.extent = parts.iter().fold(None, |acc: Option<Rect<f64>>, p| {
            let b = p.bbox;
            let (lo, hi) = match acc {
                None => ((b[0], b[1]), (b[2], b[3])),
                Some(r) => (
                    (r.min().x.min(b[0]), r.min().y.min(b[1])),
                    (r.max().x.max(b[2]), r.max().y.max(b[3])),
                ),
            };
            Some(Rect::new(lo, hi))
        });
        index.deployment_area = index.extent.map(|e| widen_by_metres(e, margin_m));
        if let Some(extent) = index.extent {
            let edges: usize = parts.iter().map(|p| p.edges.len()).sum();
            let target = parts
                .len()
                .saturating_mul(cells_per_part.max(1))
                .max(edges / EDGES_PER_CELL);
            index.lattice = Lattice::over(extent, target);
            index.lay_out_runs(extent, &parts);
        }
        index
    }

    /// Lists every cell's candidate polygons with their edges for the cell, and lays the runs out.
    fn lay_out_runs(&mut self, extent: Rect<f64>, parts: &[BuildPart]) {
        let lattice = self.lattice;
        // Widening that covers rounding in the lattice arithmetic (absolute error of a few ulps of the
        // coordinates) with a wide safety factor; it only ever makes a cell "partial" that could be "whole".
        let magnitude = [
            extent.min().x,
            extent.min().y,
            extent.max().x,
            extent.max().y,
        ]
        .iter()
        .fold(1.0f64, |m, v| m.max(v.abs()));
        let eps = 64.0 * f64::EPSILON * magnitude + 1e-9 * lattice.cell_w.max(lattice.cell_h);

        let mut pieces: Vec<Piece> = Vec::new();
        let mut scratch: Vec<[f64; 4]> = Vec::new();
        let mut touched: Vec<bool> = Vec::new();
        let mut row_edges: Vec<Vec<usize>> = Vec::new();
        let mut col_edges: Vec<Vec<usize>> = Vec::new();
        for (part_no, part) in parts.iter().enumerate() {
            let [min_x, min_y, max_x, max_y] = part.bbox;
            let (c0, c1) = (lattice.col(min_x), lattice.col(max_x));
            let (r0, r1) = (lattice.row(min_y), lattice.row(max_y));
            let span = c1 - c0 + 1;
            touched.clear();
            touched.resize(span * (r1 - r0 + 1), false);
            row_edges.iter_mut().for_each(Vec::clear);
            row_edges.resize_with(r1 - r0 + 1, Vec::new);
            col_edges.iter_mut().for_each(Vec::clear);
            col_edges.resize_with(span, Vec::new);
            for (e_no, &e) in part.edges.iter().enumerate() {
                mark_edge_cells(&lattice, e, eps, (c0, c1, r0, r1), &mut touched);
                // The rows (columns) whose points can share the edge's latitude (longitude); exact, as `row`
                // and `col` are monotone.
                let (er0, er1) = (lattice.row(e[1].min(e[3])), lattice.row(e[1].max(e[3])));
                for list in &mut row_edges[er0 - r0..=er1 - r0] {
                    list.push(e_no);
                }
                let (ec0, ec1) = (lattice.col(e[0].min(e[2])), lattice.col(e[0].max(e[2])));
                for list in &mut col_edges[ec0 - c0..=ec1 - c0] {
                    list.push(e_no);
                }
            }
            let base_flags = if part.dedicated { FLAG_DEDICATED } else { 0 };
            for r in r0..=r1 {
                for c in c0..=c1 {
                    let cell = r * lattice.nx + c;
                    if !touched[(r - r0) * span + c - c0] {
                        // No edge reaches this cell: it is wholly inside or wholly outside; its centre decides.
                        let cx = lattice.origin_x + (c as f64 + 0.5) * lattice.cell_w;
                        let cy = lattice.origin_y + (r as f64 + 0.5) * lattice.cell_h;
                        if lattice.col(cx) == c && lattice.row(cy) == r {
                            if edges_contain(&part.edges, cx, cy) {
                                pieces.push(Piece {
                                    cell,
                                    part: part_no,
                                    flags: base_flags | FLAG_WHOLE,
                                    edges: 0..0,
                                });
                            }
                            continue;
                        }
                    }
                    // A ray east from a point of this cell can only meet edges of its row whose east end is
                    // not west of the cell; likewise west, and north or south along its column. Take the
                    // direction with the fewest.
                    let e = &part.edges;
                    let (row, col) = (&row_edges[r - r0], &col_edges[c - c0]);
                    let keep = |ray: u32, i: usize| match ray {
                        RAY_EAST => lattice.col(e[i][0].max(e[i][2])) >= c,
                        RAY_WEST => lattice.col(e[i][0].min(e[i][2])) <= c,
                        RAY_NORTH => lattice.row(e[i][1].max(e[i][3])) >= r,
                        _ => lattice.row(e[i][1].min(e[i][3])) <= r,
                    };
                    let candidates = |ray: u32| {
                        if ray == RAY_EAST || ray == RAY_WEST {
                            row
                        } else {
                            col
                        }
                    };
                    let count =
                        |ray: u32| candidates(ray).iter().filter(|&&i| keep(ray, i)).count();
                    let ray = [RAY_WEST, RAY_NORTH, RAY_SOUTH]
                        .into_iter()
                        .fold((RAY_EAST, count(RAY_EAST)), |best, ray| {
                            let n = count(ray);
                            if n < best.1 { (ray, n) } else { best }
                        })
                        .0;
                    let start = scratch.len();
                    scratch.extend(candidates(ray).iter().filter(|&&i| keep(ray, i)).map(|&i| {
                        let [ax, ay, bx, by] = e[i];
                        let ((tax, tay), (tbx, tby)) =
                            (ray_plane(ray, ax, ay), ray_plane(ray, bx, by));
                        [tax, tay, tbx, tby]
                    }));
                    let flags = base_flags | ray;
                    pieces.push(Piece {
                        cell,
                        part: part_no,
                        flags,
                        edges: start..scratch.len(),
                    });
                }
            }
        }

        pieces.sort_unstable_by_key(|p| (p.cell, p.part));
        let cell_count = lattice.nx * lattice.ny;
        let mut starts = Vec::with_capacity(cell_count + 1);
        let mut runs: Vec<[f64; 4]> = Vec::with_capacity(pieces.len() + scratch.len());
        let mut next = pieces.iter().peekable();
        for cell in 0..cell_count {
            starts.push(runs.len());
            while let Some(piece) = next.next_if(|p| p.cell == cell) {
                let edges = &scratch[piece.edges.clone()];
                runs.push([
                    f64::from(parts[piece.part].grid),
                    edges.len() as f64,
                    f64::from(piece.flags),
                    0.0,
                ]);
                runs.extend_from_slice(edges);
            }
        }
        starts.push(runs.len());
        self.starts = starts;
        self.runs = runs;
    }

    /// The dedicated and basic grids (indices into `grids`) containing the point, by priority.
    #[inline]
    fn find(&self, x: f64, y: f64) -> (Option<u32>, Option<u32>) {
        let cell = self.lattice.row(y) * self.lattice.nx + self.lattice.col(x);
        let (Some(&lo), Some(&hi)) = (self.starts.get(cell), self.starts.get(cell + 1)) else {
            return (None, None);
        };
        let run = self.runs.get(lo..hi).unwrap_or(&[]);
        let mut dedicated: Option<u32> = None;
        let mut at = 0;
        while let Some(&[grid, count, flags, _]) = run.get(at) {
            let (grid, count, flags) = (grid as u32, count as usize, flags as u32);
            let edges = run.get(at + 1..at + 1 + count).unwrap_or(&[]);
            at += 1 + count;
            let is_dedicated = flags & FLAG_DEDICATED != 0;
            if is_dedicated && dedicated.is_some() {
                continue;
            }
            let hit = flags & FLAG_WHOLE != 0 || {
                let (qx, qy) = ray_plane(flags & RAY_MASK, x, y);
                edges_contain(edges, qx, qy)
            };
            if hit {
                if is_dedicated {
                    dedicated = Some(grid);
                } else {
                    return (dedicated, Some(grid));
                }
            }
        }
        (dedicated, None)
    }

    /// Where the point falls, borrowing grid codes from the index (no allocation).
    pub fn locate_ref(&self, p: LngLat) -> PlacementRef<'_> {
        let (x, y) = (p.lng, p.lat);
        let within =
            |r: &Rect<f64>| x >= r.min().x && x <= r.max().x && y >= r.min().y && y <= r.max().y;
        let Some(extent) = self.extent else {
            return PlacementRef::OutsideArea;
        };
        if within(&extent) {
            let (dedicated, basic) = self.find(x, y);
            let code = |g: u32| self.code(g);
            match (dedicated.and_then(code), basic.and_then(code)) {
                (Some(grid), basic_grid) => {
                    return PlacementRef::InGrid {
                        grid,
                        kind: GridKind::Dedicated,
                        basic_grid,
                    };
                }
                (None, Some(grid)) => {
                    return PlacementRef::InGrid {
                        grid,
                        kind: GridKind::Basic,
                        basic_grid: None,
                    };
                }
                (None, None) => {}
            }
        }
        match &self.deployment_area {
            Some(area) if within(area) => PlacementRef::OutsideAllGrids,
            _ => PlacementRef::OutsideArea,
        }
    }

    /// Where the point (WGS-84) falls; see [`Placement`].
    pub fn locate(&self, p: LngLat) -> Placement {
        self.locate_ref(p).to_placement()
    }

    /// The number of grids the index was built from.
    pub fn len(&self) -> usize {
        self.grids.len()
    }

    /// Whether the index was built from no grids.
    pub fn is_empty(&self) -> bool {
        self.grids.is_empty()
    }

    /// The bounding box of all grids, or `None` without any usable polygon.
    pub fn extent(&self) -> Option<Rect<f64>> {
        self.extent
    }

    /// The deployment's area: the extent widened by the margin. Points outside it are [`Placement::OutsideArea`].
    pub fn deployment_area(&self) -> Option<Rect<f64>> {
        self.deployment_area
    }

    /// The kind of the grid with this code, if the index has it.
    pub fn kind_of(&self, code: &str) -> Option<GridKind> {
        (0..self.grids.len() as u32)
            .find(|&g| self.code(g) == Some(code))
            .and_then(|g| self.grids.get(g as usize))
            .map(|m| m.kind)
    }

    /// The code of grid `g` (an index into `grids`).
    #[inline]
    fn code(&self, g: u32) -> Option<&str> {
        let meta = self.grids.get(g as usize)?;
        self.codes.get(meta.code.clone())
    }

    /// What the runs hold: polygons whole in a cell, polygons needing a test, and edges stored for those.
    fn run_stats(&self) -> RunStats {
        let mut stats = RunStats::default();
        let mut at = 0;
        while let Some(&[_, count, flags, _]) = self.runs.get(at) {
            if flags as u32 & FLAG_WHOLE != 0 {
                stats.whole += 1;
            } else {
                stats.partial += 1;
            }
            stats.edges += count as usize;
            at += 1 + count as usize;
        }
        stats
    }
}

/// Collects one polygon's edges and bounding box; `None` when it has no usable exterior or a non-finite
/// coordinate.
fn build_part(polygon: &Polygon<f64>, grid: u32, dedicated: bool) -> Option<BuildPart> {
    let rings = || std::iter::once(polygon.exterior()).chain(polygon.interiors());
    if polygon.exterior().0.is_empty()
        || rings().any(|r| r.0.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()))
    {
        return None;
    }
    let mut bbox = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    let mut edges = Vec::new();
    for ring in rings() {
        let Some(&first) = ring.0.first() else {
            continue;
        };
        for c in &ring.0 {
            bbox = [
                bbox[0].min(c.x),
                bbox[1].min(c.y),
                bbox[2].max(c.x),
                bbox[3].max(c.y),
            ];
        }
        edges.extend(ring.0.windows(2).map(|w| [w[0].x, w[0].y, w[1].x, w[1].y]));
        match ring.0.last() {
            // A single coordinate becomes a zero-length edge, so that the point itself is on the boundary.
            _ if ring.0.len() == 1 => edges.push([first.x, first.y, first.x, first.y]),
            // geo closes rings, but be sure.
            Some(last) if *last != first => edges.push([last.x, last.y, first.x, first.y]),
            _ => {}
        }
    }
    Some(BuildPart {
        grid,
        dedicated,
        bbox,
        edges,
    })
}

/// The crossing-number test: whether `(x, y)` is inside the polygon whose edges (or, per cell, the edges that a
/// ray cast east from the point can meet) are given, or on one of them.
#[inline]
fn edges_contain(edges: &[[f64; 4]], x: f64, y: f64) -> bool {
    let mut inside = false;
    for &[ax, ay, bx, by] in edges {
        // Edges wholly above, below or west of the point neither touch it nor cross the ray to its east.
        if (ay > y && by > y) || (ay < y && by < y) || (ax < x && bx < x) {
            continue;
        }
        if ay == by {
            // Horizontal edge on the point's line (the ray never crosses one): the point is on it if it lies
            // between the ends (the east end is known to be at or east of the point).
            if x >= ax.min(bx) {
                return true;
            }
            continue;
        }
        let crosses = (ay > y) != (by > y);
        if ax > x && bx > x {
            // Wholly east of the point: it cannot touch it, and it crosses the ray when it straddles the line.
            inside ^= crosses;
            continue;
        }
        let o = RobustKernel::orient2d(
            Coord { x: ax, y: ay },
            Coord { x: bx, y: by },
            Coord { x, y },
        );
        match o {
            // On the edge's line and within its latitude range, so on the edge.
            Orientation::Collinear => return true,
            // Upward edges are crossed when the point is left of them, downward ones when it is right.
            Orientation::CounterClockwise => inside ^= crosses && by > ay,
            Orientation::Clockwise => inside ^= crosses && ay > by,
        }
    }
    inside
}

/// Marks the cells (within the part's cell range) that an edge may touch, conservatively.
fn mark_edge_cells(
    lattice: &Lattice,
    [ax, ay, bx, by]: [f64; 4],
    eps: f64,
    (c0, c1, r0, r1): (usize, usize, usize, usize),
    touched: &mut [bool],
) {
    let span = c1 - c0 + 1;
    let (ey0, ey1) = (ay.min(by), ay.max(by));
    let (ex0, ex1) = (ax.min(bx), ax.max(bx));
    let (er0, er1) = (lattice.row(ey0), lattice.row(ey1));
    let mut mark_row = |r: usize, x_lo: f64, x_hi: f64| {
        let (lo, hi) = (lattice.col(x_lo).max(c0), lattice.col(x_hi).min(c1));
        if r < r0 || r > r1 || lo > hi {
            return;
        }
        for flag in &mut touched[(r - r0) * span + lo - c0..=(r - r0) * span + hi - c0] {
            *flag = true;
        }
    };
    if er0 == er1 {
        mark_row(er0, ex0, ex1);
        return;
    }
    // The edge spans several rows (so ay != by): clip it to each row's y-range, widened by eps.
    for r in er0..=er1 {
        let y_lo = if r == 0 {
            f64::NEG_INFINITY
        } else {
            lattice.origin_y + r as f64 * lattice.cell_h - eps
        };
        let y_hi = if r + 1 == lattice.ny {
            f64::INFINITY
        } else {
            lattice.origin_y + (r + 1) as f64 * lattice.cell_h + eps
        };
        let (lo, hi) = (y_lo.max(ey0), y_hi.min(ey1));
        if lo > hi {
            continue;
        }
        let x_at = |y: f64| ax + (bx - ax) * ((y - ay) / (by - ay));
        let (xa, xb) = (x_at(lo), x_at(hi));
        let x_lo = (xa.min(xb) - eps).max(ex0);
        let x_hi = (xa.max(xb) + eps).min(ex1);
        mark_row(r, x_lo, x_hi);
    }
}

/// The rectangle widened by `margin_m` metres on every side (see [`GridIndex::build`]).
fn widen_by_metres(r: Rect<f64>, margin_m: f64) -> Rect<f64> {
    let margin_m = if margin_m.is_finite() && margin_m > 0.0 {
        margin_m
    } else {
        0.0
    };
    let d_lat = margin_m / METRES_PER_DEGREE;
    let far_lat = r.min().y.abs().max(r.max().y.abs()).min(89.0);
    let d_lng = margin_m / (METRES_PER_DEGREE * far_lat.to_radians().cos());
    Rect::new(
        (r.min().x - d_lng, r.min().y - d_lat),
        (r.max().x + d_lng, r.max().y + d_lat),
    )
}

#[cfg(test)]
mod tests;
