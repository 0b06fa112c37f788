//! Conversions between WGS-84, GCJ-02 and BD-09.
//!
//! Phones and GPS receivers report WGS-84 (CGCS2000 differs from it by centimetres and is treated as the same);
//! maps published in mainland China use GCJ-02 (AutoNavi/Amap, Tencent) or BD-09 (Baidu). Everything Fengqiao
//! stores is WGS-84, so a coordinate is converted with [`to_wgs84`] as soon as it arrives.
//!
//! GCJ-02 is the publicly documented obfuscation formula (Krasovsky ellipsoid constants); BD-09 is a further
//! shift of GCJ-02. Outside mainland China (a rough bounding box, see [`in_mainland_china_box`]) both are taken to
//! equal WGS-84, the usual convention of these formulas' open implementations.
//!
//! GCJ-02 has no closed-form inverse: [`gcj02_to_wgs84`] iterates the forward transform until it reproduces the
//! input within [`INVERSE_TOLERANCE_DEG`], rather than using the common one-step approximation, which can be off
//! by a metre or two. [`bd09_to_gcj02`] refines the published inverse formula the same way.

use std::f64::consts::PI;

/// Semi-major axis of the Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula (metres).
const KRASOVSKY_A: f64 = 6_378_245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid.
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;
/// The angular factor of the BD-09 shift (π · 3000 / 180).
const BD_X_PI: f64 = PI * 3000.0 / 180.0;

/// The largest error, in degrees, that [`gcj02_to_wgs84`] and [`bd09_to_gcj02`] leave: the forward transform of
/// their result is within this of the input on both axes (about 0.1 mm).
pub const INVERSE_TOLERANCE_DEG: f64 = 1e-9;
/// Safety bound on the inverse iteration; it normally converges in 3 to 5 steps.
const INVERSE_MAX_ITERATIONS: usize = 30;

/// A coordinate reference system a client may send positions in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CoordSystem {
    /// WGS-84 (GPS); CGCS2000 is accepted as the same system.
    Wgs84,
    /// GCJ-02, the "Mars" coordinates of Amap, Tencent and Apple maps in China.
    Gcj02,
    /// BD-09, Baidu's coordinates.
    Bd09,
}

impl CoordSystem {
    /// Reads a system name: `wgs84`, `WGS-84`, `cgcs2000`, `gcj02`, `GCJ-02`, `bd09` or `BD-09`, ignoring case
    /// (and `_` for `-`). Returns `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let normalized: String = s
            .trim()
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match normalized.as_str() {
            "wgs84" | "cgcs2000" => Some(Self::Wgs84),
            "gcj02" => Some(Self::Gcj02),
            "bd09" | "bd09ll" => Some(Self::Bd09),
            _ => None,
        }
    }

    /// The canonical lowercase name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wgs84 => "wgs84",
            Self::Gcj02 => "gcj02",
            Self::Bd09 => "bd09",
        }
    }
}

/// A position as longitude and latitude in degrees (east and north positive).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LngLat {
    /// Longitude in degrees.
    pub lng: f64,
    /// Latitude in degrees.
    pub lat: f64,
}

impl LngLat {
    /// A position from longitude and latitude in degrees.
    pub const fn new(lng: f64, lat: f64) -> Self {
        Self { lng, lat }
    }
}

/// Whether a position lies in the rough bounding box of mainland China (longitude 72.004–137.8347,
/// latitude 0.8293–55.8271) inside which GCJ-02 and BD-09 differ from WGS-84.
///
/// The box is the one conventionally used with the GCJ-02 formula; it also contains some neighbouring
/// territory, where the conversion is applied all the same (so it stays consistent with map vendors' tools).
pub fn in_mainland_china_box(p: LngLat) -> bool {
    (72.004..=137.8347).contains(&p.lng) && (0.8293..=55.8271).contains(&p.lat)
}

/// The GCJ-02 offset polynomial for latitude, in "metres" of the formula's own scale.
fn offset_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

/// The GCJ-02 offset polynomial for longitude.
fn offset_lng(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// The GCJ-02 shift (in degrees) applied at a WGS-84 position, without the bounding-box test.
fn gcj02_shift(p: LngLat) -> LngLat {
    let d_lat = offset_lat(p.lng - 105.0, p.lat - 35.0);
    let d_lng = offset_lng(p.lng - 105.0, p.lat - 35.0);
    let rad_lat = p.lat / 180.0 * PI;
    let sin_lat = rad_lat.sin();
    let magic = 1.0 - KRASOVSKY_EE * sin_lat * sin_lat;
    let sqrt_magic = magic.sqrt();
    LngLat {
        lng: (d_lng * 180.0) / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI),
        lat: (d_lat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI),
    }
}

/// WGS-84 to GCJ-02. Positions outside mainland China are returned unchanged.
pub fn wgs84_to_gcj02(p: LngLat) -> LngLat {
    if !in_mainland_china_box(p) {
        return p;
    }
    let d = gcj02_shift(p);
    LngLat {
        lng: p.lng + d.lng,
        lat: p.lat + d.lat,
    }
}

/// GCJ-02 to WGS-84, precise to [`INVERSE_TOLERANCE_DEG`]: finds the WGS-84 position whose GCJ-02 image is `p`
/// by fixed-point iteration. Positions outside mainland China are returned unchanged.
pub fn gcj02_to_wgs84(p: LngLat) -> LngLat {
    if !in_mainland_china_box(p) || !p.lng.is_finite() || !p.lat.is_finite() {
        return p;
    }
    // Start from the one-step approximation and correct by the residual; the shift changes slowly with position,
    // so each step shrinks the error by a factor of a few hundred.
    let mut w = p;
    for _ in 0..INVERSE_MAX_ITERATIONS {
        let d = gcj02_shift(w);
        let err_lng = w.lng + d.lng - p.lng;
        let err_lat = w.lat + d.lat - p.lat;
        if err_lng.abs() < INVERSE_TOLERANCE_DEG && err_lat.abs() < INVERSE_TOLERANCE_DEG {
            break;
        }
        w.lng -= err_lng;
        w.lat -= err_lat;
    }
    w
}

/// GCJ-02 to BD-09. Positions outside mainland China are returned unchanged.
pub fn gcj02_to_bd09(p: LngLat) -> LngLat {
    if !in_mainland_china_box(p) {
        return p;
    }
    let (x, y) = (p.lng, p.lat);
    let z = x.hypot(y) + 0.000_02 * (y * BD_X_PI).sin();
    let theta = y.atan2(x) + 0.000_003 * (x * BD_X_PI).cos();
    LngLat {
        lng: z * theta.cos() + 0.0065,
        lat: z * theta.sin() + 0.006,
    }
}

/// The published one-step inverse of [`gcj02_to_bd09`]; off by up to about 1e-6 degrees.
fn bd09_to_gcj02_one_step(p: LngLat) -> LngLat {
    let x = p.lng - 0.0065;
    let y = p.lat - 0.006;
    let z = x.hypot(y) - 0.000_02 * (y * BD_X_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * BD_X_PI).cos();
    LngLat {
        lng: z * theta.cos(),
        lat: z * theta.sin(),
    }
}

/// BD-09 to GCJ-02, precise to [`INVERSE_TOLERANCE_DEG`]: the published inverse formula is off by up to about
/// 1e-6 degrees (0.1 m), so its result is refined until [`gcj02_to_bd09`] maps it back onto `p`. Positions outside
/// mainland China are returned unchanged.
pub fn bd09_to_gcj02(p: LngLat) -> LngLat {
    if !in_mainland_china_box(p) || !p.lng.is_finite() || !p.lat.is_finite() {
        return p;
    }
    let mut g = bd09_to_gcj02_one_step(p);
    for _ in 0..INVERSE_MAX_ITERATIONS {
        let b = gcj02_to_bd09(g);
        let err_lng = b.lng - p.lng;
        let err_lat = b.lat - p.lat;
        if err_lng.abs() < INVERSE_TOLERANCE_DEG && err_lat.abs() < INVERSE_TOLERANCE_DEG {
            break;
        }
        g.lng -= err_lng;
        g.lat -= err_lat;
    }
    g
}

/// BD-09 to WGS-84 (through GCJ-02).
pub fn bd09_to_wgs84(p: LngLat) -> LngLat {
    gcj02_to_wgs84(bd09_to_gcj02(p))
}

/// WGS-84 to BD-09 (through GCJ-02).
pub fn wgs84_to_bd09(p: LngLat) -> LngLat {
    gcj02_to_bd09(wgs84_to_gcj02(p))
}

/// Converts a position given in `system` to WGS-84.
pub fn to_wgs84(system: CoordSystem, p: LngLat) -> LngLat {
    match system {
        CoordSystem::Wgs84 => p,
        CoordSystem::Gcj02 => gcj02_to_wgs84(p),
        CoordSystem::Bd09 => bd09_to_wgs84(p),
    }
}

/// Converts a WGS-84 position to `system` (for handing positions to a map that expects it).
pub fn from_wgs84(system: CoordSystem, p: LngLat) -> LngLat {
    match system {
        CoordSystem::Wgs84 => p,
        CoordSystem::Gcj02 => wgs84_to_gcj02(p),
        CoordSystem::Bd09 => wgs84_to_bd09(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assert_close(got: LngLat, want: LngLat, tol: f64, what: &str) {
        assert!(
            (got.lng - want.lng).abs() <= tol && (got.lat - want.lat).abs() <= tol,
            "{what}: got ({:.10}, {:.10}), want ({:.10}, {:.10}), tolerance {tol:e}",
            got.lng,
            got.lat,
            want.lng,
            want.lat
        );
    }

    #[test]
    fn parse_accepts_the_documented_spellings() {
        for (s, want) in [
            ("wgs84", CoordSystem::Wgs84),
            ("WGS-84", CoordSystem::Wgs84),
            ("Wgs84", CoordSystem::Wgs84),
            ("cgcs2000", CoordSystem::Wgs84),
            ("CGCS2000", CoordSystem::Wgs84),
            ("gcj02", CoordSystem::Gcj02),
            ("GCJ-02", CoordSystem::Gcj02),
            ("gcj-02", CoordSystem::Gcj02),
            ("bd09", CoordSystem::Bd09),
            ("BD-09", CoordSystem::Bd09),
            (" bd09 ", CoordSystem::Bd09),
        ] {
            assert_eq!(CoordSystem::parse(s), Some(want), "{s}");
        }
        for s in ["", "wgs", "gcj", "epsg:4326", "bd-09mc", "utm"] {
            assert_eq!(CoordSystem::parse(s), None, "{s}");
        }
    }

    #[test]
    fn serde_names_are_lowercase() {
        let json =
            serde_json::to_string(&[CoordSystem::Wgs84, CoordSystem::Gcj02, CoordSystem::Bd09])
                .expect("serializes");
        assert_eq!(json, r#"["wgs84","gcj02","bd09"]"#);
        for s in [CoordSystem::Wgs84, CoordSystem::Gcj02, CoordSystem::Bd09] {
            assert_eq!(CoordSystem::parse(s.as_str()), Some(s));
        }
    }

    // Reference pairs for the forward GCJ-02 transform from googollee/eviltransform's test suite
    // (go/transform_test.go, "shanghai", "shenzhen", "beijing"): (WGS-84 lng, lat) -> (GCJ-02 lng, lat).
    // That suite compares to 5 decimals; these checks use 1e-6 degrees (about 0.1 m).
    const EVILTRANSFORM_PAIRS: [((f64, f64), (f64, f64)); 3] = [
        (
            (121.527_210_6, 31.177_427_6),
            (121.531_541_859_215, 31.175_303_983_645_97),
        ),
        (
            (113.912_316, 22.543_847),
            (113.917_176_480_836_3, 22.540_796_131_694_766),
        ),
        (
            (116.377_817, 39.911_954),
            (116.384_047_224_556_57, 39.913_345_455_360_69),
        ),
    ];

    #[test]
    fn wgs84_to_gcj02_matches_eviltransform_vectors() {
        for ((wl, wt), (gl, gt)) in EVILTRANSFORM_PAIRS {
            let got = wgs84_to_gcj02(LngLat::new(wl, wt));
            assert_close(got, LngLat::new(gl, gt), 1e-6, "wgs84_to_gcj02");
        }
    }

    #[test]
    fn gcj02_to_wgs84_recovers_eviltransform_vectors() {
        // eviltransform only asks its exact inverse for 0.5 m; ours is held to 1e-6 degrees.
        for ((wl, wt), (gl, gt)) in EVILTRANSFORM_PAIRS {
            let got = gcj02_to_wgs84(LngLat::new(gl, gt));
            assert_close(got, LngLat::new(wl, wt), 1e-6, "gcj02_to_wgs84");
        }
    }

    // wandergis/coordtransform (JavaScript), test/app.js: all four conversions applied to (116.404, 39.915),
    // near Tiananmen, with the printed results.
    const COORDTRANSFORM_INPUT: LngLat = LngLat::new(116.404, 39.915);

    #[test]
    fn matches_coordtransform_readme_example() {
        let p = COORDTRANSFORM_INPUT;
        // coordtransform's bd09togcj02 is the one-step inverse, which ours refines by up to ~1e-6 degrees.
        assert_close(
            bd09_to_gcj02(p),
            LngLat::new(116.397_627_291_193_15, 39.908_656_739_576_31),
            2e-6,
            "bd09_to_gcj02",
        );
        assert_close(
            gcj02_to_bd09(p),
            LngLat::new(116.410_369_493_710_29, 39.921_336_993_510_21),
            1e-9,
            "gcj02_to_bd09",
        );
        assert_close(
            wgs84_to_gcj02(p),
            LngLat::new(116.410_244_499_169_38, 39.916_404_281_501_64),
            1e-9,
            "wgs84_to_gcj02",
        );
        // coordtransform's gcj02towgs84 is the one-step approximation (116.39775550083061, 39.91359571849836).
        // The precise inverse lies near it (within ~1e-5 degrees) but not on it, and maps back exactly.
        let precise = gcj02_to_wgs84(p);
        assert_close(
            precise,
            LngLat::new(116.397_755_500_830_61, 39.913_595_718_498_36),
            2e-5,
            "gcj02_to_wgs84 near the one-step approximation",
        );
        assert_close(wgs84_to_gcj02(precise), p, 1e-9, "gcj02_to_wgs84 maps back");
    }

    // Alibaba Cloud address-purification API documentation, TransferCoord example response: the GCJ-02 point
    // (120.026268, 30.279164) in Hangzhou is given as BD-09 (120.032768, 30.285238) and WGS-84
    // (120.021519, 30.281543), rounded to 6 decimals. Their WGS-84 value agrees with the one-step approximate
    // inverse, so the precise inverse is only expected near it (about 1.5 m away here).
    #[test]
    fn matches_aliyun_transfer_coord_example() {
        let gcj = LngLat::new(120.026_268, 30.279_164);
        let aliyun_wgs = LngLat::new(120.021_519, 30.281_543);
        assert_close(
            gcj02_to_bd09(gcj),
            LngLat::new(120.032_768, 30.285_238),
            1.5e-6,
            "bd09",
        );
        let wgs = gcj02_to_wgs84(gcj);
        assert_close(wgs, aliyun_wgs, 2e-5, "wgs84 near the approximation");
        assert_close(wgs84_to_gcj02(wgs), gcj, 1e-9, "wgs84 maps back");
        assert_close(
            to_wgs84(CoordSystem::Bd09, LngLat::new(120.032_768, 30.285_238)),
            wgs,
            2e-6,
            "bd09 -> wgs84",
        );
    }

    #[test]
    fn outside_china_nothing_moves() {
        for p in [
            LngLat::new(-0.1276, 51.5072),  // London
            LngLat::new(139.6917, 35.6895), // Tokyo, east of the box
            LngLat::new(151.2093, -33.8688),
            LngLat::new(60.0, 40.0),
        ] {
            assert_eq!(wgs84_to_gcj02(p), p);
            assert_eq!(gcj02_to_wgs84(p), p);
            assert_eq!(wgs84_to_bd09(p), p);
            assert_eq!(bd09_to_wgs84(p), p);
            for s in [CoordSystem::Wgs84, CoordSystem::Gcj02, CoordSystem::Bd09] {
                assert_eq!(to_wgs84(s, p), p);
                assert_eq!(from_wgs84(s, p), p);
            }
        }
    }

    #[test]
    fn inside_china_the_shift_is_hundreds_of_metres() {
        let p = LngLat::new(116.391, 39.907);
        let g = wgs84_to_gcj02(p);
        let d = ((g.lng - p.lng).powi(2) + (g.lat - p.lat).powi(2)).sqrt();
        assert!(d > 0.001 && d < 0.02, "{d}");
    }

    #[test]
    fn non_finite_input_does_not_hang_or_panic() {
        for p in [
            LngLat::new(f64::NAN, 30.0),
            LngLat::new(120.0, f64::INFINITY),
        ] {
            for s in [CoordSystem::Wgs84, CoordSystem::Gcj02, CoordSystem::Bd09] {
                let _ = to_wgs84(s, p);
            }
        }
    }

    proptest! {
        #[test]
        fn gcj02_round_trip_within_1e6(lng in 73.0f64..135.0, lat in 3.9f64..53.6) {
            let w = LngLat::new(lng, lat);
            let back = gcj02_to_wgs84(wgs84_to_gcj02(w));
            prop_assert!((back.lng - lng).abs() < 1e-6 && (back.lat - lat).abs() < 1e-6,
                "{w:?} -> {back:?}");
        }

        #[test]
        fn bd09_round_trip_within_1e6(lng in 73.0f64..135.0, lat in 3.9f64..53.6) {
            let w = LngLat::new(lng, lat);
            let back = bd09_to_wgs84(wgs84_to_bd09(w));
            prop_assert!((back.lng - lng).abs() < 1e-6 && (back.lat - lat).abs() < 1e-6,
                "{w:?} -> {back:?}");
            let g = LngLat::new(lng, lat);
            let g_back = bd09_to_gcj02(gcj02_to_bd09(g));
            prop_assert!((g_back.lng - lng).abs() < 1e-6 && (g_back.lat - lat).abs() < 1e-6);
        }

        #[test]
        fn inverse_reproduces_its_input(lng in 73.0f64..135.0, lat in 3.9f64..53.6) {
            let g = LngLat::new(lng, lat);
            let fwd = wgs84_to_gcj02(gcj02_to_wgs84(g));
            prop_assert!((fwd.lng - lng).abs() < 1e-7 && (fwd.lat - lat).abs() < 1e-7);
        }
    }
}
