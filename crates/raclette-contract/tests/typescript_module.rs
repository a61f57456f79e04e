//! The committed TypeScript module of the contract is the one the Rust types
//! generate.

use std::path::PathBuf;

#[test]
fn the_committed_typescript_module_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(raclette_contract::TYPESCRIPT_MODULE_PATH);
    let generated = raclette_contract::typescript_module();
    if std::env::var_os("RACLETTE_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write the TypeScript module");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with the Rust types of raclette-contract.\n\
         Regenerate it with:\n\n    RACLETTE_BLESS=1 cargo test -p raclette-contract\n",
        raclette_contract::TYPESCRIPT_MODULE_PATH
    );
}
