//! Server half of the built-in `raclette__home` plugin.
//!
//! One route, `GET /plugin/raclette/home/overview`: the app's plugins
//! (key, version, description, whether built in, whether enabled; the same
//! facts `GET /raclette/plugins` lists) for the
//! home page at `/`. It is written against the public plugin API only, like
//! any app's plugin; disable it with `[plugins.raclette__home] enabled =
//! false` in `raclette.toml`.

use std::sync::Arc;

use raclette::{Json, PluginSummary, Registrar, Routes, extract::State};
use serde::Serialize;

/// The answer of `GET /overview`.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// Every plugin of the app, in dependency order.
    pub plugins: Vec<PluginSummary>,
}

/// Entry point called by the framework.
pub fn plugin(app: &mut Registrar) -> raclette::Result<()> {
    let overview = Arc::new(Overview {
        plugins: app.app_plugins().to_vec(),
    });
    app.routes(
        Routes::new()
            .get("/overview", overview_route)
            // The same facts as the framework's `GET /raclette/plugins`.
            .public()
            .with_state(overview),
    )?;
    Ok(())
}

async fn overview_route(State(overview): State<Arc<Overview>>) -> Json<Overview> {
    Json(Overview::clone(&overview))
}
