//! Collects the figures of a run, prints them, and writes them as JSON to
//! `bench/results/latest.json`.

use std::path::PathBuf;

/// The figures of one run, grouped in sections.
#[derive(Debug, Default)]
pub(crate) struct Report {
    sections: Vec<(String, Vec<(String, String)>)>,
    values: serde_json::Map<String, serde_json::Value>,
}

impl Report {
    /// Adds a printed line `label: text` to `section`.
    pub(crate) fn line(
        &mut self,
        section: &str,
        label: impl Into<String>,
        text: impl Into<String>,
    ) {
        let entry = match self.sections.iter_mut().find(|(s, _)| s == section) {
            Some(entry) => entry,
            None => {
                self.sections.push((section.to_owned(), Vec::new()));
                self.sections.last_mut().expect("just pushed")
            }
        };
        entry.1.push((label.into(), text.into()));
    }

    /// Records a number under `key` in the JSON file.
    pub(crate) fn value(&mut self, key: impl Into<String>, value: f64) {
        self.values.insert(
            key.into(),
            serde_json::json!((value * 1000.0).round() / 1000.0),
        );
    }

    /// Prints every section and writes the JSON file.
    pub(crate) fn print(&self) {
        println!();
        for (section, lines) in &self.sections {
            println!("## {section}");
            let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
            for (label, text) in lines {
                println!("  {label:<width$}  {text}");
            }
            println!();
        }
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("results");
        let file = dir.join("latest.json");
        let text = serde_json::to_string_pretty(&self.values).expect("JSON");
        match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, text + "\n")) {
            Ok(()) => println!("figures written to {}", file.display()),
            Err(e) => eprintln!("cannot write {}: {e}", file.display()),
        }
    }
}

/// Milliseconds with two decimals.
pub(crate) fn ms(d: std::time::Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
