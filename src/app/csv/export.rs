//! Exporting residents as CSV: the sites of the request within the person's scope, rows
//! streamed from SQLite to the writer (constant memory), every export audited.

use crate::app::gate::At;
use crate::app::progress::{Progress, Ticker};
use crate::app::residents::{site_tz, ResidentFilter};
use crate::app::usecases as uc;
use crate::app::{App, Session};
use crate::csvio::export::{Layout, RowWriter};
use crate::csvio::Columns;
use crate::error::{AppError, AppResult};
use crate::store::{self, residents::Resident, sites::Site};
use chrono::{DateTime, Utc};
use residentdesk_domain::status::{derive_flags, Lifecycle};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::Write;

/// What to export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportRequest {
    /// One site (id, remote id or name); `None`: every site the person sees in the active team.
    #[serde(default)]
    pub site: Option<String>,
    /// Status, building and search filters (`limit` is ignored).
    #[serde(default)]
    pub filter: ResidentFilter,
    #[serde(default)]
    pub columns: Columns,
    /// Excel-safe output: UTF-8 BOM, CRLF, formula-like cells neutralised.
    #[serde(default)]
    pub excel: bool,
    /// Dates as site-local wall-clock time instead of ISO 8601 UTC.
    #[serde(default)]
    pub local_dates: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportSummary {
    pub sites: Vec<String>,
    pub rows: u64,
    pub columns: Columns,
    pub excel: bool,
    pub local_dates: bool,
}

impl App {
    /// Exports residents to `out` as CSV (streaming) and audits the export. Nobody watches
    /// its progress, so nothing is counted beforehand.
    pub fn export_residents(
        &mut self,
        session: &Session,
        request: &ExportRequest,
        out: &mut dyn Write,
    ) -> AppResult<ExportSummary> {
        self.export(session, request, out, None)
    }

    /// [`App::export_residents`], telling `progress` how many rows are written (every
    /// 1,000 rows and at the end). Without a filter the total is every resident of the
    /// sites, counted first; with one it is not known beforehand.
    pub fn export_residents_observed(
        &mut self,
        session: &Session,
        request: &ExportRequest,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(Progress),
    ) -> AppResult<ExportSummary> {
        self.export(session, request, out, Some(progress))
    }

    /// The export, observed or not: the total for a progress bar costs a pass over each
    /// site's index range (about 5 % of a team's export at 1M), done only for an observer.
    fn export(
        &mut self,
        session: &Session,
        request: &ExportRequest,
        out: &mut dyn Write,
        progress: Option<&mut dyn FnMut(Progress)>,
    ) -> AppResult<ExportSummary> {
        let at = match request.site.as_deref() {
            Some(site) => At::Site(site),
            None => At::Team,
        };
        let rd = self.read(session, &uc::EXPORT, at)?;
        let now = rd.ctx.now;
        let sites: Vec<Site> = match &rd.ctx.site {
            Some(site) => vec![site.clone()],
            None => {
                let sites = rd.ctx.sites_allowed(&rd)?;
                if sites.is_empty() {
                    return Err(AppError::not_found(format!("you see no site in team {}", rd.ctx.team.name)));
                }
                sites
            }
        };
        let layout = Layout {
            columns: request.columns,
            excel: request.excel,
            local_dates: request.local_dates,
            with_site: request.site.is_none(),
        };
        // Signing out stops the export at its next progress tick (every 1,000 rows).
        let live = self.live_sessions();
        let signed_out = || live.ended(session.actor.staff_id);
        let unfiltered = request.filter.statuses.is_empty()
            && request.filter.main.is_empty()
            && request.filter.building.as_deref().is_none_or(str::is_empty)
            && request.filter.search.as_deref().is_none_or(|s| s.trim().is_empty());
        let result = {
            // The count reads each site's index range, the rows each site's pages: both once,
            // so both stream through the small cache. Counted under the default 32 MB cache,
            // a team of 834 sites grew the process by 3.7 MB before the first row (issue #17).
            let _cache = store::CacheSize::set(&rd, store::export::STREAMING_CACHE_KIB)?;
            let total = match unfiltered && progress.is_some() {
                true => {
                    Some(sites.iter().map(|s| store::residents::count_in_site(&rd, s.id)).sum::<Result<i64, _>>()?
                        as u64)
                }
                false => None,
            };
            let mut unobserved = |_: Progress| {};
            let progress = progress.unwrap_or(&mut unobserved);
            let mut ticker = Ticker::new("export", total, progress).stop_when(&signed_out);
            let result = write_rows(&rd, &sites, &request.filter, layout, now, out, &mut ticker);
            ticker.finish();
            result
        };
        drop(rd);
        // A damaged file gets no audit entry of the failure: nothing more is written to it.
        if let Err((_, e)) = &result {
            if e.reason() == Some(crate::error::ErrorReason::DbDamaged) {
                return Err(e.clone());
            }
        }
        let names: Vec<String> = sites.iter().map(|s| s.name.clone()).collect();
        let (outcome, rows, error) = match &result {
            Ok(rows) => ("ok", *rows, None),
            Err((rows, e)) => ("failed", *rows, Some(e.message.clone())),
        };
        // The audit entry has a (short) write transaction of its own: the rows were streamed
        // outside any write transaction, so a long export never holds the writer's lock.
        let tx = self.write(session, &uc::EXPORT, at)?;
        let site_id = (sites.len() == 1).then(|| sites[0].id);
        let target = if request.site.is_some() { names[0].clone() } else { format!("{} site(s)", names.len()) };
        tx.audit()
            .outcome(outcome)
            .site(site_id)
            .target(target)
            .details(json!({
                "sites": names,
                "rows": rows,
                "columns": request.columns,
                "excel": request.excel,
                "local_dates": request.local_dates,
                "filter": request.filter,
                "error": error,
            }))
            .write()?;
        tx.commit()?;
        result.map_err(|(_, e)| e)?;
        Ok(ExportSummary {
            sites: names,
            rows,
            columns: request.columns,
            excel: request.excel,
            local_dates: request.local_dates,
        })
    }
}

/// Streams the residents of `sites` that pass `filter`; returns the rows written, or the
/// rows written before an error and the error. The caller has set the streaming page cache.
fn write_rows(
    conn: &rusqlite::Connection,
    sites: &[Site],
    filter: &ResidentFilter,
    layout: Layout,
    now: DateTime<Utc>,
    out: &mut dyn Write,
    ticker: &mut Ticker<'_>,
) -> Result<u64, (u64, AppError)> {
    let io_err = |e: std::io::Error| AppError::internal(format!("cannot write the export: {e}"));
    let mut writer = RowWriter::new(out, layout).map_err(|e| (0, io_err(e)))?;
    let needs_resident = filter.building.as_deref().is_some_and(|b| !b.is_empty())
        || filter.search.as_deref().is_some_and(|s| !s.trim().is_empty());
    for site in sites {
        let tz = site_tz(site);
        let result = store::export::for_each_raw_in_site(conn, site.id, |r| -> AppResult<()> {
            let (Some(activation), deactivation, onboarded) = (
                crate::csvio::dates::parse_stored(r.activation),
                r.deactivation.and_then(crate::csvio::dates::parse_stored),
                r.onboarded_at.and_then(crate::csvio::dates::parse_stored),
            ) else {
                return Err(AppError::internal(format!("resident #{} has an unreadable activation date", r.id)));
            };
            let life = Lifecycle {
                activation_utc: activation,
                deactivation_utc: deactivation,
                onboarded_at: onboarded,
                suspended: r.suspended,
            };
            let flags = derive_flags(&life, now);
            let passes = if needs_resident {
                filter.matches(&resident_of(r, site.id, life), flags)
            } else {
                (filter.statuses.is_empty() || filter.statuses.iter().any(|s| flags.contains(*s)))
                    && (filter.main.is_empty() || filter.main.contains(&flags.main()))
            };
            if passes {
                writer.write(r, flags, tz, &site.name).map_err(io_err)?;
                ticker.tick();
                if ticker.stopped() {
                    return Err(crate::app::idle::signed_out());
                }
            }
            Ok(())
        });
        result.map_err(|e| (writer.rows(), e))?;
    }
    let rows = writer.rows();
    writer.finish().map_err(|e| (rows, io_err(e)))?;
    Ok(rows)
}

/// A resident built from a raw row, for the filters that look at names (slow path).
fn resident_of(r: &store::export::RawResident<'_>, site_id: i64, life: Lifecycle) -> Resident {
    Resident {
        id: r.id,
        site_id,
        remote_id: r.remote_id.map(str::to_string),
        first_name: r.first_name.to_string(),
        last_name: r.last_name.to_string(),
        email: r.email.to_string(),
        phone: r.phone.to_string(),
        building: r.building.to_string(),
        floor: r.floor.to_string(),
        unit: r.unit.to_string(),
        activation_utc: life.activation_utc,
        deactivation_utc: life.deactivation_utc,
        onboarded_at: life.onboarded_at,
        suspended: life.suspended,
        invited_at: None,
        ssid: None,
        service_area: None,
        created_at: life.activation_utc,
        updated_at: life.activation_utc,
    }
}
