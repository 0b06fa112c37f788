//! Makes sure `web/dist` exists, so the binary builds (with an empty front end) before the web assets are
//! built, and rebuilds when they change (`npm run build` in `web/`).

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    if !dist.exists()
        && let Err(e) = std::fs::create_dir_all(&dist)
    {
        println!("cargo::warning=could not create {}: {e}", dist.display());
    }
    println!("cargo::rerun-if-changed={}", dist.display());
}
