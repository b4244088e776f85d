//! QA findings: counts by level and severity, filters, the list with each
//! finding's place (file, sheet, row, column) and message.

use std::collections::BTreeMap;

use leptos::prelude::*;

use super::Session;
use crew_mrv_core::model::{col_letters, Severity};
use crew_mrv_core::qa::ALL_CHECKS;
use crew_mrv_core::qa_level_title;

const PAGE: usize = 50;

#[derive(Clone, PartialEq)]
struct Row {
    level: u8,
    check: &'static str,
    severity: Severity,
    plant: String,
    date: String,
    file: String,
    sheet: String,
    row: String,
    col: String,
    message: String,
}

#[component]
pub fn QaPanel() -> impl IntoView {
    let s = expect_context::<Session>();
    let level = RwSignal::new(String::new());
    let severity = RwSignal::new(String::new());
    let plant = RwSignal::new(String::new());
    let check = RwSignal::new(String::new());
    let page = RwSignal::new(0usize);
    // Opens on what needs attention: infos (duplicate samples and the
    // like, hundreds on a real batch) are folded until asked for, picked
    // as the severity or a check is picked.
    let show_info = RwSignal::new(false);

    let all = Memo::new(move |_| {
        s.report.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.findings
                        .iter()
                        .map(|f| Row {
                            level: f.level,
                            check: f.check.as_str(),
                            severity: f.severity,
                            plant: f.plant_id.as_deref().unwrap_or("").to_string(),
                            date: f.date.map(|d| d.to_string()).unwrap_or_default(),
                            file: f.source_file.as_deref().unwrap_or("").to_string(),
                            sheet: f.at.sheet.as_deref().unwrap_or("").to_string(),
                            row: f.at.row.map(|r| r.to_string()).unwrap_or_default(),
                            col: f.at.col.map(col_letters).unwrap_or_default(),
                            message: f.message.clone(),
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let counts = Memo::new(move |_| {
        let mut m: BTreeMap<(u8, Severity), usize> = BTreeMap::new();
        all.with(|rows| {
            for r in rows {
                *m.entry((r.level, r.severity)).or_insert(0) += 1;
            }
        });
        m
    });
    let plants = Memo::new(move |_| {
        let mut v: Vec<String> = all.with(|rows| {
            rows.iter()
                .map(|r| r.plant.clone())
                .filter(|p| !p.is_empty())
                .collect()
        });
        v.sort();
        v.dedup();
        v
    });
    let shown = Memo::new(move |_| {
        let (l, sv, p, c) = (level.get(), severity.get(), plant.get(), check.get());
        // Picking infos as the severity, or a check, asks for them too.
        let info = show_info.get() || sv == Severity::Info.as_str() || !c.is_empty();
        let mut v = all.with(|rows| {
            rows.iter()
                .filter(|r| l.is_empty() || r.level.to_string() == l)
                .filter(|r| sv.is_empty() || r.severity.as_str() == sv)
                .filter(|r| info || r.severity != Severity::Info)
                .filter(|r| p.is_empty() || r.plant == p)
                .filter(|r| c.is_empty() || r.check == c)
                .cloned()
                .collect::<Vec<_>>()
        });
        // Grouped by plant-day (findings without one last), the core's
        // order kept within a day.
        v.sort_by(|a, b| {
            (a.plant.is_empty() || a.date.is_empty(), &a.plant, &a.date).cmp(&(
                b.plant.is_empty() || b.date.is_empty(),
                &b.plant,
                &b.date,
            ))
        });
        v
    });
    Effect::new(move |_| {
        shown.track();
        page.set(0);
    });
    let pages = move || shown.with(|v| v.len().div_ceil(PAGE).max(1));
    let visible = move || {
        let p = page.get();
        shown.with(|v| {
            let counts = day_counts(v);
            let mut prev: Option<(&str, &str)> = if p == 0 {
                None
            } else {
                v.get(p * PAGE - 1)
                    .map(|r| (r.plant.as_str(), r.date.as_str()))
            };
            v.iter()
                .skip(p * PAGE)
                .take(PAGE)
                .map(|r| {
                    let day = (r.plant.as_str(), r.date.as_str());
                    let head = (prev != Some(day)).then(|| group_title(r, &counts));
                    prev = Some(day);
                    (head, r.clone())
                })
                .enumerate()
                .collect::<Vec<_>>()
        })
    };
    let select = move |label: &'static str,
                       sig: RwSignal<String>,
                       opts: Vec<(String, String)>,
                       testid: &'static str| {
        view! {
            <label>
                {label}
                <select data-testid=testid on:change=move |ev| sig.set(event_target_value(&ev)) prop:value=move || sig.get()>
                    <option value="">"all"</option>
                    {opts.into_iter().map(|(v, t)| view! { <option value=v>{t}</option> }).collect_view()}
                </select>
            </label>
        }
    };
    view! {
        <section class="panel" aria-labelledby="qa-h">
            <div class="panel-head">
                <h2 id="qa-h">"QA/QC findings"</h2>
                <div class="actions">
                    <button class="button" data-testid="download-qa"
                        on:click=move |_| super::download_output(s, crew_mrv_core::export::Output::QaFindings, &crew_mrv_core::Filter::default())>"qa_findings.csv"</button>
                </div>
            </div>
            <table class="qa-counts" data-testid="qa-counts">
                <thead><tr><th scope="col">"Level"</th><th scope="col" class="num">"errors"</th><th scope="col" class="num">"warnings"</th><th scope="col" class="num">"info"</th></tr></thead>
                <tbody>
                    {(1u8..=5).map(|l| view! {
                        <tr>
                            <th scope="row">
                                <button class="link" on:click=move |_| { level.set(l.to_string()); }>{qa_level_title(l)}</button>
                            </th>
                            {Severity::ALL.into_iter().map(|sv| view! {
                                <td class="num">
                                    <button class=format!("link {}", sv.as_str())
                                        on:click=move |_| { level.set(l.to_string()); severity.set(sv.as_str().to_string()); }>
                                        {move || counts.with(|c| c.get(&(l, sv)).copied().unwrap_or(0))}
                                    </button>
                                </td>
                            }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <div class="filters">
                {select("Level ", level, (1..=5).map(|l: u8| (l.to_string(), qa_level_title(l).to_string())).collect(), "qa-level")}
                {select("Severity ", severity, Severity::ALL.iter().map(|s| (s.as_str().to_string(), s.as_str().to_string())).collect(), "qa-severity")}
                {move || select("Plant ", plant, plants.get().into_iter().map(|p| (p.clone(), p)).collect(), "qa-plant")}
                {select("Check ", check, ALL_CHECKS.iter().map(|c| (c.id.to_string(), format!("{} ({})", c.title, c.id))).collect(), "qa-check")}
                <label>
                    <input type="checkbox" data-testid="qa-show-info"
                        prop:checked=move || show_info.get()
                        on:change=move |ev| show_info.set(event_target_checked(&ev)) />
                    {move || format!(" Show infos ({})", counts.with(|c| c.iter().filter(|((_, sv), _)| *sv == Severity::Info).map(|(_, n)| n).sum::<usize>()))}
                </label>
                <span class="muted" data-testid="qa-shown">{move || format!("{} shown", shown.with(Vec::len))}</span>
            </div>
            <div class="table-wrap">
                <table class="findings stack" data-testid="qa-table">
                    <thead>
                        <tr>
                            <th scope="col">"Lvl"</th>
                            <th scope="col">"Severity"</th>
                            <th scope="col">"Check"</th>
                            <th scope="col">"Plant"</th>
                            <th scope="col">"Date"</th>
                            <th scope="col">"Where"</th>
                            <th scope="col">"Message"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=visible key=move |(i, (h, r))| (page.get_untracked() * PAGE + *i, h.clone(), r.message.clone()) let:item>
                            {item.1.0.clone().map(|h| view! {
                                <tr class="qa-group" data-testid="qa-group"><th scope="rowgroup" colspan="7">{h}</th></tr>
                            })}
                            <tr class=item.1.1.severity.as_str() data-testid="qa-row">
                                <td data-label="Level">{item.1.1.level}</td>
                                <td data-label="Severity"><span class=format!("sev {}", item.1.1.severity.as_str())>{item.1.1.severity.as_str()}</span></td>
                                <td data-label="Check"><code>{item.1.1.check}</code></td>
                                <td data-label="Plant">{item.1.1.plant.clone()}</td>
                                <td class="nowrap" data-label="Date">{item.1.1.date.clone()}</td>
                                <td class="where wide" data-label="Where">{where_text(&item.1.1)}</td>
                                <td class="wide">{item.1.1.message.clone()}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
            <div class="pager">
                <button class="button small" disabled=move || page.get() == 0 on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"‹ Previous"</button>
                <span>{move || format!("Page {} of {}", page.get() + 1, pages())}</span>
                <button class="button small" disabled=move || { page.get() + 1 >= pages() } on:click=move |_| page.update(|p| *p += 1)>"Next ›"</button>
            </div>
        </section>
    }
}

fn where_text(r: &Row) -> String {
    let mut parts = Vec::new();
    if !r.file.is_empty() {
        parts.push(r.file.clone());
    }
    if !r.sheet.is_empty() {
        parts.push(format!("sheet {}", r.sheet));
    }
    if !r.row.is_empty() {
        parts.push(format!("row {}", r.row));
    }
    if !r.col.is_empty() {
        parts.push(format!("column {}", r.col));
    }
    parts.join(", ")
}

/// Findings per plant-day among those shown: (errors, warnings, infos).
fn day_counts(rows: &[Row]) -> BTreeMap<(&str, &str), [usize; 3]> {
    let mut m: BTreeMap<(&str, &str), [usize; 3]> = BTreeMap::new();
    for r in rows {
        let i = match r.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        };
        if let Some(c) = m
            .entry((r.plant.as_str(), r.date.as_str()))
            .or_default()
            .get_mut(i)
        {
            *c += 1;
        }
    }
    m
}

fn group_title(r: &Row, counts: &BTreeMap<(&str, &str), [usize; 3]>) -> String {
    let head = if r.plant.is_empty() || r.date.is_empty() {
        "Not tied to a plant-day".to_string()
    } else {
        format!("{} {}", r.plant, r.date)
    };
    let c = counts
        .get(&(r.plant.as_str(), r.date.as_str()))
        .copied()
        .unwrap_or_default();
    let parts: Vec<String> = [("error", c[0]), ("warning", c[1]), ("info", c[2])]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(w, n)| format!("{n} {w}{}", if n == 1 { "" } else { "s" }))
        .collect();
    format!("{head} · {}", parts.join(", "))
}
