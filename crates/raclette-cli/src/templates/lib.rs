//! Server half of the raclette plugin `{{folder}}`.

use raclette::{Json, Registrar, Routes, extract::State};
use serde::Deserialize;
use serde_json::{Value, json};

/// The plugin's options: `[options]` in raclette.plugin.toml, overridden by
/// `[plugins.{{folder}}.options]` in the app's raclette.toml.
#[derive(Debug, Clone, Deserialize)]
pub struct Options {
    /// The word the hello route answers with.
    pub greeting: String,
}

/// Entry point called by the framework at start-up.
pub fn plugin(app: &mut Registrar) -> raclette::Result<()> {
    let options: Options = app.options()?;
    // Open to everyone; without `.public()` it would need a signed-in user.
    app.routes(Routes::new().get("/hello", hello).public().with_state(options))?;
    Ok(())
}

/// `GET {{prefix}}/hello`
async fn hello(State(options): State<Options>) -> Json<Value> {
    Json(json!({ "plugin": "{{folder}}", "message": options.greeting }))
}
