//! Grids read from and written to GeoJSON.
//!
//! A deployment's grids arrive as a GeoJSON FeatureCollection, one feature per grid, with Polygon or MultiPolygon
//! geometry and these properties:
//!
//! | property | required | meaning |
//! |---|---|---|
//! | `code` | yes | the grid's code (non-empty string, unique in the file) |
//! | `name` | no | display name |
//! | `kind` | no | `basic` (default) or `dedicated` |
//! | `coord_system` | no | `wgs84` (default; also `cgcs2000`), `gcj02` or `bd09`: coordinates are converted to WGS-84 |
//!
//! Other properties are kept as they are in [`GeoJsonGrid::properties`]. Errors name the feature by its index in
//! the `features` array and the field at fault, e.g. `features[3].properties.kind`.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{Map, Value};

use crate::coords::{CoordSystem, LngLat, to_wgs84};
use crate::index::{GridKind, GridShape};

/// One grid read from GeoJSON, its shape in WGS-84.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoJsonGrid {
    /// The grid's code.
    pub code: String,
    /// The display name, when the feature has one.
    pub name: Option<String>,
    /// Basic or dedicated.
    pub kind: GridKind,
    /// The grid's area in WGS-84 longitude/latitude, whatever system the file used.
    pub shape: MultiPolygon<f64>,
    /// All of the feature's properties, as given.
    pub properties: Map<String, Value>,
}

impl From<GeoJsonGrid> for GridShape {
    fn from(g: GeoJsonGrid) -> Self {
        GridShape {
            code: g.code,
            kind: g.kind,
            shape: g.shape,
        }
    }
}

/// Why a GeoJSON grid file was refused.
#[derive(Debug, thiserror::Error)]
pub enum GeoJsonError {
    /// The text is not JSON at all.
    #[error("not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The JSON is not a FeatureCollection.
    #[error("expected a GeoJSON FeatureCollection: {0}")]
    NotAFeatureCollection(String),
    /// One feature is unusable.
    #[error("features[{index}].{field}: {message}")]
    Feature {
        /// The feature's position in the `features` array (from 0).
        index: usize,
        /// The field at fault, as a path inside the feature (`properties.code`, `geometry.coordinates[0][0][4]`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

impl GeoJsonError {
    fn feature(index: usize, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Feature {
            index,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Reads grids from a GeoJSON FeatureCollection (see the module documentation for the properties).
pub fn from_geojson(text: &str) -> Result<Vec<GeoJsonGrid>, GeoJsonError> {
    let root: Value = serde_json::from_str(text).map_err(GeoJsonError::Json)?;
    let Value::Object(root) = root else {
        return Err(GeoJsonError::NotAFeatureCollection(
            "the top level is not an object".into(),
        ));
    };
    match root.get("type") {
        Some(Value::String(t)) if t == "FeatureCollection" => {}
        Some(other) => {
            return Err(GeoJsonError::NotAFeatureCollection(format!(
                "\"type\" is {other}"
            )));
        }
        None => {
            return Err(GeoJsonError::NotAFeatureCollection(
                "\"type\" is missing".into(),
            ));
        }
    }
    let Some(Value::Array(features)) = root.get("features") else {
        return Err(GeoJsonError::NotAFeatureCollection(
            "\"features\" is missing or not an array".into(),
        ));
    };

    let mut grids: Vec<GeoJsonGrid> = Vec::with_capacity(features.len());
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (index, feature) in features.iter().enumerate() {
        let grid = read_feature(index, feature)?;
        if let Some(first) = seen.insert(grid.code.clone(), index) {
            return Err(GeoJsonError::feature(
                index,
                "properties.code",
                format!("\"{}\" is also the code of features[{first}]", grid.code),
            ));
        }
        grids.push(grid);
    }
    Ok(grids)
}

/// Reads one feature.
fn read_feature(index: usize, feature: &Value) -> Result<GeoJsonGrid, GeoJsonError> {
    let err = |field: &str, message: String| GeoJsonError::feature(index, field, message);
    let Value::Object(feature) = feature else {
        return Err(err("type", "a feature must be an object".into()));
    };
    match feature.get("type") {
        Some(Value::String(t)) if t == "Feature" => {}
        other => {
            return Err(err(
                "type",
                format!("expected \"Feature\", found {}", show(other)),
            ));
        }
    }
    let properties = match feature.get("properties") {
        Some(Value::Object(p)) => p.clone(),
        other => {
            return Err(err(
                "properties",
                format!(
                    "expected an object with at least \"code\", found {}",
                    show(other)
                ),
            ));
        }
    };

    let code = match properties.get("code") {
        Some(Value::String(c)) if !c.trim().is_empty() => c.trim().to_owned(),
        other => {
            return Err(err(
                "properties.code",
                format!("expected a non-empty string, found {}", show(other)),
            ));
        }
    };
    let name = match properties.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) => Some(n.clone()),
        other => {
            return Err(err(
                "properties.name",
                format!("expected a string, found {}", show(other)),
            ));
        }
    };
    let kind = match properties.get("kind") {
        None | Some(Value::Null) => GridKind::Basic,
        Some(Value::String(k)) if k.eq_ignore_ascii_case("basic") => GridKind::Basic,
        Some(Value::String(k)) if k.eq_ignore_ascii_case("dedicated") => GridKind::Dedicated,
        other => {
            return Err(err(
                "properties.kind",
                format!("expected \"basic\" or \"dedicated\", found {}", show(other)),
            ));
        }
    };
    let system = match properties.get("coord_system") {
        None | Some(Value::Null) => CoordSystem::Wgs84,
        Some(Value::String(s)) => CoordSystem::parse(s).ok_or_else(|| {
            err(
                "properties.coord_system",
                format!(
                    "unknown coordinate system \"{s}\" (expected wgs84, cgcs2000, gcj02 or bd09)"
                ),
            )
        })?,
        other => {
            return Err(err(
                "properties.coord_system",
                format!("expected a string, found {}", show(other)),
            ));
        }
    };

    let geometry = match feature.get("geometry") {
        Some(g @ Value::Object(_)) => serde_json::from_value::<geojson::Geometry>(g.clone())
            .map_err(|e| err("geometry", format!("not a valid GeoJSON geometry: {e}")))?,
        other => {
            return Err(err(
                "geometry",
                format!("expected a Polygon or MultiPolygon, found {}", show(other)),
            ));
        }
    };
    let shape = match &geometry.value {
        geojson::GeometryValue::Polygon { coordinates } => MultiPolygon::new(vec![
            read_polygon(coordinates, system, "geometry.coordinates")
                .map_err(|(f, m)| err(&f, m))?,
        ]),
        geojson::GeometryValue::MultiPolygon { coordinates } => {
            let mut polygons = Vec::with_capacity(coordinates.len());
            for (i, polygon) in coordinates.iter().enumerate() {
                polygons.push(
                    read_polygon(polygon, system, &format!("geometry.coordinates[{i}]"))
                        .map_err(|(f, m)| err(&f, m))?,
                );
            }
            if polygons.is_empty() {
                return Err(err(
                    "geometry.coordinates",
                    "a MultiPolygon with no polygons".into(),
                ));
            }
            MultiPolygon::new(polygons)
        }
        other => {
            return Err(err(
                "geometry.type",
                format!(
                    "expected Polygon or MultiPolygon, found {}",
                    other.type_name()
                ),
            ));
        }
    };

    Ok(GeoJsonGrid {
        code,
        name,
        kind,
        shape,
        properties,
    })
}

/// A short description of a JSON value for error messages.
fn show(v: Option<&Value>) -> String {
    match v {
        None => "nothing".into(),
        Some(Value::Null) => "null".into(),
        Some(Value::Bool(b)) => format!("the boolean {b}"),
        Some(Value::Number(n)) => format!("the number {n}"),
        Some(Value::String(s)) => format!("\"{}\"", s.chars().take(40).collect::<String>()),
        Some(Value::Array(_)) => "an array".into(),
        Some(Value::Object(_)) => "an object".into(),
    }
}

/// Reads one polygon's rings (exterior first), converting to WGS-84; errors carry the field path.
fn read_polygon(
    rings: &[Vec<geojson::Position>],
    system: CoordSystem,
    path: &str,
) -> Result<Polygon<f64>, (String, String)> {
    let mut read = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        let ring_path = format!("{path}[{r}]");
        if ring.len() < 4 {
            return Err((
                ring_path,
                format!(
                    "a ring needs at least 4 positions (closed), found {}",
                    ring.len()
                ),
            ));
        }
        let mut coords = Vec::with_capacity(ring.len());
        for (k, pos) in ring.iter().enumerate() {
            let (lng, lat) = match pos.as_slice() {
                [lng, lat, ..] => (*lng, *lat),
                _ => {
                    return Err((
                        format!("{ring_path}[{k}]"),
                        "a position needs a longitude and a latitude".into(),
                    ));
                }
            };
            if !(lng.is_finite()
                && lat.is_finite()
                && (-180.0..=180.0).contains(&lng)
                && (-90.0..=90.0).contains(&lat))
            {
                return Err((
                    format!("{ring_path}[{k}]"),
                    format!("({lng}, {lat}) is not a longitude/latitude in degrees"),
                ));
            }
            let p = to_wgs84(system, LngLat::new(lng, lat));
            coords.push(Coord { x: p.lng, y: p.lat });
        }
        if ring.first().map(|p| p.as_slice().get(..2)) != ring.last().map(|p| p.as_slice().get(..2))
        {
            return Err((
                ring_path,
                "the ring is not closed (its last position must repeat the first)".into(),
            ));
        }
        read.push(LineString::new(coords));
    }
    let mut rings = read.into_iter();
    let Some(exterior) = rings.next() else {
        return Err((path.to_owned(), "a polygon needs an exterior ring".into()));
    };
    Ok(Polygon::new(exterior, rings.collect()))
}

/// A GeoJSON Feature for one grid: MultiPolygon geometry in WGS-84 and the properties `code`, `name` (when given)
/// and `kind`, as [`from_geojson`] reads them.
pub fn to_geojson_feature(
    code: &str,
    name: Option<&str>,
    kind: GridKind,
    shape: &MultiPolygon<f64>,
) -> Value {
    let ring = |ls: &LineString<f64>| -> Value {
        Value::Array(
            ls.0.iter()
                .map(|c| Value::Array(vec![Value::from(c.x), Value::from(c.y)]))
                .collect(),
        )
    };
    let polygons: Vec<Value> = shape
        .0
        .iter()
        .map(|p| {
            Value::Array(
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(ring)
                    .collect(),
            )
        })
        .collect();
    let mut properties = Map::new();
    properties.insert("code".into(), Value::from(code));
    if let Some(name) = name {
        properties.insert("name".into(), Value::from(name));
    }
    let kind = match kind {
        GridKind::Basic => "basic",
        GridKind::Dedicated => "dedicated",
    };
    properties.insert("kind".into(), Value::from(kind));
    serde_json::json!({
        "type": "Feature",
        "properties": properties,
        "geometry": { "type": "MultiPolygon", "coordinates": polygons },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coords::{wgs84_to_bd09, wgs84_to_gcj02};
    use crate::index::{GridIndex, Placement};

    fn collection(features: Vec<Value>) -> String {
        serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
    }

    fn square_coords(x0: f64, y0: f64, d: f64) -> Value {
        serde_json::json!([[
            [x0, y0],
            [x0 + d, y0],
            [x0 + d, y0 + d],
            [x0, y0 + d],
            [x0, y0]
        ]])
    }

    fn feature(properties: Value, geometry: Value) -> Value {
        serde_json::json!({ "type": "Feature", "properties": properties, "geometry": geometry })
    }

    fn error_of(text: &str) -> (usize, String, String) {
        match from_geojson(text) {
            Err(GeoJsonError::Feature {
                index,
                field,
                message,
            }) => (index, field, message),
            other => panic!("expected a feature error, got {other:?}"),
        }
    }

    #[test]
    fn reads_polygons_multipolygons_and_properties() {
        let text = collection(vec![
            feature(
                serde_json::json!({"code": "330110001001001", "name": "一网格", "kind": "basic", "households": 312}),
                serde_json::json!({"type": "Polygon", "coordinates": square_coords(120.0, 30.0, 0.01)}),
            ),
            feature(
                serde_json::json!({"code": "330110001001901", "kind": "dedicated"}),
                serde_json::json!({"type": "MultiPolygon", "coordinates": [
                    square_coords(120.002, 30.002, 0.001),
                    square_coords(120.006, 30.006, 0.001),
                ]}),
            ),
        ]);
        let grids = from_geojson(&text).expect("reads");
        assert_eq!(grids.len(), 2);
        assert_eq!(grids[0].code, "330110001001001");
        assert_eq!(grids[0].name.as_deref(), Some("一网格"));
        assert_eq!(grids[0].kind, GridKind::Basic);
        assert_eq!(grids[0].shape.0.len(), 1);
        assert_eq!(
            grids[0].properties.get("households"),
            Some(&Value::from(312))
        );
        assert_eq!(grids[1].name, None);
        assert_eq!(grids[1].kind, GridKind::Dedicated);
        assert_eq!(grids[1].shape.0.len(), 2);

        let index = GridIndex::build(grids.into_iter().map(GridShape::from).collect(), 100.0);
        assert_eq!(
            index.locate(LngLat::new(120.0025, 30.0025)),
            Placement::InGrid {
                grid: "330110001001901".into(),
                kind: GridKind::Dedicated,
                basic_grid: Some("330110001001001".into()),
            }
        );
    }

    #[test]
    fn kind_defaults_to_basic_and_holes_are_kept() {
        let text = collection(vec![feature(
            serde_json::json!({"code": "G1", "kind": null}),
            serde_json::json!({"type": "Polygon", "coordinates": [
                [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]],
                [[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0], [1.0, 1.0]],
            ]}),
        )]);
        let grids = from_geojson(&text).expect("reads");
        assert_eq!(grids[0].kind, GridKind::Basic);
        assert_eq!(grids[0].shape.0[0].interiors().len(), 1);
    }

    #[test]
    fn converts_gcj02_and_bd09_to_wgs84() {
        // The same WGS-84 square, written in each system; all three must read back to (nearly) the same shape.
        let wgs = [
            (120.1, 30.2),
            (120.11, 30.2),
            (120.11, 30.21),
            (120.1, 30.21),
            (120.1, 30.2),
        ];
        let written = |f: fn(LngLat) -> LngLat| -> Value {
            Value::Array(vec![Value::Array(
                wgs.iter()
                    .map(|(x, y)| {
                        let p = f(LngLat::new(*x, *y));
                        serde_json::json!([p.lng, p.lat])
                    })
                    .collect(),
            )])
        };
        let text = collection(vec![
            feature(
                serde_json::json!({"code": "W"}),
                serde_json::json!({"type": "Polygon", "coordinates": written(|p| p)}),
            ),
            feature(
                serde_json::json!({"code": "G", "coord_system": "GCJ-02"}),
                serde_json::json!({"type": "Polygon", "coordinates": written(wgs84_to_gcj02)}),
            ),
            feature(
                serde_json::json!({"code": "B", "coord_system": "bd09"}),
                serde_json::json!({"type": "Polygon", "coordinates": written(wgs84_to_bd09)}),
            ),
        ]);
        let grids = from_geojson(&text).expect("reads");
        for g in &grids[1..] {
            for (got, want) in g.shape.0[0]
                .exterior()
                .0
                .iter()
                .zip(grids[0].shape.0[0].exterior().0.iter())
            {
                assert!(
                    (got.x - want.x).abs() < 1e-8 && (got.y - want.y).abs() < 1e-8,
                    "{}: {got:?}",
                    g.code
                );
            }
        }
        // The converted value differs from the raw GCJ-02 coordinates by hundreds of metres.
        let raw = wgs84_to_gcj02(LngLat::new(120.1, 30.2));
        assert!((raw.lng - 120.1).abs() > 1e-3);
    }

    #[test]
    fn round_trips_through_to_geojson_feature() {
        let text = collection(vec![feature(
            serde_json::json!({"code": "G1", "name": "东区", "kind": "dedicated"}),
            serde_json::json!({"type": "MultiPolygon", "coordinates": [
                [
                    [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]],
                    [[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0], [1.0, 1.0]],
                ],
                square_coords(10.0, 10.0, 1.0),
            ]}),
        )]);
        let first = from_geojson(&text).expect("reads");
        let g = &first[0];
        let written = to_geojson_feature(&g.code, g.name.as_deref(), g.kind, &g.shape);
        assert_eq!(
            written["properties"],
            serde_json::json!({"code": "G1", "name": "东区", "kind": "dedicated"})
        );
        let again = from_geojson(&collection(vec![written])).expect("reads again");
        assert_eq!(again, first);

        let unnamed = to_geojson_feature("G2", None, GridKind::Basic, &g.shape);
        assert_eq!(
            unnamed["properties"],
            serde_json::json!({"code": "G2", "kind": "basic"})
        );
    }

    #[test]
    fn errors_name_the_feature_and_the_field() {
        let good = || {
            feature(
                serde_json::json!({"code": "OK"}),
                serde_json::json!({"type": "Polygon", "coordinates": square_coords(0.0, 0.0, 1.0)}),
            )
        };
        let polygon =
            serde_json::json!({"type": "Polygon", "coordinates": square_coords(0.0, 0.0, 1.0)});
        let cases: Vec<(Value, &str, &str)> = vec![
            (
                feature(serde_json::json!({"name": "x"}), polygon.clone()),
                "properties.code",
                "non-empty string",
            ),
            (
                feature(serde_json::json!({"code": 12}), polygon.clone()),
                "properties.code",
                "number 12",
            ),
            (
                feature(serde_json::json!({"code": " "}), polygon.clone()),
                "properties.code",
                "non-empty",
            ),
            (
                feature(serde_json::json!(null), polygon.clone()),
                "properties",
                "found null",
            ),
            (
                feature(serde_json::json!({"code": "A", "name": 3}), polygon.clone()),
                "properties.name",
                "string",
            ),
            (
                feature(
                    serde_json::json!({"code": "A", "kind": "special"}),
                    polygon.clone(),
                ),
                "properties.kind",
                "\"special\"",
            ),
            (
                feature(
                    serde_json::json!({"code": "A", "coord_system": "utm"}),
                    polygon.clone(),
                ),
                "properties.coord_system",
                "\"utm\"",
            ),
            (
                feature(serde_json::json!({"code": "A"}), Value::Null),
                "geometry",
                "found null",
            ),
            (
                feature(
                    serde_json::json!({"code": "A"}),
                    serde_json::json!({"type": "Point", "coordinates": [1.0, 2.0]}),
                ),
                "geometry.type",
                "found Point",
            ),
            (
                feature(
                    serde_json::json!({"code": "A"}),
                    serde_json::json!({"type": "Polygon", "coordinates": 5}),
                ),
                "geometry",
                "not a valid GeoJSON geometry",
            ),
            (
                feature(
                    serde_json::json!({"code": "A"}),
                    serde_json::json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]]}),
                ),
                "geometry.coordinates[0]",
                "at least 4",
            ),
            (
                feature(
                    serde_json::json!({"code": "A"}),
                    serde_json::json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]}),
                ),
                "geometry.coordinates[0]",
                "not closed",
            ),
            (
                feature(
                    serde_json::json!({"code": "A"}),
                    serde_json::json!({"type": "MultiPolygon", "coordinates": [
                        square_coords(0.0, 0.0, 1.0),
                        [[[0.0, 0.0], [1.0, 0.0], [1.0, 95.0], [0.0, 0.0]]],
                    ]}),
                ),
                "geometry.coordinates[1][0][2]",
                "not a longitude/latitude",
            ),
            (
                feature(
                    serde_json::json!({"code": "A"}),
                    serde_json::json!({"type": "MultiPolygon", "coordinates": []}),
                ),
                "geometry.coordinates",
                "no polygons",
            ),
            (
                serde_json::json!({"type": "Fixture", "properties": {"code": "A"}, "geometry": polygon.clone()}),
                "type",
                "\"Feature\"",
            ),
            (
                feature(serde_json::json!({"code": "OK"}), polygon.clone()),
                "properties.code",
                "features[0]",
            ),
        ];
        for (bad, field, needle) in cases {
            let (index, got_field, message) = error_of(&collection(vec![good(), bad.clone()]));
            assert_eq!((index, got_field.as_str()), (1, field), "{bad}: {message}");
            assert!(
                message.contains(needle),
                "{bad}: {message:?} lacks {needle:?}"
            );
            let shown = GeoJsonError::feature(index, got_field, message).to_string();
            assert!(
                shown.starts_with(&format!("features[1].{field}: ")),
                "{shown}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_feature_collection() {
        assert!(matches!(from_geojson("{"), Err(GeoJsonError::Json(_))));
        for text in [
            "[]",
            r#"{"features": []}"#,
            r#"{"type": "Feature", "features": []}"#,
            r#"{"type": "FeatureCollection"}"#,
            r#"{"type": "FeatureCollection", "features": {}}"#,
        ] {
            assert!(
                matches!(
                    from_geojson(text),
                    Err(GeoJsonError::NotAFeatureCollection(_))
                ),
                "{text}"
            );
        }
        assert_eq!(
            from_geojson(r#"{"type": "FeatureCollection", "features": []}"#)
                .expect("empty is fine"),
            vec![]
        );
    }
}
