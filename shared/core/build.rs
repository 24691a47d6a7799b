//! With the `openapi` feature, tells utoipa's derive that the `Timestamp`
//! alias (`time.rs`) is chrono's `DateTime<Utc>`: an RFC 3339 date-time in
//! the OpenAPI document.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_OPENAPI").is_some() {
        utoipa_config::Config::new()
            .alias_for("Timestamp", "chrono::DateTime<chrono::Utc>")
            .write_to_file();
    }
}
