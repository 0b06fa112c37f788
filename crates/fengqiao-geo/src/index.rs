//! The in-memory point-to-grid index.
//!
//! [`GridIndex::locate`] answers "which grid is this point in?" following DESIGN.md ("Codes and scopes"): a point
//! inside a dedicated grid belongs to it and the basic grid around it is recorded too; a point in no grid but
//! inside the deployment's area (the grids' extent plus a margin) is left for the dispatcher; a point far outside
//! is refused. Points on a boundary count as inside.
//!
//! # How a lookup works
//!
//! The grids' extent is cut into a uniform lattice of cells (a few per polygon). For every cell the index keeps
//! the polygons that can contain a point of the cell, in priority order, each marked either *whole* (no edge of
//! the polygon touches the cell, and the cell lies inside it: no test needed) or *partial* (an exact test is
//! needed). The exact test is a crossing-number test over the polygon's edges, which are stored flat and bucketed
//! into horizontal slabs so that only the few edges crossing the point's slab are visited; the orientation
//! predicate is the robust one geo uses, so answers agree with `geo::Intersects` even for points on a boundary.
//!
//! Polygons are expected to be valid (holes inside their exterior, not overlapping each other); for an invalid
//! polygon the even-odd rule applies within it. The parts of a multipolygon are tested separately, so overlapping
//! parts are fine.

use geo::kernels::{Orientation, RobustKernel};
use geo::{Area, Coord, Kernel, MultiPolygon, Polygon, Rect};

use crate::coords::LngLat;

/// Metres per degree of latitude on a sphere of the mean Earth radius (6,371,008.8 m).
const METRES_PER_DEGREE: f64 = 111_195.08;
/// Target number of lattice cells per indexed polygon.
const CELLS_PER_PART: usize = 16;
/// Upper bound on the number of lattice cells, whatever the number of polygons.
const MAX_CELLS: usize = 1 << 22;
/// Roughly how many edges of a polygon share one slab.
const EDGES_PER_SLAB: usize = 2;
/// Upper bound on the slabs of one polygon.
const MAX_SLABS: usize = 1 << 12;
/// The low bit of a cell entry: set when the cell lies wholly inside the polygon.
const WHOLE_CELL: u32 = 1;

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

/// A grid as the index keeps it.
#[derive(Debug, Clone)]
struct GridMeta {
    code: String,
    kind: GridKind,
}

/// One polygon of a grid's multipolygon: what a lookup needs to test it, in half a cache line.
///
/// There is no bounding-box test: the cell lattice already narrows candidates down, and the slab of a point
/// outside the polygon's latitude range is clamped to the first or last one, whose edges then all miss it.
#[derive(Debug, Clone, Copy)]
struct Part {
    /// The polygon's southernmost latitude, where slab 0 starts.
    min_y: f64,
    /// Slabs per degree of latitude: the slab of `y` is `floor((y - min_y) * slab_scale)`, clamped.
    slab_scale: f64,
    /// Where this part's slab boundaries start in `GridIndex::slab_starts` (`slab_count + 1` entries).
    slab_base: u32,
    slab_count: u32,
    /// Index into `GridIndex::grids`.
    grid: u32,
    /// Whether the grid is dedicated (copied here to spare a lookup in `grids`).
    dedicated: bool,
}

/// A part's bounding box `[min_x, min_y, max_x, max_y]`, needed only while building.
type PartBox = [f64; 4];

/// A uniform lattice of cells over the grids' extent, each listing candidate parts (compressed rows).
#[derive(Debug, Clone, Default)]
struct Cells {
    origin_x: f64,
    origin_y: f64,
    /// Cells per degree; zero when the extent has no width (or height).
    scale_x: f64,
    scale_y: f64,
    cell_w: f64,
    cell_h: f64,
    nx: usize,
    ny: usize,
    /// `starts[c]..starts[c + 1]` are cell `c`'s entries.
    starts: Vec<u32>,
    /// `part_index << 1 | WHOLE_CELL?`, sorted so that parts come in priority order.
    entries: Vec<u32>,
}

impl Cells {
    /// The column of `x`; monotone in `x`, so a point between two others is never outside their columns.
    #[inline]
    fn col(&self, x: f64) -> usize {
        lattice_index((x - self.origin_x) * self.scale_x, self.nx)
    }

    /// The row of `y`; monotone like [`Cells::col`].
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
    /// Polygons in the same order as their grids.
    parts: Vec<Part>,
    /// Per part, `slab_count + 1` offsets into `slab_edges`.
    slab_starts: Vec<u32>,
    /// The edges crossing each slab, part after part and slab after slab (an edge crossing several slabs is
    /// listed in each), as the index in `vertices` of the edge's first end; the other end is the next vertex.
    slab_edges: Vec<u32>,
    /// Every ring's coordinates `[x, y]`, closed (last = first), ring after ring.
    vertices: Vec<[f64; 2]>,
    cells: Cells,
    extent: Option<Rect<f64>>,
    deployment_area: Option<Rect<f64>>,
}

impl std::fmt::Debug for GridIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GridIndex")
            .field("grids", &self.grids.len())
            .field("polygons", &self.parts.len())
            .field("vertices", &self.vertices.len())
            .field("slab_edges", &self.slab_edges.len())
            .field("cell_entries", &self.cells.entries.len())
            .field("cells", &(self.cells.nx, self.cells.ny))
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
        let mut boxes: Vec<PartBox> = Vec::new();
        for (grid_no, (_, grid)) in keyed.into_iter().enumerate() {
            let Ok(grid_id) = u32::try_from(grid_no) else {
                break;
            };
            for polygon in &grid.shape {
                if let Some(b) = index.add_part(polygon, grid_id, grid.kind == GridKind::Dedicated)
                {
                    boxes.push(b);
                }
            }
            index.grids.push(GridMeta {
                code: grid.code,
                kind: grid.kind,
            });
        }

        index.extent = boxes.iter().fold(None, |acc: Option<Rect<f64>>, b| {
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
        index.build_cells(&boxes, cells_per_part);
        index
    }

    /// Indexes one polygon of a grid and returns its bounding box; skips it (returning `None`) when it has no
    /// usable exterior or a non-finite coordinate.
    fn add_part(&mut self, polygon: &Polygon<f64>, grid: u32, dedicated: bool) -> Option<PartBox> {
        let rings = || std::iter::once(polygon.exterior()).chain(polygon.interiors());
        if polygon.exterior().0.is_empty()
            || rings().any(|r| r.0.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()))
        {
            return None;
        }
        let first_vertex = self.vertices.len();
        let slab_base = u32::try_from(self.slab_starts.len()).ok()?;
        // Every ring closed, one after another; `edges` lists each edge's first vertex.
        let mut edges: Vec<usize> = Vec::new();
        for ring in rings() {
            let Some(&first) = ring.0.first() else {
                continue;
            };
            let start = self.vertices.len();
            self.vertices.extend(ring.0.iter().map(|c| [c.x, c.y]));
            if ring.0.len() == 1 || ring.0.last() != Some(&first) {
                // Close the ring; a single coordinate becomes a zero-length edge, so that the point itself
                // still counts as being on the boundary.
                self.vertices.push([first.x, first.y]);
            }
            edges.extend(start..self.vertices.len() - 1);
        }
        let part_vertices = &self.vertices[first_vertex..];
        let (mut min_x, mut min_y) = (f64::INFINITY, f64::INFINITY);
        let (mut max_x, mut max_y) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for &[x, y] in part_vertices {
            min_x = min_x.min(x);
            min_y = min_y.min(y);
            max_x = max_x.max(x);
            max_y = max_y.max(y);
        }

        let height = max_y - min_y;
        let slab_count = if height > 0.0 {
            (edges.len() / EDGES_PER_SLAB).clamp(1, MAX_SLABS)
        } else {
            1
        };
        let slab_scale = if height > 0.0 {
            slab_count as f64 / height
        } else {
            0.0
        };
        let vertices = &self.vertices;
        let slab_range = |e: usize| {
            let (ay, by) = (vertices[e][1], vertices[e + 1][1]);
            let slab_of = |y: f64| lattice_index((y - min_y) * slab_scale, slab_count);
            slab_of(ay.min(by))..=slab_of(ay.max(by))
        };

        // Counting sort of edges into slabs; an edge goes into every slab its latitude range reaches.
        let mut counts = vec![0usize; slab_count + 1];
        for &e in &edges {
            for s in slab_range(e) {
                counts[s + 1] += 1;
            }
        }
        for s in 1..=slab_count {
            counts[s] += counts[s - 1];
        }
        let first_edge = self.slab_edges.len();
        let total = counts[slab_count];
        u32::try_from(first_edge.checked_add(total)?).ok()?;
        u32::try_from(self.vertices.len()).ok()?;
        let mut fill = counts.clone();
        let mut bucketed = vec![0u32; total];
        for &e in &edges {
            for s in slab_range(e) {
                bucketed[fill[s]] = e as u32;
                fill[s] += 1;
            }
        }
        self.slab_starts
            .extend(counts.iter().map(|c| (first_edge + *c) as u32));
        self.slab_edges.extend_from_slice(&bucketed);
        self.parts.push(Part {
            min_y,
            slab_scale,
            slab_base,
            slab_count: slab_count as u32,
            grid,
            dedicated,
        });
        Some([min_x, min_y, max_x, max_y])
    }

    /// Builds the cell lattice over the extent and lists each cell's candidate parts.
    fn build_cells(&mut self, boxes: &[PartBox], cells_per_part: usize) {
        let Some(extent) = self.extent else {
            return;
        };
        let (w, h) = (extent.width(), extent.height());
        let target = self
            .parts
            .len()
            .saturating_mul(cells_per_part.max(1))
            .clamp(1, MAX_CELLS);
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
        let cells = Cells {
            origin_x: extent.min().x,
            origin_y: extent.min().y,
            scale_x: if w > 0.0 { nx as f64 / w } else { 0.0 },
            scale_y: if h > 0.0 { ny as f64 / h } else { 0.0 },
            cell_w: w / nx as f64,
            cell_h: h / ny as f64,
            nx,
            ny,
            starts: Vec::new(),
            entries: Vec::new(),
        };
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
        let eps = 64.0 * f64::EPSILON * magnitude + 1e-9 * cells.cell_w.max(cells.cell_h);

        let mut pairs: Vec<u64> = Vec::new();
        let mut touched: Vec<bool> = Vec::new();
        for (part_no, (part, b)) in self.parts.iter().zip(boxes).enumerate() {
            let (c0, c1) = (cells.col(b[0]), cells.col(b[2]));
            let (r0, r1) = (cells.row(b[1]), cells.row(b[3]));
            let span = c1 - c0 + 1;
            touched.clear();
            touched.resize(span * (r1 - r0 + 1), false);
            for e in self.part_edges_unique(part) {
                mark_edge_cells(&cells, e, eps, (c0, c1, r0, r1), &mut touched);
            }
            let entry_base = (part_no as u32) << 1;
            for r in r0..=r1 {
                for c in c0..=c1 {
                    let cell_no = (r * cells.nx + c) as u64;
                    if touched[(r - r0) * span + c - c0] {
                        pairs.push(cell_no << 32 | u64::from(entry_base));
                        continue;
                    }
                    // No edge reaches this cell: it is wholly inside or wholly outside; its centre decides.
                    let cx = cells.origin_x + (c as f64 + 0.5) * cells.cell_w;
                    let cy = cells.origin_y + (r as f64 + 0.5) * cells.cell_h;
                    if cells.col(cx) != c || cells.row(cy) != r {
                        pairs.push(cell_no << 32 | u64::from(entry_base));
                    } else if self.part_contains(part, cx, cy) {
                        pairs.push(cell_no << 32 | u64::from(entry_base | WHOLE_CELL));
                    }
                }
            }
        }
        pairs.sort_unstable();
        let mut starts = Vec::with_capacity(nx * ny + 1);
        let mut entries = Vec::with_capacity(pairs.len());
        let mut next = 0usize;
        for cell_no in 0..nx * ny {
            starts.push(entries.len() as u32);
            while next < pairs.len() && (pairs[next] >> 32) as usize == cell_no {
                entries.push(pairs[next] as u32);
                next += 1;
            }
        }
        starts.push(entries.len() as u32);
        self.cells = Cells {
            starts,
            entries,
            ..cells
        };
    }

    /// Every edge `[ax, ay, bx, by]` of a part once (an edge is listed in each slab it crosses; this takes it
    /// from the first).
    fn part_edges_unique<'a>(&'a self, part: &'a Part) -> impl Iterator<Item = [f64; 4]> + 'a {
        let base = part.slab_base as usize;
        let count = part.slab_count as usize;
        (0..count).flat_map(move |s| {
            let (lo, hi) = (
                self.slab_starts[base + s] as usize,
                self.slab_starts[base + s + 1] as usize,
            );
            self.slab_edges[lo..hi].iter().filter_map(move |&e| {
                let ([ax, ay], [bx, by]) =
                    (self.vertices[e as usize], self.vertices[e as usize + 1]);
                let first = lattice_index((ay.min(by) - part.min_y) * part.slab_scale, count);
                (first == s).then_some([ax, ay, bx, by])
            })
        })
    }

    /// Whether the point lies inside the part or on its boundary.
    #[inline]
    fn part_contains(&self, part: &Part, x: f64, y: f64) -> bool {
        let slab = lattice_index((y - part.min_y) * part.slab_scale, part.slab_count as usize);
        let at = part.slab_base as usize + slab;
        let (lo, hi) = (
            self.slab_starts[at] as usize,
            self.slab_starts[at + 1] as usize,
        );
        let mut inside = false;
        for &e in &self.slab_edges[lo..hi] {
            let ([ax, ay], [bx, by]) = (self.vertices[e as usize], self.vertices[e as usize + 1]);
            // Edges wholly above, below or left of the point neither touch it nor cross the ray to its right.
            if (ay > y && by > y) || (ay < y && by < y) || (ax < x && bx < x) {
                continue;
            }
            if ay == by {
                // Horizontal edge on the point's line (the ray never crosses one): the point is on it if
                // it lies between the ends (the right end is known to be at or right of the point).
                if x >= ax.min(bx) {
                    return true;
                }
                continue;
            }
            let crosses = (ay > y) != (by > y);
            if ax > x && bx > x {
                // Wholly right of the point: it cannot touch it, and it crosses the ray when it straddles the line.
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

    /// The dedicated and basic grids (indices into `grids`) containing the point, by priority.
    #[inline]
    fn find(&self, x: f64, y: f64) -> (Option<u32>, Option<u32>) {
        let cells = &self.cells;
        let cell = cells.row(y) * cells.nx + cells.col(x);
        let (lo, hi) = (cells.starts[cell] as usize, cells.starts[cell + 1] as usize);
        let mut dedicated: Option<u32> = None;
        for &entry in &cells.entries[lo..hi] {
            let part = &self.parts[(entry >> 1) as usize];
            if part.dedicated && dedicated.is_some() {
                continue;
            }
            if entry & WHOLE_CELL != 0 || self.part_contains(part, x, y) {
                if part.dedicated {
                    dedicated = Some(part.grid);
                } else {
                    return (dedicated, Some(part.grid));
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
            let code = |g: u32| self.grids.get(g as usize).map(|m| m.code.as_str());
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
        self.grids.iter().find(|g| g.code == code).map(|g| g.kind)
    }
}

/// Marks the cells (within the part's cell range) that an edge may touch, conservatively.
fn mark_edge_cells(
    cells: &Cells,
    [ax, ay, bx, by]: [f64; 4],
    eps: f64,
    (c0, c1, r0, r1): (usize, usize, usize, usize),
    touched: &mut [bool],
) {
    let span = c1 - c0 + 1;
    let (ey0, ey1) = (ay.min(by), ay.max(by));
    let (ex0, ex1) = (ax.min(bx), ax.max(bx));
    let (er0, er1) = (cells.row(ey0), cells.row(ey1));
    let mut mark_row = |r: usize, x_lo: f64, x_hi: f64| {
        let (lo, hi) = (cells.col(x_lo).max(c0), cells.col(x_hi).min(c1));
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
            cells.origin_y + r as f64 * cells.cell_h - eps
        };
        let y_hi = if r + 1 == cells.ny {
            f64::INFINITY
        } else {
            cells.origin_y + (r + 1) as f64 * cells.cell_h + eps
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
