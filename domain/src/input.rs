//! What a person types for a new resident (the form, a CSV row, a CLI line): the vocabulary
//! the app's use cases, the CSV importer and the desktop's form share. Dates stay text here;
//! the one user-date parser reads them in the site's time zone.

use serde::{Deserialize, Serialize};

/// A new resident as typed by a person (dates as text, read in the site's time zone).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResidentInput {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    pub building: String,
    pub floor: String,
    pub unit: String,
    /// Access start: `YYYY-MM-DD` or ISO 8601.
    pub start: String,
    /// Access end; `None` or empty for open-ended.
    #[serde(default)]
    pub end: Option<String>,
}
