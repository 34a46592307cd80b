//! Output of the CLI: readable tables, or one JSON document with `--json`; errors on
//! stderr (as `{"error": {...}}` with `--json`).

use residentdesk::AppError;
use serde::Serialize;
use serde_json::json;

pub struct Out {
    pub json: bool,
}

impl Out {
    /// Prints `value` as JSON, or runs `human` to print it for a person.
    pub fn value<T: Serialize>(&self, value: &T, human: impl FnOnce()) {
        if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(text) => println!("{text}"),
                Err(e) => {
                    eprintln!("{{\"error\":{{\"code\":\"internal\",\"message\":\"cannot encode output: {e}\"}}}}")
                }
            }
        } else {
            human();
        }
    }

    pub fn error(&self, e: &AppError) {
        if self.json {
            let mut err = json!({ "code": e.code, "message": e.message });
            if !e.details.is_null() {
                err["details"] = e.details.clone();
            }
            eprintln!("{}", json!({ "error": err }));
        } else {
            eprintln!("error: {}", e.message);
            if let Some(problems) = e.details.get("problems").and_then(|p| p.as_array()).filter(|p| p.len() > 1) {
                for p in problems {
                    eprintln!("  - {}: {}", p["field"].as_str().unwrap_or("?"), p["message"].as_str().unwrap_or("?"));
                }
            }
        }
    }
}

/// Shortens text to `max` characters for a table cell.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

/// Prints rows under headers with columns padded to their widest cell.
pub fn print_table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row);
    }
}

/// A random password for a new account, shown once.
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}
