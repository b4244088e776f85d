//! What was read: one row per file with its kind, plant, period, row
//! account and, for a file that could not be read, why in plain words.

use leptos::prelude::*;

use super::Session;

#[derive(Clone, PartialEq)]
struct FileRow {
    /// Position in the report: the same file picked twice gives two rows
    /// with equal name and hash, and each needs a key of its own.
    idx: usize,
    name: String,
    sha: String,
    kind: String,
    plant: String,
    period: String,
    rows_in: u64,
    records: u64,
    skipped: Vec<(String, u64)>,
    /// The skipped ranges in the user's terms ("sheet X rows 35–36:
    /// blank"), as many as the core lets the page show.
    ranges: crew_mrv_core::Capped<String>,
    /// The account in words, lines included for a text file.
    lines: String,
    problem: Option<String>,
    encoding: Option<String>,
    /// No profile reads it: the mapping view can make one.
    unmapped: bool,
}

#[component]
pub fn FilesPanel() -> impl IntoView {
    let s = expect_context::<Session>();
    let rows = Memo::new(move |_| {
        s.report.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.files
                        .iter()
                        .enumerate()
                        .map(|(idx, f)| {
                            let acc = f.account_in_run();
                            let problem = crew_mrv_core::file_problem(f);
                            FileRow {
                                idx,
                                name: f.name.to_string(),
                                sha: f.sha256.clone(),
                                kind: f
                                    .kind
                                    .map(|k| k.describe().to_string())
                                    .unwrap_or_else(|| "not recognised".into()),
                                plant: f.plant_id.as_deref().unwrap_or("—").to_string(),
                                period: f
                                    .period
                                    .map(|(a, b)| format!("{a} → {b}"))
                                    .unwrap_or_else(|| "—".into()),
                                rows_in: acc.rows_in,
                                records: acc.records,
                                skipped: acc
                                    .by_reason()
                                    .into_iter()
                                    .map(|(k, n)| (k.describe().to_string(), n))
                                    .collect(),
                                ranges: crew_mrv_core::skip_ranges(f),
                                lines: acc.summary_line(),
                                problem,
                                encoding: f.encoding.map(|e| e.as_str().to_string()),
                                unmapped: matches!(
                                    f.error.as_ref().map(|e| &e.kind),
                                    Some(
                                        crew_mrv_core::FileErrorKind::UnrecognisedWorkbook { .. }
                                            | crew_mrv_core::FileErrorKind::UnrecognisedCsv { .. }
                                    )
                                ),
                            }
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    view! {
        <section class="panel" aria-labelledby="files-h">
            <div class="panel-head">
                <h2 id="files-h">"Files read"</h2>
                <div class="actions">
                    <button class="button" data-testid="download-files"
                        on:click=move |_| super::download_output(s, crew_mrv_core::export::Output::Files, &crew_mrv_core::Filter::default())>"files.csv"</button>
                    <button class="button" data-testid="download-lab"
                        on:click=move |_| super::download_output(s, crew_mrv_core::export::Output::LabReadings, &crew_mrv_core::Filter::default())>"lab_readings.csv"</button>
                    <button class="button" data-testid="download-ops"
                        on:click=move |_| super::download_output(s, crew_mrv_core::export::Output::PlantOperations, &crew_mrv_core::Filter::default())>"plant_operations.csv"</button>
                    <button class="button" data-testid="download-sql" title="The whole batch for PostgreSQL: psql -f crew_mrv_batch.sql (the same script as crew-mrv run --sql)"
                        on:click=move |_| super::download_output(s, crew_mrv_core::export::Output::Sql, &crew_mrv_core::Filter::default())>"crew_mrv_batch.sql"</button>
                </div>
            </div>
            <p class="muted">"Every row of every sheet is either a record or skipped with a reason: rows read = records + skipped. A text file's lines are its rows plus the lines inside quoted fields."</p>
            <div class="table-wrap">
                <table class="files stack" data-testid="files-table">
                    <thead>
                        <tr>
                            <th scope="col">"File"</th>
                            <th scope="col">"Kind"</th>
                            <th scope="col">"Plant"</th>
                            <th scope="col">"Period"</th>
                            <th scope="col" class="num">"Rows"</th>
                            <th scope="col" class="num">"Records"</th>
                            <th scope="col">"Skipped"</th>
                            <th scope="col"><span class="visually-hidden">"Remove"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || rows.get() key=|r| (r.idx, r.name.clone(), r.sha.clone()) let:r>
                            <tr class:bad=r.problem.is_some() data-testid="file-row" data-file=r.name.clone()>
                                <td class="name wide">
                                    <span>{r.name.clone()}</span>
                                    {r.problem.clone().map(|p| view! { <p class="error" data-testid="file-error">{p}</p> })}
                                    {r.unmapped.then(|| {
                                        let (n, h) = (r.name.clone(), r.sha.clone());
                                        view! {
                                            <button type="button" class="button small" data-testid="map-file"
                                                aria-label=format!("Map the columns of {}", r.name)
                                                on:click=move |_| {
                                                    if let Some(m) = use_context::<super::mapping::MappingState>() {
                                                        super::mapping::open(m, n.clone(), h.clone());
                                                    }
                                                }>"Map columns…"</button>
                                        }
                                    })}
                                    {r.encoding.clone().filter(|e| !e.starts_with("UTF-8")).map(|e| view! { <p class="muted">{format!("read as {e}")}</p> })}
                                </td>
                                <td data-testid="file-kind" data-label="Kind">{r.kind.clone()}</td>
                                <td data-label="Plant">{r.plant.clone()}</td>
                                <td class="nowrap" data-label="Period">{r.period.clone()}</td>
                                <td class="num" data-label="Rows" title=r.lines.clone()>{r.rows_in}</td>
                                <td class="num" data-label="Records">{r.records}</td>
                                <td class="skips wide" data-label="Skipped">
                                    {r.skipped.iter().map(|(k, n)| view! { <span class="chip">{format!("{k}: {n}")}</span> }).collect_view()}
                                    {(!r.ranges.shown.is_empty()).then(|| {
                                        let more = r.ranges.more_text("ranges (see the QA findings and files.csv)");
                                        view! {
                                            <details class="ranges">
                                                <summary>"which rows"</summary>
                                                <ul>
                                                    {r.ranges.shown.iter().map(|x| view! { <li>{x.clone()}</li> }).collect_view()}
                                                    {more.map(|m| view! { <li class="muted">{format!("… {m}")}</li> })}
                                                </ul>
                                            </details>
                                        }
                                    })}
                                </td>
                                <td class="remove">
                                    <button class="button subtle small"
                                        aria-label=format!("Remove {}", r.name)
                                        on:click={
                                            let (n, h) = (r.name.clone(), r.sha.clone());
                                            move |_| s.remove_file(n.clone(), h.clone())
                                        }>"×"</button>
                                </td>
                            </tr>
                        </For>
                        <For each=move || s.left_out.get() key=|item| item.clone() let:item>
                            <tr class="bad" data-testid="left-out-row" data-file=item.0.clone()>
                                <td class="name wide">
                                    <span>{item.0.clone()}</span>
                                    <p class="error" data-testid="file-error">{item.1.clone()}</p>
                                </td>
                                <td data-label="Kind">"not loaded"</td>
                                <td data-label="Plant">"—"</td>
                                <td data-label="Period">"—"</td>
                                <td class="num" data-label="Rows">"—"</td>
                                <td class="num" data-label="Records">"—"</td>
                                <td class="skips wide" data-label="Skipped">"—"</td>
                                <td class="remove">
                                    <button class="button subtle small"
                                        aria-label=format!("Forget {}", item.0)
                                        on:click={
                                            let item = item.clone();
                                            move |_| s.left_out.update(|l| l.retain(|x| *x != item))
                                        }>"×"</button>
                                </td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
        </section>
    }
}
